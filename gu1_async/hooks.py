"""Events the client reports, and `Hooks`, the typed interface that receives them.

Subclass `Hooks`, override the methods you need, and pass instances to
`Gu1Client(hooks=[...])`: Prometheus, structlog or StatsD see every logical call, each
attempt on the wire, each governor wait, each 429, each retry and each shared-store
failure, without OpenTelemetry (`gu1_async.otel` is itself one such subclass).

With no hooks, or hooks that watch no per-call event (only `on_governor`,
`on_store_error`), the client sends through the plain requester: not one extra
instruction per request. An event nobody watches is never built (`Hooks.watches`). With
hooks, each method runs inline on the caller's task, so keep them short and
non-blocking; an exception a hook raises is logged once per hook and method and never
reaches the request.

Events are plain attrs classes (mutable only because frozen ones cost five times as much
to build, on every request): read them, never change them; several hooks see the same
instance. Nothing in an event is secret or personal: the route is the registered template
(`/entities/{entity_id}`), never a filled-in path, query or body; a key appears only as
`key_id`, a short non-reversible hash.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from ._types import Priority

if TYPE_CHECKING:
    from .governor import Governor

__all__ = [
    "Call",
    "CallEnded",
    "GovernorAttached",
    "Hooks",
    "RequestSent",
    "ResponseReceived",
    "Retried",
    "StoreError",
    "Throttled",
    "Waited",
]

_log = logging.getLogger("gu1_async.hooks")


@attrs.define(eq=False)
class Call:
    """One logical call (a resource method or `client.request`), shared by its events.

    Compared by identity: use it as a dict key to keep per-call state (a span, a timer).
    """

    method: str
    """HTTP method, upper case."""
    route: str | None
    """The endpoint's path template (`/entities/{entity_id}`); None for `client.request`."""
    operation: str | None
    """The registry name (`"entities.get"`); None for `client.request`."""
    server_address: str
    """The API host (`api.gu1.ai`)."""
    server_port: int
    priority: Priority
    key_id: str
    """Which API key: the first 12 hex digits of its SHA-256 fingerprint, never the key."""

    @property
    def name(self) -> str:
        """`"GET /entities/{entity_id}"`, or the bare method when the route is unknown."""
        return f"{self.method} {self.route}" if self.route else self.method


@attrs.define
class RequestSent:
    """An attempt is going on the wire (its governor permit is held)."""

    call: Call
    attempt: int
    """1 for the first attempt, 2 for the first retry (or redirect hop), and so on."""


@attrs.define
class ResponseReceived:
    """An attempt ended: answered (`status`) or not (`status` None, `error_type` says why)."""

    call: Call
    attempt: int
    status: int | None
    duration: float
    """Seconds on the wire, from `RequestSent` to the answer or the failure."""
    error_type: str | None
    """None for a 1xx-3xx answer; the status as text (`"503"`) for an HTTP error; the
    exception's class name (`"APITimeoutError"`) when nothing came back."""


@attrs.define
class Waited:
    """The governor held an attempt before it could start."""

    call: Call
    priority: Priority
    seconds: float
    """From asking for a permit to being granted it (the governor's own clock)."""


@attrs.define
class Throttled:
    """gu1 answered 429 (the governor has paused every waiter)."""

    call: Call
    attempt: int
    retry_after: float | None
    """Seconds the answer asked for (`Retry-After`), when it said."""


@attrs.define
class Retried:
    """A failed attempt is about to be tried again."""

    call: Call
    attempt: int
    """The number of the attempt about to start (2 for the first retry)."""
    reason: str
    """What failed: the `error_type` of the previous attempt (`"429"`, `"503"`,
    `"APIConnectionError"`, `"401"` for a retry on a rotated key)."""


@attrs.define
class CallEnded:
    """A logical call returned or raised."""

    call: Call
    duration: float
    """Seconds from the call to its result or exception, governor waits included."""
    attempts: int
    retries: int
    waited: float
    """Seconds spent waiting for the governor, summed over attempts."""
    status: int | None
    """The last answer's status (None if nothing was answered)."""
    error_type: str | None
    """None on success; the status (`"404"`) or the exception's class name otherwise."""


@attrs.define
class StoreError:
    """The shared governor store (Redis) failed; it raised or fell back to local."""

    error_type: str
    """The failure's class name (`"ConnectionError"`)."""
    fallback: bool
    """True when the store answers from its local share meanwhile (`on_store_error="local"`)."""


@attrs.define
class GovernorAttached:
    """The client created the governor of an API key (at first use of the key)."""

    key_id: str
    governor: Governor
    """Read its `stats()` (windows, waiters) for gauges; the governor is never changed."""


class Hooks:
    """Receives the client's events; every method is a no-op until overridden."""

    def watches(self, name: str) -> bool:
        """Whether this hook wants the events of method `name` (`"on_response"`...).

        By default, the methods its class overrides. The client asks once, when it is
        built: an event no hook watches is never built, and with no per-call event
        watched the client sends through its plain requester. Override to turn events
        off per instance (`OpenTelemetryHooks(spans=False)` does).
        """
        return getattr(type(self), name) is not getattr(Hooks, name)

    def on_governor(self, event: GovernorAttached) -> None:
        """A key's governor exists (for observable gauges over `governor.stats()`)."""

    def on_call_start(self, call: Call) -> None:
        """A logical call begins, before its first governor permit."""

    def on_request_sent(self, event: RequestSent) -> None:
        """An attempt goes on the wire."""

    def on_response(self, event: ResponseReceived) -> None:
        """An attempt ended, answered or not."""

    def on_wait(self, event: Waited) -> None:
        """An attempt waited for the governor (not called when a permit was free)."""

    def on_throttled(self, event: Throttled) -> None:
        """A 429 came back."""

    def on_retry(self, event: Retried) -> None:
        """A failed attempt is retried."""

    def on_call_end(self, event: CallEnded) -> None:
        """A logical call returned or raised."""

    def on_store_error(self, event: StoreError) -> None:
        """The shared governor store failed."""


PER_CALL = (
    "on_call_start",
    "on_request_sent",
    "on_response",
    "on_wait",
    "on_throttled",
    "on_retry",
    "on_call_end",
)
"""The methods whose events belong to a call: watching none keeps the plain requester."""
_METHODS = ("on_governor", *PER_CALL, "on_store_error")


class HookSet:
    """Several `Hooks` as one: each event goes to the hooks that override its method.

    A hook that raises is logged (once per hook and method) and skipped: observability
    must never fail a request.
    """

    def __init__(self, hooks: Iterable[Hooks]) -> None:
        self.hooks: tuple[Hooks, ...] = tuple(hooks)
        for hook in self.hooks:
            if not isinstance(hook, Hooks):
                raise TypeError(f"hooks must be Hooks instances, got {type(hook).__name__}")
        self._reported: set[tuple[int, str]] = set()
        self._wanted: frozenset[str] = frozenset(
            name for name in _METHODS if any(hook.watches(name) for hook in self.hooks)
        )
        for name in _METHODS:
            # Only the watching hooks are called.
            handlers = tuple(getattr(hook, name) for hook in self.hooks if hook.watches(name))
            setattr(self, name, self._dispatcher(name, handlers))

    def __bool__(self) -> bool:
        return bool(self.hooks)

    def wants(self, name: str) -> bool:
        """Whether some hook watches method `name`: if not, its event is never built."""
        return name in self._wanted

    @property
    def watches_calls(self) -> bool:
        """Whether some hook watches a per-call event (else the plain requester is used)."""
        return not self._wanted.isdisjoint(PER_CALL)

    def _dispatcher(
        self, name: str, handlers: tuple[Callable[[Any], None], ...]
    ) -> Callable[[Any], None]:
        if len(handlers) == 1:  # the usual case: no loop
            (handler,) = handlers

            def dispatch_one(event: Any) -> None:
                try:
                    handler(event)
                except Exception as exc:  # a broken hook must not break the call
                    self._report(name, handler, exc)

            return dispatch_one

        def dispatch(event: Any) -> None:
            for handler in handlers:
                try:
                    handler(event)
                except Exception as exc:  # a broken hook must not break the call
                    self._report(name, handler, exc)

        return dispatch

    def _report(self, name: str, handler: Callable[[Any], None], exc: Exception) -> None:
        owner = getattr(handler, "__self__", handler)
        marker = (id(owner), name)
        if marker in self._reported:
            return
        self._reported.add(marker)
        _log.warning(
            "gu1 hook %s.%s raised %s; it is skipped for this event (reported once)",
            type(owner).__name__,
            name,
            type(exc).__name__,
        )

    # Set per instance in __init__; declared for the type checker.
    on_governor: Callable[[GovernorAttached], None]
    on_call_start: Callable[[Call], None]
    on_request_sent: Callable[[RequestSent], None]
    on_response: Callable[[ResponseReceived], None]
    on_wait: Callable[[Waited], None]
    on_throttled: Callable[[Throttled], None]
    on_retry: Callable[[Retried], None]
    on_call_end: Callable[[CallEnded], None]
    on_store_error: Callable[[StoreError], None]
