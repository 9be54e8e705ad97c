"""`Gu1Client`: the composition root. It builds and wires everything; it decides nothing.

One client owns one aiohttp connection pool. `with_options()` returns views that share
the pool (and, for the same API key, the same governor), so a web backend can serve
several gu1 organizations — one key each, one governor each — over one pool.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from . import _wiring, resources
from ._auth import ApiKey
from ._checks import check_base_url, check_environment, check_keywords, check_organization_id
from ._clock import Clock, LoopClock
from ._closing import AsyncClosing
from ._errors import ConfigurationError
from ._ratelimit_headers import RateLimitSnapshot
from ._retry import RetryPolicy
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, AiohttpTransport
from ._types import UNSET, Priority, RequestBody, Timeout
from ._version import __version__
from ._wiring import KeyProvider, KeySlot, Pool, Settings, build_requester
from .governor import Governor, Plan
from .governor._governor import DEFAULT_LEND
from .hooks import Hooks, HookSet

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_MAX_RESPONSE_SIZE", "Gu1Client"]

DEFAULT_BASE_URL = "https://api.gu1.ai"
BASE_URL_ENV_VAR = "GU1_BASE_URL"
_BODY_KEYS = frozenset(RequestBody.__annotations__)


class Gu1Client(AsyncClosing):
    """The asyncio client for the gu1 API.

    Use it as an async context manager (or call `aclose()`); one client holds one
    connection pool and should live as long as your application.

    Args:
        api_key: a gu1 API key (`gk_<env>_...`); defaults to the `GU1_API_KEY` variable.
        base_url: the API root; `GU1_BASE_URL`, else `https://api.gu1.ai`. Plain http is
            refused except on loopback (the fake server).
        organization_id: sent as `X-Organization-ID` when given.
        plan: the key's plan, a `Plan` or "free" / "starter" / "professional"; it seeds
            the governor, which the response headers then correct.
        timeout: seconds (total) or a `Timeout(total, connect)`; per call too.
        max_connections: size of the keep-alive connection pool.
        priority: the default `Priority` of this client's requests.
        max_wait: the default longest governor wait, seconds, before
            `QuotaExhaustedError` (None: wait as long as the quota requires).
        reserve: fraction of each window only INTERACTIVE requests may use.
        lend: the last fraction of a window in which unused reserve is lent to batch (0.1).
        retry: the `RetryPolicy`.
        clock: time source (inject a `FakeClock` in tests).
        store: a shared governor store (e.g. `RedisStore`); None keeps state in-process.
        allow_environment_mismatch: let a production key talk to a loopback or
            sandbox-named host (or a sandbox/test key to a production-named one), which is
            otherwise refused; see docs/keys.md.
        max_response_size: the largest response body read, in bytes after decompression
            (default 32 MiB); a larger one raises `ResponseTooLargeError` (see
            docs/security.md).
        follow_redirects: follow same-origin GET redirects (at most 5). Off by default:
            gu1's API does not redirect, and a redirect raises `UnexpectedRedirectError`.
        hooks: `Hooks` that receive the client's events (docs/observability.md); none
            by default, and then requests pay nothing for them.
        key_provider: a callable returning the current key (str or `ApiKey`), asked for
            the first key when `api_key` is None, by `refresh_key()`, and after a 401
            EXPIRED (docs/keys.md). An async one needs `api_key` for the first key, or
            `await Gu1Client.from_key_provider(...)`.

    Raises:
        MissingApiKeyError: no key was given and `GU1_API_KEY` is unset.
        ConfigurationError: a setting is invalid (bad key format, base URL with
            credentials, a key for another environment than the host, plan...).
    """

    entities: resources.Entities
    """Persons and companies: create, get, list, update, upsert, analyze..."""
    bulk_imports: resources.BulkImports
    """JSON and CSV bulk imports, mappings, jobs and their failures."""
    transactions: resources.Transactions
    """Transaction monitoring (KYT)."""
    events: resources.Events
    """User (behavioural / fraud) events."""
    devices: resources.Devices
    """Devices seen by user events."""
    kyc: resources.Kyc
    """KYC identity validations (document + selfie sessions)."""
    rules: resources.Rules
    """Rules and the rules-execution summary."""
    risk_matrices: resources.RiskMatrices
    """Risk matrices."""
    alerts: resources.Alerts
    """Alerts."""
    investigations: resources.Investigations
    """Investigations."""
    enrichment: resources.Enrichment
    """Enrichment / Marketplace integrations."""
    data_lists: resources.DataLists
    """Custom block/allow lists used by rules."""
    custom_schemas: resources.CustomSchemas
    """Custom schemas and field mappings."""

    def __init__(
        self,
        api_key: ApiKey | str | None = None,
        *,
        base_url: str | None = None,
        organization_id: str | None = None,
        plan: Plan | str = "free",
        timeout: float | Timeout = Timeout(),
        max_connections: int = 100,
        priority: Priority = Priority.INTERACTIVE,
        max_wait: float | None = None,
        reserve: float = 0.0,
        lend: float = DEFAULT_LEND,
        retry: RetryPolicy | None = None,
        clock: Clock | None = None,
        store: Any = None,
        allow_environment_mismatch: bool = False,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        follow_redirects: bool = False,
        hooks: Iterable[Hooks] = (),
        key_provider: KeyProvider | None = None,
    ) -> None:
        if api_key is None and key_provider is not None:
            if inspect.iscoroutinefunction(key_provider):
                raise ConfigurationError(
                    "an async key_provider cannot give the first key in __init__: pass "
                    "api_key too, or use 'await Gu1Client.from_key_provider(provider, ...)'"
                )
            api_key = _wiring.checked_key(key_provider())
        settings = Settings(
            api_key=ApiKey.coerce(api_key),
            base_url=check_base_url(
                base_url or os.environ.get(BASE_URL_ENV_VAR) or DEFAULT_BASE_URL
            ),
            organization_id=check_organization_id(organization_id),
            timeout=Timeout.coerce(timeout) or Timeout(),
            priority=Priority(priority),
            max_wait=max_wait,
            retry=retry or RetryPolicy(),
            plan=Plan.coerce(plan),
            reserve=reserve,
            lend=lend,
            allow_environment_mismatch=allow_environment_mismatch,
            follow_redirects=bool(follow_redirects),
        )
        check_environment(settings.api_key, settings.base_url, allow_environment_mismatch)
        transport = AiohttpTransport(
            max_connections=max_connections,
            timeout=settings.timeout,
            headers={"Accept": "application/json", "User-Agent": _user_agent()},
            max_response_size=max_response_size,
        )
        hook_list = tuple(hooks)
        pool = Pool(
            transport, clock or LoopClock(), store, HookSet(hook_list) if hook_list else None
        )
        slot = KeySlot(settings.api_key, key_provider, _wiring.guard(settings))
        self._init_view(pool, settings, slot, owner=True)

    @classmethod
    async def from_key_provider(cls, key_provider: KeyProvider, **options: Any) -> Gu1Client:
        """A client whose first key comes from `key_provider` (sync or async)."""
        return cls(await _wiring.provide(key_provider), key_provider=key_provider, **options)

    def _init_view(self, pool: Pool, settings: Settings, slot: KeySlot, *, owner: bool) -> None:
        self._pool = pool
        self._settings = settings
        self._owner = owner
        self._slot = slot
        self._state = state = pool.key_state(settings)
        self._requester = build_requester(pool, settings, state, slot, state.operations.add)
        slot.follow(self)
        self._attach_resources()

    def _use_key(self, api_key: ApiKey) -> None:
        """Send this view's new calls with `api_key` (its slot rotated)."""
        self._settings = settings = attrs.evolve(self._settings, api_key=api_key)
        self._state = s = self._pool.key_state(settings)
        self._requester.use_key(
            api_key, s.governor, s.rate_limits, s.retry_budget, s.operations.add
        )

    def _attach_resources(self) -> None:
        """Expose each API area as an attribute; all share this view's requester."""
        requester = self._requester
        self.entities = resources.Entities(requester)
        self.bulk_imports = resources.BulkImports(requester)
        self.transactions = resources.Transactions(requester)
        self.events = resources.Events(requester)
        self.devices = resources.Devices(requester)
        self.kyc = resources.Kyc(requester)
        self.rules = resources.Rules(requester)
        self.risk_matrices = resources.RiskMatrices(requester)
        self.alerts = resources.Alerts(requester)
        self.investigations = resources.Investigations(requester)
        self.enrichment = resources.Enrichment(requester)
        self.data_lists = resources.DataLists(requester)
        self.custom_schemas = resources.CustomSchemas(requester)

    # -- the low-level request ---------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | Timeout | None = None,
        priority: Priority | None = None,
        max_wait: float | None = UNSET,
        **body: Unpack[RequestBody],
    ) -> Coroutine[Any, Any, Any]:
        """Send a request to any gu1 path; await it for the decoded JSON body.

        Goes through the governor and the retry policy like every resource method.
        (A plain method that returns the requester's coroutine, so that no extra coroutine
        frame sits between the caller and the connection: `await client.request(...)`.)

        Args:
            method: HTTP method.
            path: path under the base URL, starting with "/" (e.g. "/entities").
            params: query parameters (None values are dropped, bools become true/false).
            json: the JSON body.
            files: multipart form fields (`FilePart` for files), instead of `json`.
            headers: extra headers (cannot replace Authorization).
            timeout: seconds or `Timeout` for this call.
            priority: `Priority` for this call.
            max_wait: longest governor wait for this call, seconds.

        Raises:
            APIStatusError: gu1 answered 4xx/5xx (a subclass per status), or a redirect
                (`UnexpectedRedirectError`) that was not followed.
            APIResponseError: the body is not JSON, is nested too deeply, or is larger than
                `max_response_size` (`ResponseTooLargeError`).
            APIConnectionError: the request could not be completed.
            QuotaExhaustedError: no slot within `max_wait`.
            ConfigurationError: `path` has a `.`/`..` segment in any spelling (see
                docs/security.md); it is not sent.
        """
        check_keywords(body, _BODY_KEYS, call="Gu1Client.request")
        params, json, files = body.get("params"), body.get("json"), body.get("files")
        # `None`: a raw request has no registry operation name.
        return self._requester.send(
            method, None, priority, path, params, json, files, headers, timeout, max_wait
        )

    # -- views ---------------------------------------------------------------------------

    def with_options(
        self,
        *,
        api_key: ApiKey | str | None = None,
        organization_id: str | None = UNSET,
        plan: Plan | str | None = None,
        timeout: float | Timeout | None = None,
        priority: Priority | None = None,
        max_wait: float | None = UNSET,
        reserve: float | None = None,
        retry: RetryPolicy | None = None,
    ) -> Gu1Client:
        """A view of this client with other settings, sharing its connection pool.

        With the same API key it shares the governor too; another `api_key` gets its own
        governor (one quota per key), created on first use and kept by the pool.
        """
        changes: dict[str, Any] = {}
        if api_key is not None:
            changes["api_key"] = ApiKey.coerce(api_key)
        if organization_id is not UNSET:
            changes["organization_id"] = check_organization_id(organization_id)
        if plan is not None:
            changes["plan"] = Plan.coerce(plan)
        if timeout is not None:
            changes["timeout"] = Timeout.coerce(timeout)
        if priority is not None:
            changes["priority"] = Priority(priority)
        if max_wait is not UNSET:
            changes["max_wait"] = max_wait
        if reserve is not None:
            changes["reserve"] = reserve
        if retry is not None:
            changes["retry"] = retry
        if "api_key" in changes and changes["api_key"] == self._settings.api_key:
            del changes["api_key"]  # the same key: the view follows this one's rotations
        settings = attrs.evolve(self._settings, **changes)
        check_environment(settings.api_key, settings.base_url, settings.allow_environment_mismatch)
        slot = self._slot
        if "api_key" in changes:
            slot = KeySlot(settings.api_key, None, _wiring.guard(settings))
        view = object.__new__(Gu1Client)
        view._init_view(self._pool, settings, slot, owner=False)
        return view

    # -- keys ----------------------------------------------------------------------------

    def rotate_key(self, api_key: ApiKey | str) -> None:
        """Send every new call with `api_key`, at once and without a restart.

        Calls in flight finish on the old key (a 401 EXPIRED on it is retried once on the
        new one). The new key gets its own governor: gu1 counts quotas per key. Views made
        by `with_options()` without their own `api_key` switch too.

        Raises:
            ConfigurationError: the key is malformed, or for another environment.
        """
        self._slot.rotate(ApiKey.coerce(api_key))

    async def refresh_key(self) -> bool:
        """Ask the `key_provider` for the key; rotate to it if it changed (True).

        Raises:
            ConfigurationError: the client has no key provider, or it gave a bad key.
        """
        return await self._slot.refresh()

    # -- state -------------------------------------------------------------------------------

    @property
    def governor(self) -> Governor:
        """The rate-limit governor of this client's API key."""
        return self._state.governor

    @property
    def rate_limit(self) -> RateLimitSnapshot | None:
        """What the latest response said about the quota (None before any response)."""
        return self._state.rate_limits.latest()

    @property
    def api_key(self) -> ApiKey:
        """The API key new calls use (its repr shows only prefix and last four characters)."""
        return self._settings.api_key

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def operations_used(self) -> frozenset[str]:
        """Names of the SDK operations this key has called so far (e.g. "entities.create")."""
        return frozenset(self._state.operations)

    def permissions_used(self) -> frozenset[str]:
        """The documented `resource:action` permissions the calls made so far need.

        Grant the key exactly these (least privilege, as gu1 recommends). Operations whose
        permission gu1 does not document add nothing; see docs/permissions.md.
        """
        needed: set[str] = set()
        for operation in self._state.operations:
            needed |= resources.permissions_for(operation)
        return frozenset(needed)

    # -- lifecycle -----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connection pool (shared with every view); idempotent."""
        await self._pool.transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if getattr(self, "_owner", False) and pool is not None and pool.transport.session_open:
            warnings.warn(
                "Gu1Client was not closed; use 'async with Gu1Client(...)' or "
                "'await client.aclose()'",
                ResourceWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"Gu1Client(api_key={s.api_key.masked!r}, base_url={s.base_url!r}, "
            f"plan={s.plan!r}, priority={s.priority.name})"
        )


def _user_agent() -> str:
    return f"gu1-async/{__version__}"
