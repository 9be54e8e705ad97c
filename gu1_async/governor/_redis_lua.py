"""The RedisStore's scripts: their sources, one EVALSHA each, and the state they store.

The Lua files in `_lua/` port `_window.py` and `MemoryStore`; `_lua/prelude.lua` documents
the arguments and the state's layout, which `decode_state` reads back for stats.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import struct
from importlib import resources
from typing import Any

from ._window import WindowState

__all__ = ["NOPLAN", "Scripts", "State", "decode_state"]

NOPLAN = -1
"""A script's first reply item when the state is missing and no plan came with the call."""

_OPERATIONS = ("take", "estimate", "end", "record", "pause")
_HELPERS = {"take": "waits", "estimate": "waits", "end": "observe", "record": "observe"}
"""The helper file each operation needs (each function a script defines costs every call)."""


def _script_source(operation: str) -> str:
    lua = resources.files(__package__).joinpath("_lua")
    helpers = [_HELPERS[operation]] if operation in _HELPERS else []
    return "\n".join(
        lua.joinpath(f"{part}.lua").read_text(encoding="utf-8")
        for part in ("prelude", *helpers, operation, "epilogue")
    )


class Scripts:
    """The five scripts and their SHA1s; each is loaded into Redis on its first NOSCRIPT."""

    def __init__(self) -> None:
        from redis.client import NEVER_DECODE
        from redis.exceptions import NoScriptError

        self.source = {op: _script_source(op) for op in _OPERATIONS}
        self.sha = {
            op: hashlib.sha1(src.encode()).hexdigest().encode() for op, src in self.source.items()
        }
        # The state is binary: replies are never decoded, whatever decode_responses says.
        self._raw_reply = {NEVER_DECODE: True}
        self._no_script = NoScriptError

    async def call(
        self, client: Any, operation: str, key: bytes, args: tuple[str, ...], timeout: float | None
    ) -> list[Any]:
        """EVALSHA, loading the script on NOSCRIPT (first use, Redis restart, SCRIPT FLUSH).

        `client` is a `redis.asyncio.Redis` (its execute_command is untyped); `timeout`
        bounds the call when the client's sockets have none.
        """
        # Bytes skip redis-py's encoder (it costs per argument on every call).
        command = ("EVALSHA", self.sha[operation], b"1", key, *args)
        call = client.execute_command(*command, **self._raw_reply)
        try:
            if timeout is None:
                reply: list[Any] = await call
            else:
                reply = await asyncio.wait_for(call, timeout)
        except self._no_script:
            load = client.execute_command("SCRIPT", "LOAD", self.source[operation])
            again = client.execute_command(*command, **self._raw_reply)
            reply = await asyncio.wait_for(_chain(load, again), timeout)
        return reply


async def _chain(first: Any, second: Any) -> Any:
    await first
    return await second


_HEAD = struct.Struct("<7d")
_WINDOW = struct.Struct("<13d")
_VERSION = 4


class State:
    """The state as the scripts store it, its windows as `WindowState`s."""

    __slots__ = ("epoch", "in_flight", "pause_until", "windows")

    def __init__(
        self, epoch: float, pause_until: float, in_flight: int, windows: list[WindowState]
    ) -> None:
        self.epoch = epoch
        self.pause_until = pause_until
        self.in_flight = in_flight
        self.windows = windows


def decode_state(raw: bytes, in_flight: int) -> State:
    """Unpack the `s` field of a state hash (`in_flight`: its `n` field).

    The sliding count comes as its total only (the script brought it to its own `now`):
    it is not slid further, so figures aged past the answer stay on the safe side.

    Raises:
        ValueError: the state has another layout version.
    """
    version, epoch, pause_until, _sweep, _lmax, _expire, count = _HEAD.unpack_from(raw)
    if version != _VERSION:
        raise ValueError(f"unknown governor state version {version!r}")
    windows = []
    for i in range(int(count)):
        values = _WINDOW.unpack_from(raw, _HEAD.size + i * _WINDOW.size)
        limit, period, reserve, left, reset_at = values[:5]
        flags, ring_at, ring_total = values[5:10], values[10], values[11]
        w = WindowState(int(limit), period, reserve, 0.0)
        w.left = int(left)
        w.in_flight = in_flight
        w.reset_at = reset_at
        w.confirmed, w.blind_ok, w.probing, w.identified, w.anchored = (f == 1 for f in flags)
        w.ring_at = int(ring_at)
        w.ring_next = math.inf
        w.ring_total = int(ring_total)
        windows.append(w)
    return State(epoch, pause_until, in_flight, windows)
