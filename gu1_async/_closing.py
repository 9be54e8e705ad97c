"""`AsyncClosing`: `async with` for the objects that end by awaiting their `aclose()`."""

from __future__ import annotations

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """Leaving `async with obj:` awaits `obj.aclose()`, whether or not the block raised.

    The exception, if any, goes on up: `__aexit__` never swallows it.
    """

    __slots__ = ()

    async def aclose(self) -> None:
        """Release what the object holds; each subclass says what that is."""
        raise NotImplementedError

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
