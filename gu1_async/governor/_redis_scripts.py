"""The RedisStore's Lua scripts, one file per operation, read as written.

Each script is `_lua/<operation>.lua`, to be read top to bottom. The parts several scripts
share (the arguments and the state's layout, its decoding, the windows, the waits, the
fleet queue, the write-back) live in `_lua/lib/`; a script names those it uses, where it
uses them, on a line `--! include a b ...`, which stands for `_lua/lib/a.lua`,
`_lua/lib/b.lua`, ... in that order. That is the whole loader: no templating, no other
directive. Each script names only the parts it needs, because each function a script
defines costs every call.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["script_source"]

_INCLUDE = "--! include "


def script_source(operation: str, *, fast: bool = True, sharded: bool = False) -> str:
    """`_lua/<operation>.lua` with its `--! include` lines filled in.

    `fast=False` leaves the take's uncontended path (`lib/fast.lua`) out (tests compare
    the two); `sharded=True` publishes grants with SPUBLISH (Redis Cluster: the channel is
    in the keys' slot, and only the slot's node has its subscribers).
    """
    lua = resources.files(__package__).joinpath("_lua")
    lib = lua.joinpath("lib")
    text = lua.joinpath(f"{operation}.lua").read_text(encoding="utf-8")
    segments: list[str] = []
    own: list[str] = []
    for line in text.splitlines(keepends=True):
        if not line.startswith(_INCLUDE):
            own.append(line)
            continue
        if own:
            segments.append("".join(own))
            own = []
        for part in line[len(_INCLUDE) :].split():
            if part != "fast" or fast:
                segments.append(lib.joinpath(f"{part}.lua").read_text(encoding="utf-8"))
    if own:
        segments.append("".join(own))
    source = "\n".join(segments)  # a blank line between parts
    if sharded:
        source = source.replace("local PUBLISH = 'PUBLISH'", "local PUBLISH = 'SPUBLISH'", 1)
    return source
