"""The requester a client with hooks uses: the plain one, watched from its two edges.

`HttpRequester` stays exactly as it is (a client without hooks pays nothing): this
subclass hands it a transport and a governor that report what passes through them, and
wraps each logical call in `on_call_start` / `on_call_end`. The call in progress is a
context variable, so the events of concurrent calls never mix (each call runs on its
caller's task, retries included).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ._auth import ApiKey
from ._errors import APIStatusError
from ._ratelimit_headers import RateLimitReader
from ._requester import HttpRequester
from ._retry import RetryBudget
from ._transport import AiohttpTransport, RawRequest, RawResponse
from ._types import JSON, FormFields, Params, Priority, Timeout
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


class _Progress:
    """What one logical call has done so far."""

    __slots__ = ("attempts", "call", "failure", "retries", "status", "waited")

    def __init__(self, call: Call) -> None:
        self.call = call
        self.attempts = 0
        self.retries = 0
        self.waited = 0.0
        self.status: int | None = None
        self.failure: str | None = None  # the last attempt's error type


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


class _ObservingTransport:
    """The transport, reporting each attempt (sent, answered, 429, retried)."""

    def __init__(self, transport: AiohttpTransport, hooks: HookSet, now: Callable[[], float]):
        self._transport = transport
        self._hooks = hooks
        self._now = now
        self.default_timeout = transport.default_timeout
        self.prepare_headers = transport.prepare_headers
        self.encoded_url = transport.encoded_url
        self.header_key = transport.header_key

    async def send(self, request: RawRequest) -> RawResponse:
        progress = _CURRENT.get()
        if progress is None:  # not inside a call (cannot happen through the requester)
            return await self._transport.send(request)
        hooks, call = self._hooks, progress.call
        progress.attempts += 1
        attempt = progress.attempts
        if hooks.wants_request_sent:
            hooks.on_request_sent(RequestSent(call, attempt))
        started = self._now()
        try:
            response = await self._transport.send(request)
        except BaseException as exc:
            progress.status, progress.failure = None, type(exc).__name__
            hooks.on_response(
                ResponseReceived(call, attempt, None, self._now() - started, progress.failure)
            )
            raise
        status = response.status
        progress.status, progress.failure = status, _error_type(status)
        hooks.on_response(
            ResponseReceived(call, attempt, status, self._now() - started, progress.failure)
        )
        if status == 429:
            retry_after = _seconds(response.header("Retry-After"))
            hooks.on_throttled(Throttled(call, attempt, retry_after))
        return response


class _ObservingGovernor:
    """The key's governor, reporting every wait (a permit free at once is not a wait)."""

    def __init__(self, governor: Governor, hooks: HookSet) -> None:
        self._governor = governor
        self._hooks = hooks
        self._now = governor.clock.monotonic

    def try_acquire(self, priority: Priority) -> Permit | None:
        # Every attempt starts here: after a failed one, this one is a retry.
        progress = _CURRENT.get()
        if progress is not None and progress.failure is not None:
            progress.retries += 1
            self._hooks.on_retry(Retried(progress.call, progress.attempts + 1, progress.failure))
            progress.failure = None
        return self._governor.try_acquire(priority)

    async def acquire(self, priority: Priority, max_wait: float | None = None) -> Permit:
        asked = self._now()
        permit = await self._governor.acquire(priority, max_wait)
        progress = _CURRENT.get()
        if progress is not None:
            # Granted at `taken_at` on the governor's clock: the wait the governor measured.
            waited = max(0.0, permit.taken_at - asked)
            progress.waited += waited
            self._hooks.on_wait(Waited(progress.call, priority, waited))
        return permit


class ObservedRequester(HttpRequester):
    """`HttpRequester` reporting to hooks; built by the client only when hooks are given."""

    def __init__(
        self,
        *,
        hooks: HookSet,
        route_of: Callable[[str], str | None],
        key_id: Callable[[ApiKey], str],
        **kwargs: Any,
    ) -> None:
        transport: AiohttpTransport = kwargs["transport"]
        self._hooks = hooks
        self._route_of = route_of
        self._key_id_of = key_id
        self._now = kwargs["clock"].monotonic
        kwargs["transport"] = _ObservingTransport(transport, hooks, self._now)
        host, port = _address(kwargs["base_url"])
        self._server_address, self._server_port = host, port
        super().__init__(**kwargs)

    def use_key(
        self,
        api_key: ApiKey,
        governor: Governor,
        rate_limits: RateLimitReader,
        retry_budget: RetryBudget | None,
        on_operation: Callable[[str], None],
    ) -> None:
        self._key_id = self._key_id_of(api_key)
        watched: Any = _ObservingGovernor(governor, self._hooks)
        super().use_key(api_key, watched, rate_limits, retry_budget, on_operation)

    async def send(
        self,
        method: str,
        path: str,
        params: Params | None,
        json: JSON,
        files: FormFields | None,
        extra_headers: Mapping[str, str] | None,
        timeout: float | Timeout | None,
        priority: Priority | None,
        max_wait: float | None,
        operation: str | None = None,
    ) -> Any:
        hooks = self._hooks
        call = Call(
            method=method.upper(),
            route=self._route_of(operation) if operation is not None else None,
            operation=operation,
            server_address=self._server_address,
            server_port=self._server_port,
            priority=Priority(self._priority if priority is None else priority),
            key_id=self._key_id,
        )
        progress = _Progress(call)
        token = _CURRENT.set(progress)
        hooks.on_call_start(call)
        started = self._now()
        error: str | None = None
        try:
            return await super().send(
                method,
                path,
                params,
                json,
                files,
                extra_headers,
                timeout,
                priority,
                max_wait,
                operation,
            )
        except BaseException as exc:
            error = (
                str(exc.status)
                if isinstance(exc, APIStatusError) and exc.status
                else type(exc).__name__
            )
            raise
        finally:
            _CURRENT.reset(token)
            hooks.on_call_end(
                CallEnded(
                    call,
                    self._now() - started,
                    progress.attempts,
                    progress.retries,
                    progress.waited,
                    progress.status,
                    error,
                )
            )


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
