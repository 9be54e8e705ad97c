from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from gu1_async._ratelimit_headers import (
    RateLimitReader,
    RateLimitSnapshot,
    ServerClock,
    parse_rate_limit_headers,
)
from gu1_async._transport import AiohttpTransport

UTC = dt.timezone.utc
DATE = "Thu, 26 Nov 2026 06:59:00 GMT"
SERVER_NOW = dt.datetime(2026, 11, 26, 6, 59, tzinfo=UTC)


def test_documented_headers() -> None:
    snap = parse_rate_limit_headers(
        {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "7",
            "X-RateLimit-Reset": "2026-11-26T07:00:00.250Z",
            "Date": DATE,
        }
    )
    assert snap.limit == 100
    assert snap.remaining == 7
    assert snap.reset == dt.datetime(2026, 11, 26, 7, 0, 0, 250000, tzinfo=UTC)
    assert snap.date == SERVER_NOW
    assert snap.reset_after == 60.25
    assert snap.retry_after is None
    assert not snap.is_empty


def test_case_insensitive_and_pairs() -> None:
    snap = parse_rate_limit_headers([("x-ratelimit-limit", "5"), ("X-RATELIMIT-REMAINING", "2")])
    assert (snap.limit, snap.remaining) == (5, 2)


def test_reset_forms() -> None:
    def reset(value: str) -> dt.datetime | None:
        return parse_rate_limit_headers({"X-RateLimit-Reset": value, "Date": DATE}).reset

    assert reset("2026-11-26T08:00:00+01:00") == dt.datetime(2026, 11, 26, 7, tzinfo=UTC)
    assert reset("2026-11-26T07:00:00") == dt.datetime(2026, 11, 26, 7, tzinfo=UTC)
    epoch = int(dt.datetime(2026, 11, 26, 7, tzinfo=UTC).timestamp())
    assert reset(str(epoch)) == dt.datetime(2026, 11, 26, 7, tzinfo=UTC)
    assert reset(str(epoch * 1000)) == dt.datetime(2026, 11, 26, 7, tzinfo=UTC)
    assert reset("60") == SERVER_NOW + dt.timedelta(seconds=60)  # seconds from now
    assert reset("3026-01-01T00:00:00Z") is None  # absurdly far
    assert reset("tomorrow") is None
    assert reset("2026-13-01T00:00:00Z") is None


def test_retry_after_forms() -> None:
    def retry_after(value: str) -> float | None:
        return parse_rate_limit_headers({"Retry-After": value, "Date": DATE}).retry_after

    assert retry_after("30") == 30.0
    assert retry_after("Thu, 26 Nov 2026 06:59:45 GMT") == 45.0
    assert retry_after("-5") is None
    assert retry_after("99999999") is None
    assert retry_after("soon") is None


def test_bad_values_become_none() -> None:
    snap = parse_rate_limit_headers(
        {
            "X-RateLimit-Limit": "-1",
            "X-RateLimit-Remaining": "1.5",
            "X-RateLimit-Reset": "",
            "Date": "not a date",
        }
    )
    assert snap == RateLimitSnapshot()
    assert snap.is_empty
    contradictory = parse_rate_limit_headers(
        {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "11"}
    )
    assert (contradictory.limit, contradictory.remaining) == (10, None)
    assert parse_rate_limit_headers({"X-RateLimit-Limit": "9" * 20}).limit is None


header_names = st.sampled_from(
    ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After", "Date"]
)


@given(st.dictionaries(header_names, st.text(max_size=40)))
def test_never_raises_on_arbitrary_strings(headers: dict[str, str]) -> None:
    received = dt.datetime(2026, 1, 1, tzinfo=UTC)
    snap = parse_rate_limit_headers(headers, received_at=received)
    assert snap.limit is None or 0 <= snap.limit <= 10**9
    assert snap.remaining is None or snap.remaining >= 0
    assert snap.retry_after is None or 0 <= snap.retry_after <= 7 * 86400
    assert snap.reset_after is None or snap.reset_after >= 0
    if snap.limit is not None and snap.remaining is not None:
        assert snap.remaining <= snap.limit


@given(
    st.lists(st.tuples(st.text(max_size=20), st.text(max_size=40)), max_size=8),
)
def test_never_raises_on_arbitrary_header_lists(pairs: list[tuple[str, str]]) -> None:
    assert isinstance(parse_rate_limit_headers(pairs), RateLimitSnapshot)


def test_server_clock_converges_below_one_second_resolution() -> None:
    # The server runs 100.3 s behind us; Date only says whole seconds.
    offset = 100.3
    clock = ServerClock()
    for i in range(20):
        local = 1_800_000_000.0 + i * 0.37
        server_true = local - offset
        date = dt.datetime.fromtimestamp(int(server_true), tz=UTC)
        clock.update(date, local)
    assert clock.offset is not None
    assert offset <= clock.offset < offset + 0.1  # an upper bound, and a tight one
    reset = dt.datetime.fromtimestamp(1_800_000_010.0 - offset, tz=UTC)
    wait = clock.seconds_until(reset, 1_800_000_000.0)
    assert 10.0 <= wait < 10.1  # never short, barely long


def test_server_clock_without_dates_uses_local_time() -> None:
    clock = ServerClock()
    clock.update(None, 5.0)
    assert clock.offset is None
    reset = dt.datetime.fromtimestamp(1_800_000_030.0, tz=UTC)
    assert clock.seconds_until(reset, 1_800_000_000.0) == 30.0


def test_server_clock_tightens_across_second_boundaries_and_forgets_old_readings() -> None:
    offset = 7.0
    clock = ServerClock(horizon=10.0)
    # Many responses inside one server second: the bound is only as good as that phase.
    for i in range(100):
        local = 1_800_000_000.6 + i * 0.001
        clock.update(dt.datetime.fromtimestamp(int(local - offset), tz=UTC), local)
    assert clock.offset is not None
    assert clock.offset > offset + 0.5
    # One response just after the server's second ticks over pins it down.
    local = 1_800_000_001.0 + 0.002
    clock.update(dt.datetime.fromtimestamp(int(local - offset), tz=UTC), local)
    assert offset <= clock.offset < offset + 0.01
    # The server clock jumps 5 s ahead; once the good old reading ages out, it is followed.
    for step in range(40):
        local = 1_800_000_002.0 + step * 0.5
        clock.update(dt.datetime.fromtimestamp(int(local - offset + 5), tz=UTC), local)
    assert offset - 5 <= clock.offset < offset - 5 + 0.51


# -- RateLimitReader: the per-response path must say exactly what the parser says ---------

DATES = ["Thu, 26 Nov 2026 06:59:00 GMT", "Thu, 26 Nov 2026 06:59:01 GMT", "garbage"]
RESETS = ["2026-11-26T07:00:00Z", "2026-11-26T08:00:00.000Z", "30", "1795676400", "x"]
response_headers = st.fixed_dictionaries(
    {},
    optional={
        "X-RateLimit-Limit": st.sampled_from(["100", "1200", "-1", "abc"]),
        "X-RateLimit-Remaining": st.sampled_from(["0", "7", "99", "5000", "", "2000000000", "٣"]),
        "X-RateLimit-Reset": st.sampled_from(RESETS),
        "Date": st.sampled_from(DATES),
        "Retry-After": st.sampled_from(["3", "Thu, 26 Nov 2026 06:59:30 GMT"]),
    },
)


@given(
    st.lists(
        st.tuples(response_headers, st.floats(min_value=0.0, max_value=2.0)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from([str, AiohttpTransport.header_key]),
)
def test_reader_matches_the_parser_and_the_server_clock(
    responses: list[tuple[dict[str, str], float]], header_key: Callable[[str], str]
) -> None:
    # Repeated header values take the reader's memo; it must change nothing. Nor must the
    # transport's prepared header keys, against plain strings.
    reader = RateLimitReader(ServerClock(), header_key=header_key)
    reference_clock = ServerClock()
    now = 1_795_669_140.0  # close to DATES[0], as a live server would be
    latest: RateLimitSnapshot | None = None
    for headers, step in responses:
        now += step
        observation = reader.read(CIMultiDict(headers).get, 200, now)
        expected = parse_rate_limit_headers(
            headers, received_at=dt.datetime.fromtimestamp(now, tz=UTC)
        )
        reference_clock.update(expected.date, now)
        assert reader.last() == expected
        if not expected.is_empty:
            latest = expected
        assert reader.latest() == latest
        assert (observation.status, observation.limit, observation.remaining) == (
            200,
            expected.limit,
            expected.remaining,
        )
        assert observation.retry_after == expected.retry_after
        if expected.reset is None:
            assert observation.reset_after is None
        else:
            assert observation.reset_after == reference_clock.seconds_until(expected.reset, now)


def test_reader_reuses_parsed_values_while_limit_reset_and_date_repeat() -> None:
    reader = RateLimitReader(ServerClock())
    headers = CIMultiDict(
        {
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "50",
            "x-ratelimit-reset": "2026-11-26T07:00:00Z",
            "date": DATE,
        }
    )
    reader.read(headers.get, 200, SERVER_NOW.timestamp())
    first = reader.last()
    headers["x-ratelimit-remaining"] = "49"
    observation = reader.read(headers.get, 200, SERVER_NOW.timestamp() + 0.5)
    second = reader.last()
    assert (second.remaining, second.limit) == (49, 100)
    assert (observation.remaining, observation.limit) == (49, 100)
    assert second.reset is first.reset  # the same parsed object: no second parse
    assert observation.reset_after == 59.5  # a minute after Date, half a second later here
    # A response without rate-limit headers does not hide what the last one said.
    reader.read(CIMultiDict({"Date": DATE}).get, 200, SERVER_NOW.timestamp() + 0.6)
    assert reader.last().is_empty
    assert reader.latest() == second


def test_reader_memo_path_refuses_what_the_parser_refuses() -> None:
    reader = RateLimitReader(ServerClock())
    headers = CIMultiDict({"X-RateLimit-Reset": "2026-11-26T07:00:00Z", "Date": DATE})
    now = SERVER_NOW.timestamp()
    reader.read(headers.get, 200, now)  # fills the memo
    for remaining in ("2000000000", "٣", " 7 ", "-1", "7.5"):
        headers["X-RateLimit-Remaining"] = remaining
        observation = reader.read(headers.get, 200, now)
        expected = parse_rate_limit_headers(headers).remaining
        assert observation.remaining == expected == reader.last().remaining, remaining
    headers["X-RateLimit-Limit"] = "10"
    reader.read(headers.get, 200, now)
    headers["X-RateLimit-Remaining"] = "11"  # more left than the limit: contradictory
    assert reader.read(headers.get, 200, now).remaining is None
