"""The requester a client with hooks uses: the plain one, watched at a few edges.

`HttpRequester` stays exactly as it is (a client without hooks pays nothing). This
subclass wraps each logical call (`on_call_start` / `on_call_end`), hands the plain code a
governor that reports waits and the start of each attempt, and overrides the two places
where an attempt ends (`_answer`, `_unanswered`): no extra coroutine frame per attempt.
The call in progress is a context variable, so the events of concurrent calls never mix
(each call runs on its caller's task, retries included).

Only what some hook watches is done (`HookSet.wants`): an event nobody watches is never
built, the `Call` is built on first use, and a wrapper nobody needs is not installed.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ._auth import ApiKey
from ._errors import APIStatusError
from ._requester import HttpRequester
from ._transport import RawRequest, RawResponse
from ._types import Priority
from .governor import Governor, Permit
from .hooks import (
    Call,
    CallEnded,
    HookSet,
    RequestSent,
    ResponseReceived,
    Retried,
    Throttled,
    Waited,
)

__all__ = ["ObservedRequester"]

_PRIORITIES = {int(p): p for p in Priority}


def _priority(value: int) -> Priority:
    found = _PRIORITIES.get(value)
    return found if found is not None else Priority(value)  # (a dict hit: no enum call)


class _Progress:
    """What one logical call has done so far; its `Call` is built on first use."""

    __slots__ = (
        "_call",
        "attempts",
        "failure",
        "key_id",
        "method",
        "operation",
        "owner",
        "priority",
        "retries",
        "started",
        "status",
        "waited",
    )

    def __init__(
        self, owner: ObservedRequester, method: str, operation: str | None, priority: int
    ) -> None:
        self.owner = owner
        self.method = method
        self.operation = operation
        self.priority = priority
        self.key_id = owner._key_id  # the key the call began on, even if rotated since
        self._call: Call | None = None
        self.attempts = 0  # attempts ended so far
        self.retries = 0
        self.waited = 0.0
        self.started = 0.0  # when the current attempt got its permit
        self.status: int | None = None
        self.failure: str | None = None  # the last attempt's error type

    @property
    def call(self) -> Call:
        call = self._call
        if call is None:
            owner, operation = self.owner, self.operation
            call = self._call = Call(
                self.method.upper(),
                owner._route_of(operation) if operation is not None else None,
                operation,
                owner._server_address,
                owner._server_port,
                _priority(self.priority),
                self.key_id,
            )
        return call


_CURRENT: contextvars.ContextVar[_Progress | None] = contextvars.ContextVar(
    "gu1_async_call", default=None
)


def _error_type(status: int) -> str | None:
    return str(status) if status >= 400 else None


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class _ObservingGovernor:
    """The key's governor, reporting waits and the start of each attempt.

    `try_acquire` is the governor's own bound method unless an attempt's start matters
    (a hook watches `on_request_sent`, `on_response` or `on_retry`).
    """

    def __init__(self, governor: Governor, hooks: HookSet, now: Callable[[], float]) -> None:
        self._governor = governor
        self._hooks = hooks
        self._now = now
        self._gov_now = governor.clock.monotonic
        self._sent = hooks.wants("on_request_sent")
        self._timed = hooks.wants("on_response")
        self._retried = hooks.wants("on_retry")
        self._waited = hooks.wants("on_wait")
        ended = hooks.wants("on_call_end")  # it sums retries and waits
        if not (self._sent or self._timed or self._retried or ended):
            # Nothing to do at an attempt's start: the governor's own method, no extra call.
            self.try_acquire = governor.try_acquire  # type: ignore[method-assign]
        self._waits = self._waited or ended
        if not (self._waits or self._sent or self._timed):
            self.acquire = governor.acquire  # type: ignore[method-assign]

    def _starting(self, progress: _Progress) -> None:
        """An attempt got its permit and goes on the wire now."""
        if self._sent:
            self._hooks.on_request_sent(RequestSent(progress.call, progress.attempts + 1))
        if self._timed:
            progress.started = self._now()

    def try_acquire(self, priority: Priority) -> Permit | None:
        # Every attempt starts here: after a failed one, this one is a retry.
        progress = _CURRENT.get()
        permit = self._governor.try_acquire(priority)
        if progress is None:
            return permit
        if progress.failure is not None:
            progress.retries += 1
            if self._retried:
                self._hooks.on_retry(
                    Retried(progress.call, progress.attempts + 1, progress.failure)
                )
            progress.failure = None
        if permit is not None:
            self._starting(progress)
        return permit

    async def acquire(self, priority: Priority, max_wait: float | None = None) -> Permit:
        asked = self._gov_now()
        permit = await self._governor.acquire(priority, max_wait)
        progress = _CURRENT.get()
        if progress is not None:
            if self._waits:
                # Granted at `taken_at` on the governor's clock: the wait it measured.
                waited = max(0.0, permit.taken_at - asked)
                progress.waited += waited
                if self._waited:
                    self._hooks.on_wait(Waited(progress.call, _priority(priority), waited))
            self._starting(progress)
        return permit


class ObservedRequester(HttpRequester):
    """`HttpRequester` reporting to hooks; built by the client only when hooks watch calls."""

    def __init__(
        self,
        *,
        hooks: HookSet,
        route_of: Callable[[str], str | None],
        key_id: Callable[[ApiKey], str],
        **kwargs: Any,
    ) -> None:
        self._hooks = hooks
        self._route_of = route_of
        self._key_id_of = key_id
        self._now = kwargs["clock"].monotonic
        self._server_address, self._server_port = _address(kwargs["base_url"])
        self._call_start = hooks.on_call_start if hooks.wants("on_call_start") else None
        self._call_end = hooks.on_call_end if hooks.wants("on_call_end") else None
        self._response = hooks.wants("on_response")
        self._throttled = hooks.wants("on_throttled")
        # Answers matter to these events (the status, the failure a retry follows).
        self._ends = self._response or self._throttled or hooks.wants("on_retry")
        self._ends = self._ends or self._call_end is not None
        super().__init__(**kwargs)

    def use_key(self, api_key: ApiKey, governor: Governor, /, *rest: Any) -> None:
        # `rest`: the other arguments of `HttpRequester.use_key`, untouched.
        self._key_id = self._key_id_of(api_key)
        watched: Any = _ObservingGovernor(governor, self._hooks, self._now)
        super().use_key(api_key, watched, *rest)

    async def send(
        self, method: str, operation: str | None, priority: Priority | None, /, *request: Any
    ) -> Any:
        # `request`: the path and the rest of `HttpRequester.send`'s arguments, untouched.
        progress = _Progress(
            self, method, operation, self._priority if priority is None else priority
        )
        token = _CURRENT.set(progress)
        if self._call_start is not None:
            self._call_start(progress.call)
        call_end = self._call_end
        started = self._now() if call_end is not None else 0.0
        error: str | None = None
        try:
            return await super().send(method, operation, priority, *request)
        except BaseException as exc:
            if call_end is not None:
                error = (
                    str(exc.status)
                    if isinstance(exc, APIStatusError) and exc.status
                    else type(exc).__name__
                )
            raise
        finally:
            _CURRENT.reset(token)
            if call_end is not None:
                call_end(
                    CallEnded(
                        progress.call,
                        self._now() - started,
                        progress.attempts,
                        progress.retries,
                        progress.waited,
                        progress.status,
                        error,
                    )
                )

    def _answer(self, raw: RawRequest, path: str, permit: Permit, response: RawResponse) -> Any:
        progress = _CURRENT.get() if self._ends else None
        if progress is not None:
            status = response.status
            progress.attempts += 1
            progress.status, progress.failure = status, _error_type(status)
            hooks = self._hooks
            if self._response:
                hooks.on_response(
                    ResponseReceived(
                        progress.call,
                        progress.attempts,
                        status,
                        self._now() - progress.started,
                        progress.failure,
                    )
                )
            if status == 429 and self._throttled:
                retry_after = _seconds(response.header("Retry-After"))
                hooks.on_throttled(Throttled(progress.call, progress.attempts, retry_after))
        return super()._answer(raw, path, permit, response)

    def _unanswered(self, permit: Permit, exc: BaseException, raw: RawRequest, path: str) -> None:
        progress = _CURRENT.get() if self._ends else None
        if progress is not None:
            progress.attempts += 1
            progress.status, progress.failure = None, type(exc).__name__
            if self._response:
                self._hooks.on_response(
                    ResponseReceived(
                        progress.call,
                        progress.attempts,
                        None,
                        self._now() - progress.started,
                        progress.failure,
                    )
                )
        super()._unanswered(permit, exc, raw, path)


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
