"""What `Gu1Client` wires together: the shared pool, one state per API key, the key slot
a rotation switches, and the requester (plain, or observed when hooks are given).

Kept out of `_client.py` so the client stays the public surface and nothing else.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import attrs

from ._auth import ApiKey
from ._checks import check_environment
from ._clock import Clock
from ._errors import ConfigurationError
from ._observed import ObservedRequester
from ._ratelimit_headers import RateLimitReader
from ._requester import HttpRequester
from ._retry import RetryBudget, RetryPolicy
from ._transport import AiohttpTransport
from ._types import Priority, Timeout
from .governor import Governor, Plan
from .governor._governor import DEFAULT_LEND
from .hooks import GovernorAttached, HookSet, StoreError
from .resources import get_endpoint

__all__ = [
    "KeyProvider",
    "KeySlot",
    "KeyState",
    "Pool",
    "Settings",
    "build_requester",
    "guard",
    "key_id",
]

_log = logging.getLogger("gu1_async")

KeyProvider = Callable[[], ApiKey | str | Awaitable[ApiKey | str]]
"""Where keys come from: a callable or async callable returning the current key."""


def key_id(api_key: ApiKey) -> str:
    """The key as events and metrics name it: 12 hex digits of its SHA-256, never the key."""
    return api_key.fingerprint[:12]


@attrs.frozen
class Settings:
    """Everything a view may change with `with_options()`."""

    api_key: ApiKey
    base_url: str
    organization_id: str | None
    timeout: Timeout
    priority: Priority
    max_wait: float | None
    retry: RetryPolicy
    plan: Plan
    reserve: float
    allow_environment_mismatch: bool
    lend: float = DEFAULT_LEND
    follow_redirects: bool = False


class KeyState:
    """What belongs to one API key: its governor and what its responses said."""

    def __init__(self, governor: Governor, retry: RetryPolicy) -> None:
        self.governor = governor
        self.rate_limits = RateLimitReader(header_key=AiohttpTransport.header_key)
        self.operations: set[str] = set()
        self.retry_budget = (
            RetryBudget(retry.budget_capacity) if retry.budget_capacity is not None else None
        )


class Pool:
    """The shared part: one transport, the hooks, and one governor per API key."""

    def __init__(
        self, transport: AiohttpTransport, clock: Clock, store: Any, hooks: HookSet | None
    ) -> None:
        self.transport = transport
        self.clock = clock
        self.store = store
        self.hooks = hooks
        self.keys: dict[str, KeyState] = {}
        if hooks is not None and hasattr(store, "add_error_listener"):
            report = hooks.on_store_error
            store.add_error_listener(
                lambda exc, fallback: report(StoreError(type(exc).__name__, fallback))
            )

    def key_state(self, settings: Settings) -> KeyState:
        fingerprint = settings.api_key.fingerprint
        state = self.keys.get(fingerprint)
        if state is None:
            store = self.store
            if store is not None and hasattr(store, "bind"):
                # A shared store keeps one budget per key: namespace it by the key's
                # environment and fingerprint (a hash — never the key itself).
                environment = settings.api_key.environment or "unknown"
                store = store.bind(f"{environment}:{fingerprint}")
            governor = Governor(
                settings.plan,
                clock=self.clock,
                reserve=settings.reserve,
                lend=settings.lend,
                max_wait=settings.max_wait,
                store=store,
            )
            state = self.keys[fingerprint] = KeyState(governor, settings.retry)
            if self.hooks is not None:
                self.hooks.on_governor(GovernorAttached(key_id(settings.api_key), governor))
        return state


class KeyUser(Protocol):
    """A client view that follows a key slot (Gu1Client)."""

    def _use_key(self, api_key: ApiKey) -> None: ...


class KeySlot:
    """One key that may rotate: the views that follow it and where new keys come from.

    `with_options()` without `api_key` shares its parent's slot, so a rotation switches
    the client and all such views at once; a view with its own key has its own slot.
    """

    def __init__(
        self,
        current: ApiKey,
        provider: KeyProvider | None,
        check: Callable[[ApiKey], None],
    ) -> None:
        self.current = current
        self.provider = provider
        self.check = check  # the environment guard, for every key rotated to
        self._views: weakref.WeakSet[Any] = weakref.WeakSet()
        self._refreshing: asyncio.Future[bool] | None = None

    def follow(self, view: KeyUser) -> None:
        self._views.add(view)

    def rotate(self, api_key: ApiKey) -> bool:
        """Switch every following view to `api_key`; False when it is the current one.

        Raises:
            ConfigurationError: the key is for another environment than the host.
        """
        if api_key == self.current:
            return False
        self.check(api_key)
        self.current = api_key
        for view in list(self._views):
            view._use_key(api_key)
        return True

    async def refresh(self) -> bool:
        """Ask the provider for the key; rotate if it changed. Concurrent callers share one
        provider call.

        Raises:
            ConfigurationError: no provider, or it returned something that is not a key.
        """
        if self.provider is None:
            raise ConfigurationError("this client has no key_provider to refresh the key from")
        if self._refreshing is not None:
            return await asyncio.shield(self._refreshing)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._refreshing = future
        try:
            key = await provide(self.provider)
            changed = self.rotate(key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(changed)
            return changed
        finally:
            self._refreshing = None

    async def refresh_after_expiry(self) -> bool:
        """A 401 EXPIRED on the current key: True when the provider had a new one."""
        if self.provider is None:
            return False
        try:
            return await self.refresh()
        except Exception as exc:  # the 401 is the error the caller sees
            _log.warning("gu1 key provider failed after a 401 EXPIRED: %s", type(exc).__name__)
            return False


async def provide(provider: KeyProvider) -> ApiKey:
    """One key from a provider, sync or async.

    Raises:
        ConfigurationError: the provider returned neither a str nor an ApiKey.
    """
    value = provider()
    if inspect.isawaitable(value):
        value = await value
    return checked_key(value)


def checked_key(value: object) -> ApiKey:
    if not isinstance(value, (str, ApiKey)):
        raise ConfigurationError(
            f"a key provider must return a str or ApiKey, got {type(value).__name__}"
        )
    return ApiKey.coerce(value)


def guard(settings: Settings) -> Callable[[ApiKey], None]:
    """The environment check for keys rotated to later (holds no reference to a client)."""
    base_url, allow = settings.base_url, settings.allow_environment_mismatch
    return lambda key: check_environment(key, base_url, allow)


def _route_of(operation: str) -> str | None:
    try:
        return get_endpoint(operation).path
    except KeyError:
        return None


def build_requester(
    pool: Pool,
    settings: Settings,
    state: KeyState,
    slot: KeySlot,
    on_operation: Callable[[str], None],
) -> HttpRequester:
    """The view's requester: the plain one, or the observed one when a hook watches calls."""
    # Accept and User-Agent are the pool's (the transport sends them); these are the view's.
    headers: dict[str, str] = {}
    if settings.organization_id:
        headers["X-Organization-ID"] = settings.organization_id
    common: dict[str, Any] = {
        "transport": pool.transport,
        "api_key": settings.api_key,
        "base_url": settings.base_url,
        "governor": state.governor,
        "clock": pool.clock,
        "retry": settings.retry,
        "retry_budget": state.retry_budget,
        "default_headers": headers,
        "timeout": settings.timeout,
        "priority": settings.priority,
        "max_wait": settings.max_wait,
        "rate_limits": state.rate_limits,
        "on_operation": on_operation,
        "follow_redirects": settings.follow_redirects,
        "on_key_expired": slot.refresh_after_expiry if slot.provider is not None else None,
    }
    if pool.hooks is None or not pool.hooks.watches_calls:
        return HttpRequester(**common)
    return ObservedRequester(hooks=pool.hooks, route_of=_route_of, key_id=key_id, **common)
