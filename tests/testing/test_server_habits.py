"""The fake server's switches for other servers' habits: limiters, Date, Reset, dialects, plans."""

from __future__ import annotations

import aiohttp
import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from gu1_async._ratelimit_headers import parse_rate_limit_headers
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server
from gu1_async.testing._ratelimit import LIMITERS, KeyLimiter, RateDecision, WindowUsage
from gu1_async.testing._stamp import HeaderStyle

from .conftest import WallClock, auth

NEW_YEAR = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def allowed(limiter: KeyLimiter, *times: float) -> list[bool]:
    return [limiter.acquire(t).allowed for t in times]


# -- limiters -------------------------------------------------------------------------------


def test_limiter_kinds_are_listed_and_checked() -> None:
    assert LIMITERS == ("fixed", "fixed_first_hit", "moving", "leaky")
    with pytest.raises(ValueError, match="unknown limiter"):
        KeyLimiter([(1, 1.0)], kind="token_bucket")
    with pytest.raises(ValueError, match="unknown limiter"):
        FakeGu1Server(limiter="token_bucket")


def test_fixed_first_hit_opens_a_window_at_the_first_request_after_expiry() -> None:
    limiter = KeyLimiter([(2, 10.0)], kind="fixed_first_hit")
    assert allowed(limiter, 0.0, 1.0, 5.0) == [True, True, False]
    assert limiter.acquire(5.0).retry_after == pytest.approx(5.0)
    # Idle past the end: the window that opens at 13 ends at 23, not on a 10 s grid.
    first = limiter.acquire(13.0)
    assert first.allowed and first.shown.resets_at == 23.0
    fixed = KeyLimiter([(2, 10.0)])
    assert allowed(fixed, 0.0, 1.0) == [True, True]
    assert fixed.acquire(13.0).shown.resets_at == 20.0  # gu1's grid, for contrast


def test_moving_window_allows_at_most_limit_in_any_period() -> None:
    limiter = KeyLimiter([(2, 10.0)], kind="moving")
    assert allowed(limiter, 0.0, 6.0) == [True, True]
    refused = limiter.acquire(9.0)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(1.0)  # when the request at 0 leaves the log
    assert refused.shown.resets_at == 10.0
    assert allowed(limiter, 10.0, 11.0) == [True, False]
    assert limiter.acquire(11.0).shown.resets_at == 16.0
    assert limiter.usage(16.0)[0].remaining == 1


def test_leaky_bucket_spaces_requests_by_period_over_limit_in_whole_milliseconds() -> None:
    limiter = KeyLimiter([(20, 1.0)], kind="leaky")  # nginx rate=20r/s: one per 50 ms
    assert allowed(limiter, 100.0, 100.049) == [True, False]
    refused = limiter.acquire(100.0495)
    assert refused.retry_after == pytest.approx(0.0005)
    assert (refused.shown.remaining, refused.shown.resets_at) == (0, 100.05)
    assert allowed(limiter, 100.05, 100.07, 100.1) == [True, False, True]
    # nginx counts whole milliseconds: 49.6 real ms that span 50 clock ms are enough.
    coarse = KeyLimiter([(20, 1.0)], kind="leaky")
    assert allowed(coarse, 200.0009, 200.0505) == [True, True]
    # and truncates the rate: 3 r/s admits one per 334 ms, not 333.3.
    third = KeyLimiter([(3, 1.0)], kind="leaky")
    assert allowed(third, 0.0, 0.3335, 0.334) == [True, False, True]
    # A refused request does not move the bucket.
    assert allowed(KeyLimiter([(1, 1.0)], kind="leaky"), 0.0, 0.5, 0.999, 1.0) == [
        True,
        False,
        False,
        True,
    ]


def test_every_kind_counts_nothing_for_a_refusal_and_honours_time_scale() -> None:
    for kind in LIMITERS:
        limiter = KeyLimiter([(1, 3600.0)], time_scale=3600.0, kind=kind)
        assert allowed(limiter, 0.0, 0.5, 1.0) == [True, False, True], kind
        usage = limiter.usage(1.0)[0]
        assert (usage.limit, usage.period) == (1, 3600.0), kind


def test_set_windows_adopts_new_limits_at_once_and_keeps_counts() -> None:
    for kind in ("fixed", "fixed_first_hit", "moving"):
        limiter = KeyLimiter([(5, 10.0)], kind=kind)
        assert allowed(limiter, 0.0, 0.1, 0.2) == [True, True, True]
        limiter.set_windows([(2, 10.0)])  # downgrade below what is used: refused at once
        refused = limiter.acquire(0.3)
        assert not refused.allowed and refused.shown.limit == 2, kind
        limiter.set_windows([(10, 10.0), (1, 60.0)])  # upgrade, and a new window afresh
        assert allowed(limiter, 0.4, 0.5) == [True, False], kind
        assert [u.used for u in limiter.usage(0.5)] == [4, 1], kind


# -- header style ---------------------------------------------------------------------------

HOUR = WindowUsage(limit=100, period=3600.0, used=1, remaining=99, resets_at=NEW_YEAR + 30.25)
DAY = WindowUsage(limit=1000, period=86_400.0, used=1, remaining=999, resets_at=NEW_YEAR + 900)
DECISION = RateDecision(allowed=True, shown=HOUR, retry_after=0.0, usages=(HOUR, DAY))


def stamped(style: HeaderStyle, now: float = NEW_YEAR) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict()
    style.stamp(headers, DECISION, now)
    return headers


def test_date_modes() -> None:
    assert HeaderStyle().date(NEW_YEAR + 0.9) == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert HeaderStyle(date_mode="truncated").date(NEW_YEAR + 0.9) == (
        "Thu, 01 Jan 2026 00:00:00 GMT"
    )
    cached = HeaderStyle(date_mode="cached")  # refreshed every second, half a second in
    assert cached.date(NEW_YEAR + 0.3) == "Wed, 31 Dec 2025 23:59:59 GMT"  # a second stale
    assert cached.date(NEW_YEAR + 0.5) == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert cached.date(NEW_YEAR + 1.49) == "Thu, 01 Jan 2026 00:00:00 GMT"
    slow = HeaderStyle(date_mode="cached", date_refresh=2.0, date_phase=0.25)
    assert slow.date(NEW_YEAR + 2.2) == "Thu, 01 Jan 2026 00:00:00 GMT"  # refreshed at .25
    assert slow.date(NEW_YEAR + 2.3) == "Thu, 01 Jan 2026 00:00:02 GMT"


def test_reset_formats_late_and_truncated() -> None:
    def reset(reset_format: str = "iso", reset_late: float = 0.0, date_mode: str = "exact") -> str:
        style = HeaderStyle(reset_format=reset_format, reset_late=reset_late, date_mode=date_mode)
        return stamped(style, NEW_YEAR + 0.75)["X-RateLimit-Reset"]

    assert reset() == "2026-01-01T00:00:30.250Z"
    assert reset(reset_format="epoch") == "1767225630.25"
    assert reset(reset_format="epoch_ms") == "1767225630250"
    assert reset(reset_format="delta") == "29.5"
    assert reset(reset_late=1.0) == "2026-01-01T00:00:31.250Z"
    assert reset(date_mode="truncated") == "2026-01-01T00:00:30.000Z"
    assert reset(date_mode="truncated", reset_format="delta") == "30"
    # slowapi: whole-second epoch, one second late.
    assert reset(date_mode="truncated", reset_late=1.0, reset_format="epoch") == "1767225631"
    assert HeaderStyle(reset_late=1.0).retry_after(4.4) == "5"


def test_ietf_headers_describe_every_window_and_the_sdk_reads_them() -> None:
    headers = stamped(HeaderStyle(headers="ietf"))
    assert headers["RateLimit-Policy"] == '"3600s";q=100;w=3600, "86400s";q=1000;w=86400'
    assert headers["RateLimit"] == '"3600s";r=99;t=30.25, "86400s";r=999;t=900'
    assert "X-RateLimit-Limit" not in headers
    snapshot = parse_rate_limit_headers(headers)
    assert (snapshot.limit, snapshot.remaining, snapshot.window) == (100, 99, 3600.0)
    scaled = stamped(HeaderStyle(headers="ietf", time_scale=3600.0))
    assert scaled["RateLimit-Policy"] == '"3600s";q=100;w=1, "86400s";q=1000;w=24'


def test_no_headers_means_a_bare_answer() -> None:
    headers: CIMultiDict[str] = CIMultiDict({"Retry-After": "3"})
    HeaderStyle(headers="none").stamp(headers, DECISION, NEW_YEAR)
    assert list(headers) == ["Date"]


def test_header_style_refuses_unknown_modes() -> None:
    for bad in ({"headers": "draft"}, {"reset_format": "rfc"}, {"date_mode": "lazy"}):
        with pytest.raises(ValueError):
            HeaderStyle(**bad)  # type: ignore[arg-type]
    for bad_number in ({"reset_late": -1.0}, {"date_refresh": 0.0}):
        with pytest.raises(ValueError, match="must be"):
            HeaderStyle(**bad_number)  # type: ignore[arg-type]


# -- the server with the switches on --------------------------------------------------------


async def get(
    session: aiohttp.ClientSession, server: FakeGu1Server, key: str = DEFAULT_KEY
) -> tuple[int, CIMultiDictProxy[str]]:
    async with session.get(f"{server.url}/entities", headers=auth(key)) as response:
        return response.status, response.headers


async def test_bare_429s_carry_no_rate_limit_header(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(
        plan=[(1, 60)], headers="none", retry_after=True, clock=clock
    ) as server:
        ok, ok_headers = await get(session, server)
        refused, refused_headers = await get(session, server)
        server.force_429(1, retry_after=3)
        forced, forced_headers = await get(session, server)
    assert (ok, refused, forced) == (200, 429, 429)
    for headers in (ok_headers, refused_headers, forced_headers):
        assert "Date" in headers
        assert not any(name.lower().startswith(("x-ratelimit", "ratelimit")) for name in headers)
        assert "Retry-After" not in headers


async def test_ietf_dialect_on_the_wire(clock: WallClock, session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(plan="free", headers="ietf", clock=clock) as server:
        status, headers = await get(session, server)
    assert status == 200
    snapshot = parse_rate_limit_headers(headers)
    assert (snapshot.limit, snapshot.remaining, snapshot.window) == (100, 99, 3600.0)
    assert snapshot.reset_after == 3600.0


async def test_slowapi_like_reset_and_cached_date(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    clock.advance(0.3)
    async with FakeGu1Server(
        plan=[(5, 2)],
        reset_format="epoch",
        reset_late=1.0,
        date_mode="truncated",
        clock=clock,
    ) as server:
        _, headers = await get(session, server)
    assert headers["X-RateLimit-Reset"] == "1767225603"  # int(600.3 + 2) + 1
    assert headers["Date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    async with FakeGu1Server(date_mode="cached", clock=clock) as server:
        _, headers = await get(session, server)
    assert headers["Date"] == "Wed, 31 Dec 2025 23:59:59 GMT"  # refreshed at 599.5


async def test_leaky_limiter_per_key(clock: WallClock, session: aiohttp.ClientSession) -> None:
    async with FakeGu1Server(plan=[(20, 1)], clock=clock) as server:
        server.add_key("gk_test_nginx", limiter="leaky")
        assert server.stats("gk_test_nginx").windows[0].remaining == 1
        statuses = [(await get(session, server, "gk_test_nginx"))[0] for _ in range(2)]
        assert statuses == [200, 429]
        clock.advance(0.05)
        assert (await get(session, server, "gk_test_nginx"))[0] == 200
        assert [(await get(session, server))[0] for _ in range(2)] == [200, 200]  # fixed


async def test_limit_changes_mid_run_are_adopted_at_once(
    clock: WallClock, session: aiohttp.ClientSession
) -> None:
    async with FakeGu1Server(plan=[(3, 60), (50, 3600)], clock=clock) as server:
        assert (await get(session, server))[1]["X-RateLimit-Remaining"] == "2"
        server.set_limit(DEFAULT_KEY, 1)  # downgrade: the one request already used it all
        status, headers = await get(session, server)
        assert (status, headers["X-RateLimit-Limit"]) == (429, "1")
        upgraded = server.set_limit(DEFAULT_KEY, 10)
        assert upgraded.windows == ((10, 60.0), (50, 3600.0))
        status, headers = await get(session, server)
        assert (status, headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == (
            200,
            "10",
            "8",
        )
        server.set_limit(DEFAULT_KEY, 2, period=3600)
        assert (await get(session, server))[0] == 429  # two used in the hour
        server.set_plan(DEFAULT_KEY, "starter")
        status, headers = await get(session, server)
        assert (status, headers["X-RateLimit-Limit"]) == (200, "300")
        # The hour window kept its count; the day window is new (the 60 s one is gone).
        windows = server.stats(DEFAULT_KEY).windows
        assert [(w.period, w.used) for w in windows] == [(3600.0, 3), (86_400.0, 1)]
    with pytest.raises(KeyError):
        server.set_limit("gk_test_nobody", 5)
    with pytest.raises(ValueError, match="no window of period"):
        server.set_limit(DEFAULT_KEY, 5, period=7)
