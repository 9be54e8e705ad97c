"""The Lua scripts' loader: one file per operation, the shared parts put in where named."""

from __future__ import annotations

from importlib import resources

import pytest

from gu1_async.governor._redis_lua import _OPERATIONS
from gu1_async.governor._redis_scripts import script_source

LUA = resources.files("gu1_async.governor").joinpath("_lua")


def includes(operation: str) -> list[str]:
    text = LUA.joinpath(f"{operation}.lua").read_text(encoding="utf-8")
    return [
        part
        for line in text.splitlines()
        if line.startswith("--! include ")
        for part in line.split()[2:]
    ]


@pytest.mark.parametrize("operation", _OPERATIONS)
def test_each_script_is_its_own_file_with_the_shared_parts_it_names(operation: str) -> None:
    parts = includes(operation)
    assert parts[:1] == ["head"] and parts[-1] == "epilogue"  # the arguments ... write-back
    source = script_source(operation)
    assert "--! include" not in source
    own = LUA.joinpath(f"{operation}.lua").read_text(encoding="utf-8")
    for line in own.splitlines():
        assert line.startswith("--! include") or line in source
    position = 0
    for part in parts:  # each part, in the order named
        text = LUA.joinpath("lib", f"{part}.lua").read_text(encoding="utf-8")
        found = source.find(text, position)
        assert found >= position, part
        position = found + len(text)


def test_every_shared_part_is_used_and_fast_is_the_takes_alone() -> None:
    used = {part for operation in _OPERATIONS for part in includes(operation)}
    on_disk = {p.name.removesuffix(".lua") for p in LUA.joinpath("lib").iterdir()}
    assert used == on_disk
    fast = LUA.joinpath("lib", "fast.lua").read_text(encoding="utf-8")
    assert fast in script_source("take")
    assert fast not in script_source("take", fast=False)
    assert [op for op in _OPERATIONS if "fast" in includes(op)] == ["take"]


def test_sharded_scripts_publish_with_spublish() -> None:
    plain, sharded = script_source("end"), script_source("end", sharded=True)
    assert "local PUBLISH = 'PUBLISH'" in plain
    assert "local PUBLISH = 'SPUBLISH'" in sharded
