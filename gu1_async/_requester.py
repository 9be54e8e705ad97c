"""One logical request: retry around [governor slot -> send -> observe -> map status].

Every attempt — retries included — takes its own governor slot, because every attempt
spends quota. Each response's headers go back to the governor as an `Observation` (a 429
becomes one shared pause for every waiting task), then the status becomes either decoded
JSON or an exception from the error tree.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ._auth import ApiKey
from ._checks import check_headers, check_keywords
from ._clock import Clock
from ._errors import (
    APIConnectionError,
    APIResponseError,
    ConfigurationError,
    ExpiredApiKeyError,
    Gu1Error,
    UnexpectedRedirectError,
)
from ._paths import escape_path, has_dot_segment, redirect_target
from ._ratelimit_headers import RateLimitReader
from ._redact import redact_path, sent, summary
from ._response import InvalidJSONBody, decode_json, error_from_response
from ._retry import RetryBudget, RetryPolicy, classify, retry_failed_request
from ._transport import AiohttpTransport, RawRequest, RawResponse, _path_of
from ._types import JSON, UNSET, FormFields, Params, Priority, RequestCall, Timeout
from .governor import Governor, Permit

if TYPE_CHECKING:
    from typing_extensions import Unpack


__all__ = ["HttpRequester"]

log = logging.getLogger("gu1_async")

_new_tuple = tuple.__new__
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_CALL_KEYS = frozenset(RequestCall.__annotations__)
_TEXT_TYPES = frozenset({"text/csv", "text/plain"})
_REQUEST_ID_HEADERS = ("x-request-id", "x-gu1-request-id", "x-correlation-id")
# A path of only these characters has no dot segment and nothing to escape (no '.', no
# '%', no '\\').
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/_~!$&'()*+,;=:@?-]*")
MAX_REDIRECTS = 5
"""Redirects followed for one GET, when `follow_redirects` is on."""


class HttpRequester:
    """Implements the `Requester` protocol over a transport, a governor and a retry policy."""

    def __init__(
        self,
        *,
        transport: AiohttpTransport,
        api_key: ApiKey,
        base_url: str,
        governor: Governor,
        clock: Clock,
        retry: RetryPolicy,
        retry_budget: RetryBudget | None,
        default_headers: Mapping[str, str],
        timeout: Timeout | None,
        priority: Priority,
        max_wait: float | None,
        rate_limits: RateLimitReader,
        on_operation: Callable[[str], None],
        follow_redirects: bool = False,
        on_key_expired: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        self._transport = transport
        # Encoded once: the transport sends every URL as it is given.
        self._base_url = transport.encoded_url(base_url.rstrip("/"))
        self._follow_redirects = follow_redirects
        self._clock = clock
        self._retry = retry
        self._default_headers = dict(default_headers)
        self._on_key_expired = on_key_expired
        self.use_key(api_key, governor, rate_limits, retry_budget, on_operation)
        # A view whose timeout differs from the pool's passes it on every request; the
        # pool's own timeout is already the session default.
        self._timeout = timeout if timeout != transport.default_timeout else None
        self._priority = priority
        self._max_wait = max_wait
        self._content_type_key = transport.header_key("Content-Type")

    def use_key(
        self,
        api_key: ApiKey,
        governor: Governor,
        rate_limits: RateLimitReader,
        retry_budget: RetryBudget | None,
        on_operation: Callable[[str], None],
        /,
    ) -> None:
        """Send new calls with `api_key`, within its own governor (key rotation).

        A call already started keeps the headers and governor it began with, retries
        included: it finishes on the old key.
        """
        # The view's headers and the key, prepared once: every request without extra headers
        # sends this same read-only mapping.
        self._headers = self._transport.prepare_headers(
            {**self._default_headers, **api_key.authorization_header()}
        )
        self._governor = governor
        self._rate_limits = rate_limits
        self._retry_budget = retry_budget
        self._on_operation = on_operation

    def request(
        self, method: str, path: str, **call: Unpack[RequestCall]
    ) -> Coroutine[Any, Any, Any]:
        """Send one logical request; await it for its decoded JSON body (None if empty).

        (A plain method returning `send()`'s coroutine: no coroutine frame of its own.)

        Raises:
            TypeError: a keyword `RequestCall` does not know (a resource method's misspelled
                option, `timout=`), named with the nearest known one, not dropped.
        """
        check_keywords(call, _CALL_KEYS, call=call.get("operation") or "request")
        return self.send(
            method,
            call.get("operation"),
            call.get("priority"),
            path,
            call.get("params"),
            call.get("json"),
            call.get("files"),
            call.get("extra_headers"),
            call.get("timeout"),
            call.get("max_wait", UNSET),
        )

    async def send(
        self,
        method: str,
        operation: str | None,
        priority: Priority | None,
        path: str,
        params: Params | None,
        json: JSON,
        files: FormFields | None,
        extra_headers: Mapping[str, str] | None,
        timeout: float | Timeout | None,
        max_wait: float | None,
        /,
    ) -> Any:
        """`request()` with every option spelled out (`Gu1Client.request` calls it directly).

        `priority=None` and `max_wait=UNSET` mean this requester's defaults. What names the
        call (method, operation, priority) comes first, so that `ObservedRequester` can
        read it and pass the rest through without restating this signature.
        """
        method = method.upper()
        if method not in _METHODS:
            raise ConfigurationError(f"unsupported HTTP method {method!r}")
        if not path.startswith("/"):
            raise ConfigurationError(f"path must start with '/', got {path!r}")
        path = _checked_path(path)
        headers: Mapping[str, str]
        if extra_headers:
            # Extras replace the view's headers; a malformed name or value, or one the client
            # owns (Authorization in any spelling), is refused before a slot is taken.
            check_headers(extra_headers)
            headers = {**self._headers, **extra_headers}
        else:
            headers = self._headers  # read-only; aiohttp merges it into a copy
        # Only a per-call timeout is passed down: the session already applies the client's,
        # and building a ClientTimeout for every request costs measurable CPU.
        timeout = Timeout.coerce(timeout) if timeout is not None else self._timeout
        # tuple.__new__ directly: a named tuple's own __new__ is one more Python call.
        raw = _new_tuple(
            RawRequest, (method, self._base_url + path, headers, params, json, files, timeout)
        )
        if priority is None:
            priority = self._priority
        if max_wait is UNSET:
            max_wait = self._max_wait
        if operation is not None:
            self._on_operation(operation)

        # The first attempt is spelled out here rather than awaited through `_exchange`:
        # every coroutine frame between the caller and aiohttp is crossed again each time
        # aiohttp suspends and resumes, and success on the first try is the common case.
        # Most requests find a slot free: `try_acquire` is synchronous, `acquire` waits.
        governor = self._governor
        try:
            permit = governor.try_acquire(priority) or await governor.acquire(priority, max_wait)
            try:
                response = await self._transport.send(raw)
            except BaseException as exc:
                self._unanswered(permit, exc, raw, path)
                raise
            result = self._answer(raw, path, permit, response)
        except UnexpectedRedirectError as exc:
            if not self._follow_redirects:
                raise
            result = await self._follow(raw, exc, priority, max_wait, governor)
        except Gu1Error as exc:
            if classify(exc, method) is None:
                if not isinstance(exc, ExpiredApiKeyError):
                    raise
                return await self._renewed(raw, path, exc, priority, max_wait)

            async def again() -> Any:
                return await self._exchange(raw, path, priority, max_wait, governor)

            result = await retry_failed_request(
                self._retry,
                exc,
                again,
                method=method,
                budget=self._retry_budget,
                sleep=self._clock.sleep,
            )
        budget = self._retry_budget
        if budget is not None and budget.tokens < budget.capacity:
            budget.on_success()
        return result

    async def _exchange(
        self,
        raw: RawRequest,
        path: str,
        priority: Priority,
        max_wait: float | None,
        governor: Governor,
        *,
        follow: bool = True,
    ) -> Any:
        """A governor slot, the request, and its answer read (or the permit ended unanswered).

        A retry's whole attempt, and one hop of `_follow` (`follow=False`: the hops are
        counted there). The first attempt in `send` spells the same steps out inline, to
        save a coroutine frame on the common path.
        """
        permit = governor.try_acquire(priority)
        if permit is None:
            permit = await governor.acquire(priority, max_wait)
        try:
            response = await self._transport.send(raw)
        except BaseException as exc:
            self._unanswered(permit, exc, raw, path)
            raise
        try:
            return self._answer(raw, path, permit, response)
        except UnexpectedRedirectError as exc:
            if not (follow and self._follow_redirects):
                raise
            return await self._follow(raw, exc, priority, max_wait, governor)

    async def _renewed(
        self,
        raw: RawRequest,
        path: str,
        expired: ExpiredApiKeyError,
        priority: Priority,
        max_wait: float | None,
    ) -> Any:
        """A 401 EXPIRED: tried once more on the key that replaced the one it carried.

        If the key has not changed yet, the key provider (if any) is asked for a new one.
        """
        if self._headers.get("Authorization") == raw.headers.get("Authorization") and (
            self._on_key_expired is None or not await self._on_key_expired()
        ):
            raise expired
        headers = {**raw.headers, "Authorization": self._headers["Authorization"]}
        return await self._exchange(
            raw._replace(headers=headers), path, priority, max_wait, self._governor
        )

    async def _follow(
        self,
        raw: RawRequest,
        redirect: UnexpectedRedirectError,
        priority: Priority,
        max_wait: float | None,
        governor: Governor,
    ) -> Any:
        """Follow same-origin GET redirects (opt-in), at most MAX_REDIRECTS of them.

        Each hop is a request gu1 counts, so each takes its own governor slot.

        Raises:
            UnexpectedRedirectError: a redirect that may not be followed (not a GET, another
                origin, no Location, a dot segment), or one past MAX_REDIRECTS.
        """
        for _ in range(MAX_REDIRECTS):
            target = redirect_target(raw.method, raw.url, redirect)
            # The Location carries its own query: the first request's params are not re-sent.
            raw = raw._replace(url=target, params=None)
            path = _path_of(target)
            try:
                return await self._exchange(raw, path, priority, max_wait, governor, follow=False)
            except UnexpectedRedirectError as again:
                redirect = again
        redirect.message = f"stopped after {MAX_REDIRECTS} redirects: {redirect.message}"
        raise redirect

    def _unanswered(self, permit: Permit, exc: BaseException, raw: RawRequest, path: str) -> None:
        """End the permit of an attempt that got no response (a method: hooks watch it)."""
        if isinstance(exc, APIConnectionError):
            if exc.sent is not False:
                permit.mark_sent()  # it may have reached gu1 and been counted
            log.debug("gu1 %s %s failed: %s", raw.method, redact_path(path), exc.message)
        else:
            # Cancelled mid-flight (or a bug): the request may have been counted; assume so.
            permit.mark_sent()
        permit.release()

    def _answer(self, raw: RawRequest, path: str, permit: Permit, response: RawResponse) -> Any:
        """Feed the response's rate-limit headers back, then its body or its error."""
        status = response.status
        observation = self._rate_limits.read(response.headers.get, status, self._clock.time())
        permit.observe(observation)  # an answered request was sent: this ends it as spent
        if log.isEnabledFor(logging.DEBUG):  # one call, not two, when debug logging is off
            # Personal data never reaches a log: see _redact.py.
            log.debug(
                "gu1 %s %s -> %d (remaining %s) sent %s got %s",
                raw.method,
                redact_path(path),
                status,
                observation.remaining,
                sent(raw.params, raw.json, raw.files),
                summary(response.body),
            )
        if status >= 300:  # gu1 does not redirect: a 3xx is an error too, unless followed
            raise error_from_response(
                status,
                response.body,
                method=raw.method,
                path=path,
                request_id=_request_id(response),
                snapshot=self._rate_limits.last(),
                location=response.headers.get("Location") if status < 400 else None,
            )
        content_type = response.headers.get(self._content_type_key)
        if content_type and content_type[:5].lower() == "text/" and _is_text(content_type):
            # CSV downloads (bulk-import failures) are text, not JSON.
            return response.body.decode("utf-8", errors="replace")
        try:
            return decode_json(response.body)
        except InvalidJSONBody as exc:
            raise APIResponseError(
                f"gu1 answered {response.status} with a body that {exc.reason}: {exc.excerpt!r}",
                expected="a JSON body",
                status=response.status,
                body_excerpt=exc.excerpt,
                method=raw.method,
                path=path,
            ) from None


@functools.lru_cache(maxsize=1024)
def _checked_path(path: str) -> str:
    """`path`, escaped where it must be; dot segments refused.

    Cached: most requests repeat a path, and a cache hit costs a seventh of the check.
    """
    if _PLAIN_PATH.fullmatch(path) is not None:
        return path
    if has_dot_segment(path.partition("?")[0]):
        raise ConfigurationError(
            f"path {path!r} has a '.' or '..' segment (or one that reads so once %-decoded, "
            "cut at ';' or split at '\\'), which a server or proxy may resolve to another "
            "path; it was not sent"
        )
    return escape_path(path)


def _is_text(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in _TEXT_TYPES


def _request_id(response: RawResponse) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = response.header(name)
        if value:
            return value
    return None
