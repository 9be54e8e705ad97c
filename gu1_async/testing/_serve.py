"""`serve()`: run a FakeGu1Server standalone until cancelled (`gu1 fake-server` calls it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from ._keys import DEFAULT_KEY
from ._server import FakeGu1Server

__all__ = ["serve"]


async def serve(
    port: int = 8080,
    *,
    host: str = "127.0.0.1",
    plan: str | Iterable[tuple[int, float]] = "free",
    time_scale: float = 1.0,
    keys: Sequence[str] = (DEFAULT_KEY,),
    **knobs: Any,
) -> None:
    """Run a fake gu1 server until cancelled, printing its URL and its (fake) keys."""
    async with FakeGu1Server(
        host=host, port=port, plan=plan, time_scale=time_scale, default_key=None, **knobs
    ) as server:
        for key in keys:
            server.add_key(key)
        print(f"fake gu1 server listening on {server.url} (plan={plan}, time_scale={time_scale})")
        for key in keys:
            print(f"  API key (fake, all permissions): {key}")
        print("  press Ctrl+C to stop", flush=True)
        await asyncio.Event().wait()
