from __future__ import annotations

import pytest

from gu1_async._errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    RateLimitError,
    ServerError,
)
from gu1_async._retry import RetryBudget, RetryPolicy, classify, retry_failed_request


def server_error(status: int) -> ServerError:
    return ServerError("x", status=status)


@pytest.mark.parametrize(
    ("exc", "method", "kind"),
    [
        (RateLimitError("x", status=429), "POST", "rate_limit"),
        (APIConnectionError("x", sent=False), "POST", "transient"),
        (APIConnectionError("x", sent=None), "POST", None),
        (APIConnectionError("x", sent=None), "GET", "transient"),
        (APITimeoutError("x", sent=None), "PUT", "transient"),
        (server_error(503), "GET", "transient"),
        (server_error(503), "POST", None),
        (server_error(500), "GET", None),
        (BadRequestError("x", status=400), "GET", None),
        (ValueError("x"), "GET", None),
    ],
)
def test_classify(exc: BaseException, method: str, kind: str | None) -> None:
    assert classify(exc, method) == kind


def test_budget_spends_and_refunds() -> None:
    budget = RetryBudget(12)
    assert budget.try_spend(timeout=False)
    assert budget.tokens == 7
    assert not budget.try_spend(timeout=True)  # costs 10
    assert budget.try_spend(timeout=False)
    assert not budget.try_spend(timeout=False)
    budget.on_success()
    assert budget.tokens == 3


async def run(
    policy: RetryPolicy,
    failures: list[BaseException],
    method: str = "GET",
    budget: RetryBudget | None = None,
) -> tuple[list[float], int]:
    """Drive a request that fails with `failures` in turn, as the requester does."""
    sleeps: list[float] = []
    calls = 0

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        if failures:
            raise failures.pop(0)
        return "ok"

    try:
        await attempt()
    except Exception as exc:
        await retry_failed_request(policy, exc, attempt, method=method, budget=budget, sleep=sleep)
    return sleeps, calls


async def test_transient_backoff_is_jittered_exponential() -> None:
    policy = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_max=3.0)
    sleeps, calls = await run(policy, [server_error(503)] * 3)
    assert calls == 4
    assert len(sleeps) == 3
    for n, slept in enumerate(sleeps):
        assert 0 <= slept <= min(3.0, 2**n)


async def test_gives_up_after_max_retries() -> None:
    with pytest.raises(ServerError):
        await run(RetryPolicy(max_retries=1), [server_error(503)] * 3)


async def test_rate_limit_retries_do_not_sleep_in_tenacity() -> None:
    sleeps, calls = await run(RetryPolicy(), [RateLimitError("x", status=429)] * 3, "POST")
    assert calls == 4
    assert sleeps == [0.0, 0.0, 0.0]  # the governor's pause does the waiting


async def test_rate_limit_retries_are_bounded() -> None:
    with pytest.raises(RateLimitError):
        await run(RetryPolicy(max_rate_limit_retries=2), [RateLimitError("x", status=429)] * 5)


async def test_post_not_retried_when_maybe_sent() -> None:
    with pytest.raises(APIConnectionError):
        await run(RetryPolicy(), [APIConnectionError("reset", sent=None)], "POST")


async def test_post_retried_when_certainly_unsent() -> None:
    _, calls = await run(RetryPolicy(), [APIConnectionError("refused", sent=False)], "POST")
    assert calls == 2


async def test_empty_budget_stops_retries() -> None:
    budget = RetryBudget(4)  # less than one retry's cost
    with pytest.raises(ServerError):
        await run(RetryPolicy(max_retries=5), [server_error(503)], budget=budget)


def test_policy_validates() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
