"""Fixed windows per key: headers on every response, 429 past the limit, resets on scaled time."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from gu1_async.testing import DEFAULT_KEY, PLANS, FakeGu1Server
from gu1_async.testing._ratelimit import FixedWindowLimiter

from .conftest import WallClock, auth


def _reset(headers: CIMultiDictProxy[str]) -> float:
    value = headers["X-RateLimit-Reset"]
    assert value.endswith("Z")
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


async def _statuses(session: aiohttp.ClientSession, url: str, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        async with session.get(f"{url}/entities", headers=auth()) as response:
            statuses.append(response.status)
    return statuses


def test_plans_match_the_documented_numbers() -> None:
    assert PLANS["free"] == ((100, 3600.0), (10_000, 86_400.0))
    assert PLANS["starter"] == ((300, 3600.0), (100_000, 86_400.0))
    assert PLANS["professional"] == ((1_200, 3600.0), (500_000, 86_400.0))


def test_limiter_refuses_past_the_limit_without_counting() -> None:
    limiter = FixedWindowLimiter([(2, 10.0)])
    assert [limiter.acquire(0.0).allowed for _ in range(3)] == [True, True, False]
    assert limiter.usage(1.0)[0].used == 2
    refused = limiter.acquire(4.0)
    assert refused.retry_after == pytest.approx(6.0)
    assert limiter.acquire(10.0).allowed


def test_limiter_windows_are_aligned_to_the_first_request() -> None:
    limiter = FixedWindowLimiter([(5, 10.0)])
    first = limiter.acquire(103.0)
    assert first.shown.resets_at == 113.0
    # 25 s later the window has rolled twice; it stays on the 10 s grid from 103.
    assert limiter.acquire(128.0).shown.resets_at == 133.0


def test_limiter_time_scale_shortens_windows() -> None:
    limiter = FixedWindowLimiter([(1, 3600.0)], time_scale=3600.0)
    assert limiter.acquire(0.0).shown.resets_at == pytest.approx(1.0)
    assert not limiter.acquire(0.5).allowed
    assert limiter.acquire(1.0).allowed


def test_headers_show_the_most_constrained_window() -> None:
    limiter = FixedWindowLimiter([(10, 60.0), (3, 3600.0)])
    shown = limiter.acquire(0.0).shown
    assert (shown.limit, shown.remaining) == (3, 2)
    # Equal remaining: the shorter period wins.
    tie = FixedWindowLimiter([(5, 3600.0), (5, 60.0)]).acquire(0.0).shown
    assert tie.period == 60.0


def test_when_several_windows_are_exhausted_the_latest_reset_is_shown() -> None:
    limiter = FixedWindowLimiter([(1, 60.0), (1, 3600.0)])
    limiter.acquire(0.0)
    refused = limiter.acquire(1.0)
    assert refused.shown.period == 3600.0
    assert refused.retry_after == pytest.approx(3599.0)


async def test_every_response_carries_headers_and_remaining_counts_down(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(plan=[(3, 60)], clock=clock) as server:
        remaining = []
        for _ in range(3):
            async with session.get(f"{server.url}/entities", headers=auth()) as response:
                assert response.headers["X-RateLimit-Limit"] == "3"
                remaining.append(response.headers["X-RateLimit-Remaining"])
                assert _reset(response.headers) == pytest.approx(clock.now + 60, abs=0.001)
                date = email.utils.parsedate_to_datetime(response.headers["Date"])
                assert date.timestamp() == pytest.approx(clock.now, abs=1)
        assert remaining == ["2", "1", "0"]


async def test_429_past_the_limit_consumes_nothing_and_window_resets(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(plan=[(3, 3600)], time_scale=3600, clock=clock) as server:
        assert await _statuses(session, server.url, 5) == [200, 200, 200, 429, 429]
        async with session.get(f"{server.url}/entities", headers=auth()) as response:
            assert response.status == 429
            assert await response.json() == {
                "success": False,
                "error": {
                    "code": "RATE_LIMIT_EXCEEDED",
                    "message": "Rate limit exceeded; retry after the reset",
                },
            }
            assert response.headers["X-RateLimit-Remaining"] == "0"
            assert "Retry-After" not in response.headers
            # An hour of API time is one real second at time_scale=3600: Reset is real time.
            assert _reset(response.headers) == pytest.approx(clock.now + 1.0, abs=0.001)
        stats = server.stats(DEFAULT_KEY)
        assert (stats.requests, stats.rate_limited, stats.windows[0].used) == (6, 3, 3)
        clock.advance(1.0)
        assert await _statuses(session, server.url, 4) == [200, 200, 200, 429]
        assert server.stats(DEFAULT_KEY).by_status == {200: 6, 429: 4}


async def test_real_time_scale_window_resets(session: aiohttp.ClientSession) -> None:
    # A 0.2 s window on the real clock: asserts only counts, and retries until the reset.
    async with FakeGu1Server(plan=[(2, 720)], time_scale=3600) as server:
        statuses = await _statuses(session, server.url, 3)
        assert statuses.count(429) >= 1
        for _ in range(200):  # up to ~2 s; the window is 0.2 s
            async with session.get(f"{server.url}/entities", headers=auth()) as response:
                if response.status == 200:
                    break
            await asyncio.sleep(0.01)
        assert response.status == 200


async def test_retry_after_knob_adds_the_header(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(plan=[(1, 60)], retry_after=True, clock=clock) as server:
        await _statuses(session, server.url, 1)
        clock.advance(15)
        async with session.get(f"{server.url}/entities", headers=auth()) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "45"


async def test_force_429_burst(server: FakeGu1Server, session: aiohttp.ClientSession) -> None:
    server.force_429(2, retry_after=3)
    async with session.get(f"{server.url}/entities", headers=auth()) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == "0"
    assert await _statuses(session, server.url, 2) == [429, 200]
    stats = server.stats(DEFAULT_KEY)
    assert stats.rate_limited == 2
    assert stats.windows[0].used == 1  # forced 429s consume no quota


async def test_keys_have_separate_windows_and_plans(
    server: FakeGu1Server, session: aiohttp.ClientSession
) -> None:
    server.add_key("gk_test_tiny", plan=[(1, 60)])
    async with session.get(f"{server.url}/entities", headers=auth("gk_test_tiny")) as response:
        assert response.headers["X-RateLimit-Limit"] == "1"
    async with session.get(f"{server.url}/entities", headers=auth("gk_test_tiny")) as response:
        assert response.status == 429
    async with session.get(f"{server.url}/entities", headers=auth()) as response:
        assert response.status == 200
        assert response.headers["X-RateLimit-Limit"] == "100"
    assert server.stats().requests == 3


def test_invalid_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown plan"):
        FakeGu1Server(plan="platinum")
    with pytest.raises(ValueError, match="positive"):
        FakeGu1Server(plan=[(0, 60)])
