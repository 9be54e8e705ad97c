"""The state the RedisStore's scripts store, read back for stats (`decode_state`).

`_lua/head.lua` documents the layout: struct-packed little-endian doubles, a head then one
record per window.
"""

from __future__ import annotations

import math
import struct

from ._window import WindowState

__all__ = ["State", "decode_state"]

_HEAD = struct.Struct("<12d")
_WINDOW = struct.Struct("<13d")
_VERSION = 6


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
    head = _HEAD.unpack_from(raw)
    version, epoch, pause_until, count = head[0], head[1], head[2], head[6]
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
