"""What to retry, how long to wait, and when to stop — as data, built into tenacity.

The only module that imports tenacity. Two kinds of failure are retried:

- **429** (`RateLimitError`): the governor has already been told (one shared pause for
  every task), so the retry itself waits for nothing extra: the next attempt simply
  queues for a governor slot again. Up to `max_rate_limit_retries`.
- **transient** (connection errors, timeouts, 502/503/504): exponential backoff with
  full jitter, up to `max_retries`, for idempotent methods — and for POST only when the
  request certainly never left (gu1 has no idempotency keys, gu1-api.md §6.1). A retry
  budget (botocore's "standard" mode) stops a failing server from being hammered.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import attrs
import tenacity

from ._errors import APIConnectionError, APITimeoutError, RateLimitError, ServerError

__all__ = ["RetryBudget", "RetryPolicy", "classify", "retry_failed_request"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
TRANSIENT_STATUSES = frozenset({502, 503, 504})
FailureKind = Literal["rate_limit", "transient"]
T = TypeVar("T")


@attrs.frozen
class RetryPolicy:
    """How a request is retried.

    Attributes:
        max_retries: retries after transient failures (connection, timeout, 502/503/504).
        max_rate_limit_retries: retries after a 429 (each waits for the governor's pause).
        backoff_base: first transient backoff ceiling, seconds; doubles per retry.
        backoff_max: the largest transient backoff ceiling, seconds.
        budget_capacity: the retry budget shared by a client's requests (0 disables retries
            of transient failures; None means no budget).
    """

    max_retries: int = attrs.field(default=2, validator=attrs.validators.ge(0))
    max_rate_limit_retries: int = attrs.field(default=8, validator=attrs.validators.ge(0))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.gt(0))
    backoff_max: float = attrs.field(default=20.0, validator=attrs.validators.gt(0))
    budget_capacity: int | None = 500


class RetryBudget:
    """A token bucket of retries: each retry spends, each success refunds a little.

    The numbers are botocore's standard mode: 500 tokens, 5 per retry, 10 per retry after a
    timeout, 1 back per success. A server failing every request exhausts it after ~100
    retries and the client then fails fast instead of tripling the load.
    """

    RETRY_COST = 5
    TIMEOUT_COST = 10
    SUCCESS_REFUND = 1

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.tokens = capacity

    def try_spend(self, *, timeout: bool) -> bool:
        cost = self.TIMEOUT_COST if timeout else self.RETRY_COST
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True

    def on_success(self) -> None:
        self.tokens = min(self.capacity, self.tokens + self.SUCCESS_REFUND)

    def __repr__(self) -> str:
        return f"RetryBudget({self.tokens}/{self.capacity})"


def classify(exc: BaseException, method: str) -> FailureKind | None:
    """Which kind of retryable failure `exc` is for this method, or None."""
    if isinstance(exc, RateLimitError):
        return "rate_limit"
    idempotent = method.upper() in IDEMPOTENT_METHODS
    if isinstance(exc, APIConnectionError):
        return "transient" if idempotent or exc.sent is False else None
    if isinstance(exc, ServerError) and exc.status in TRANSIENT_STATUSES:
        return "transient" if idempotent else None
    return None


class _RetryState:
    """The counters of one logical request's retries (per request, never shared)."""

    def __init__(self, policy: RetryPolicy, method: str, budget: RetryBudget | None) -> None:
        self._policy = policy
        self._method = method
        self._budget = budget
        self._counts: dict[FailureKind, int] = {"rate_limit": 0, "transient": 0}
        self._limits: dict[FailureKind, int] = {
            "rate_limit": policy.max_rate_limit_retries,
            "transient": policy.max_retries,
        }

    def should_retry(self, exc: BaseException) -> bool:
        kind = classify(exc, self._method)
        if kind is None or self._counts[kind] >= self._limits[kind]:
            return False
        if (
            kind == "transient"
            and self._budget is not None
            and not self._budget.try_spend(timeout=isinstance(exc, APITimeoutError))
        ):
            return False
        self._counts[kind] += 1
        return True

    def backoff(self, exc: BaseException | None) -> float:
        if exc is None or classify(exc, self._method) != "transient":
            return 0.0  # a 429's wait is the governor's shared pause, taken on re-acquire
        policy = self._policy
        ceiling = min(
            policy.backoff_max, policy.backoff_base * 2 ** (self._counts["transient"] - 1)
        )
        return _JITTER.uniform(0.0, ceiling)  # full jitter (AWS architecture blog)


# One generator for every request: seeding a new one from the OS costs more than the
# whole rest of a retry decision.
_JITTER = random.Random()


async def retry_failed_request(
    policy: RetryPolicy,
    first_failure: BaseException,
    attempt: Callable[[], Awaitable[T]],
    *,
    method: str,
    budget: RetryBudget | None,
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """Retry a request whose first attempt failed with `first_failure`, or re-raise it.

    The first attempt runs outside tenacity: most requests succeed at once, and building
    a retry loop for them was most of the SDK's per-request overhead.
    """
    state = _RetryState(policy, method, budget)
    if not state.should_retry(first_failure):
        raise first_failure
    await sleep(state.backoff(first_failure))

    def wait(retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        return state.backoff(outcome.exception() if outcome else None)

    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception(state.should_retry),
        wait=wait,
        stop=tenacity.stop_never,  # should_retry enforces the per-kind limits
        sleep=sleep,
        reraise=True,
    )
    return await retrying(attempt)
