"""Permits: the right to send one request, ended by a response or a release."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from .._types import Priority
from ._observation import Observation

__all__ = ["Permit", "PermitSource", "Slot"]


class PermitSource(Protocol):
    """What a permit needs of the governor that issued it (so this module needs no import
    of the governor's: the dependency runs one way, governor -> permit)."""

    def observe(self, observation: Observation) -> None: ...

    def _end(self, sent: bool, observation: Observation | None, taken_at: float) -> None: ...

    def _take_now(self, priority: Priority) -> Permit | None: ...

    async def acquire(
        self, priority: Priority, max_wait: float | None = None, *, deadline: float | None = None
    ) -> Permit: ...


_OPEN, _SENT, _ENDED = 0, 1, 2


class Permit:
    """The right to send one request; end it with `observe()` or `release()`."""

    __slots__ = ("_governor", "_state", "taken_at")

    def __init__(self, governor: PermitSource, taken_at: float) -> None:
        self._governor = governor
        self._state = _OPEN
        # When it was granted (the governor's clock): an answer to it is evidence about
        # the server as it was from then on (a refusal, of the window open at that time).
        self.taken_at = taken_at

    @property
    def sent(self) -> bool:
        """Whether `mark_sent()` was called (or a response observed)."""
        return self._state != _OPEN

    @property
    def ended(self) -> bool:
        """Whether the permit has been ended by `observe()` or `release()`."""
        return self._state == _ENDED

    def mark_sent(self) -> None:
        """The request is about to go on the wire: from now on it counts as spent."""
        if self._state == _OPEN:
            self._state = _SENT

    def observe(self, observation: Observation) -> None:
        """A response arrived (any status): apply what it says and end the permit."""
        if self._state == _ENDED:
            self._governor.observe(observation)  # still news about the quota
            return
        self._state = _ENDED
        self._governor._end(True, observation, self.taken_at)

    def release(self) -> None:
        """End the permit without a response (idempotent).

        Never sent: the token goes back. Sent but unanswered (e.g. the connection dropped):
        the server may have counted it, so it stays spent.
        """
        if self._state == _ENDED:
            return
        sent = self._state == _SENT
        self._state = _ENDED
        self._governor._end(sent, None, self.taken_at)

    def __repr__(self) -> str:
        state = ("open", "sent", "ended")[self._state]
        return f"<Permit {state}>"


class Slot:
    """`async with governor.slot() as permit:` — acquire, then release if still open."""

    __slots__ = ("_deadline", "_governor", "_max_wait", "_permit", "_priority")

    def __init__(
        self,
        governor: PermitSource,
        priority: Priority,
        max_wait: float | None,
        deadline: float | None = None,
    ) -> None:
        self._governor = governor
        self._priority = priority
        self._max_wait = max_wait
        self._deadline = deadline
        self._permit: Permit | None = None

    async def __aenter__(self) -> Permit:
        governor = self._governor
        # Skip a coroutine frame on the uncontended path: it is most calls.
        permit = governor._take_now(self._priority)
        if permit is None:
            permit = await governor.acquire(self._priority, self._max_wait, deadline=self._deadline)
        self._permit = permit
        return permit

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        permit = self._permit
        if permit is not None and permit._state != _ENDED:
            permit.release()
