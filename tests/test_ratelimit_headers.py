from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from gu1_async._ratelimit_headers import (
    DEFAULT_MAX_RESET,
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
RESETS = [
    "2026-11-26T07:00:00Z",
    "2026-11-26T08:00:00.000Z",
    "30",
    "1795676400",
    "x",
    "2027-12-30T07:00:00Z",  # past max_reset: refused
]
response_headers = st.fixed_dictionaries(
    {},
    optional={
        "X-RateLimit-Limit": st.sampled_from(["100", "1200", "-1", "abc"]),
        "X-RateLimit-Remaining": st.sampled_from(["0", "7", "99", "5000", "", "2000000000", "٣"]),
        "X-RateLimit-Reset": st.sampled_from(RESETS),
        "Date": st.sampled_from(DATES),
        "Retry-After": st.sampled_from(["3", "Thu, 26 Nov 2026 06:59:30 GMT", "99999"]),
        # The reader looks these up only on its slow path; it must still agree.
        "RateLimit": st.sampled_from(['"d";r=5;t=30', '"d";r=0;t=9', "limit=9, remaining=4"]),
        "RateLimit-Policy": st.sampled_from(['"d";q=10;w=60', "9;w=2"]),
        "RateLimit-Remaining": st.sampled_from(["3", "x"]),
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


# -- dialects ------------------------------------------------------------------------------

NEW_YEAR_DATE = "Thu, 01 Jan 2026 09:59:00 GMT"
NEW_YEAR = dt.datetime(2026, 1, 1, 9, 59, tzinfo=UTC)
TEN = dt.datetime(2026, 1, 1, 10, tzinfo=UTC)  # 1767261600 in epoch seconds


def test_x_ratelimit_reset_in_every_form() -> None:
    def reset(value: str) -> dt.datetime | None:
        return parse_rate_limit_headers({"X-RateLimit-Reset": value, "Date": NEW_YEAR_DATE}).reset

    assert reset("2026-01-01T10:00:00.000Z") == TEN  # ISO 8601, gu1's own
    assert reset("1767261600") == TEN  # epoch seconds
    assert reset("1767261600.250") == TEN + dt.timedelta(milliseconds=250)  # float epoch
    assert reset("1767261600250") == TEN + dt.timedelta(milliseconds=250)  # epoch ms
    assert reset("1767261600250.5") == TEN + dt.timedelta(microseconds=250_500)
    assert reset("60") == TEN  # delta seconds
    assert reset("1.5") == NEW_YEAR + dt.timedelta(seconds=1.5)


def test_retry_after_as_seconds_decimals_and_http_date() -> None:
    def retry_after(value: str) -> float | None:
        return parse_rate_limit_headers({"Retry-After": value, "Date": NEW_YEAR_DATE}).retry_after

    assert retry_after("120") == 120.0
    assert retry_after("1.5") == 1.5
    assert retry_after("Thu, 01 Jan 2026 10:00:00 GMT") == 60.0
    assert retry_after("Thu, 01 Jan 2026 09:58:00 GMT") == 0.0  # already past: go now


def test_ietf_current_draft_joins_rate_limit_to_its_policy_by_name() -> None:
    snap = parse_rate_limit_headers(
        {
            "RateLimit": '"default";r=50;t=30',
            "RateLimit-Policy": '"default";q=100;w=60',
            "Date": NEW_YEAR_DATE,
        }
    )
    assert (snap.limit, snap.remaining, snap.window) == (100, 50, 60.0)
    assert snap.reset == NEW_YEAR + dt.timedelta(seconds=30)
    assert snap.reset_after == 30.0


def test_ietf_several_policies_follow_the_most_constrained() -> None:
    policy = '"hour";q=100;w=3600, "day";q=1000;w=86400'

    def snap(ratelimit: str) -> RateLimitSnapshot:
        headers = {"RateLimit": ratelimit, "RateLimit-Policy": policy, "Date": NEW_YEAR_DATE}
        return parse_rate_limit_headers(headers)

    hour = snap('"hour";r=10;t=100, "day";r=500;t=5000')
    assert (hour.limit, hour.remaining, hour.window, hour.reset_after) == (100, 10, 3600.0, 100)
    # Both exhausted: the later reset is the first moment a retry can succeed.
    both = snap('"hour";r=0;t=100, "day";r=0;t=5000')
    assert (both.limit, both.remaining, both.window, both.reset_after) == (1000, 0, 86400.0, 5000)
    # No policy of that name: what RateLimit says still counts, the quota is unknown.
    stray = snap('"minute";r=3;t=7')
    assert (stray.limit, stray.remaining, stray.window, stray.reset_after) == (None, 3, None, 7)


def test_ietf_quoted_names_and_token_names() -> None:
    quoted = parse_rate_limit_headers(
        {"RateLimit": '"a,b;c=\\"d";r=5;t=1', "RateLimit-Policy": '"a,b;c=\\"d";q=10;w=2'}
    )
    assert (quoted.limit, quoted.remaining, quoted.window) == (10, 5, 2.0)
    token = parse_rate_limit_headers({"RateLimit": "Burst;r=1", "RateLimit-Policy": "Burst;q=4"})
    assert (token.limit, token.remaining, token.window, token.reset) == (4, 1, None, None)
    over = parse_rate_limit_headers({"RateLimit": '"p";r=11', "RateLimit-Policy": '"p";q=10'})
    assert (over.limit, over.remaining) == (10, None)  # contradictory, as for X-RateLimit-*


def test_ietf_draft_07_dictionary_and_integer_policies() -> None:
    snap = parse_rate_limit_headers(
        {
            "RateLimit": "limit=100, remaining=50, reset=30",
            "RateLimit-Policy": "10;w=1, 100;w=60",
            "Date": NEW_YEAR_DATE,
        }
    )
    assert (snap.limit, snap.remaining, snap.window, snap.reset_after) == (100, 50, 60.0, 30)


def test_ietf_older_drafts_separate_fields() -> None:
    base = {"RateLimit-Remaining": "7", "RateLimit-Reset": "20", "Date": NEW_YEAR_DATE}
    plain = parse_rate_limit_headers({**base, "RateLimit-Limit": "10"})
    assert (plain.limit, plain.remaining, plain.window, plain.reset_after) == (10, 7, None, 20)
    inline = parse_rate_limit_headers({**base, "RateLimit-Limit": "10, 10;w=1, 500;w=60"})
    assert (inline.limit, inline.window) == (10, 1.0)
    policy = parse_rate_limit_headers(
        {**base, "RateLimit-Limit": "10", "RateLimit-Policy": "10;w=2"}
    )
    assert policy.window == 2.0


def test_x_ratelimit_wins_over_ietf_fields() -> None:
    snap = parse_rate_limit_headers(
        {
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "9",
            "RateLimit": '"default";r=50;t=30',
            "RateLimit-Policy": '"default";q=200;w=60',
            "RateLimit-Limit": "300",
        }
    )
    assert (snap.limit, snap.remaining, snap.reset, snap.window) == (100, 9, None, None)


def test_nothing_past_max_reset_is_believed() -> None:
    def snap(max_reset: float = DEFAULT_MAX_RESET, **headers: str) -> RateLimitSnapshot:
        return parse_rate_limit_headers({"Date": NEW_YEAR_DATE, **headers}, max_reset=max_reset)

    assert DEFAULT_MAX_RESET == 86_400.0
    far = (NEW_YEAR + dt.timedelta(days=399)).isoformat()
    assert snap(**{"X-RateLimit-Reset": far}).reset is None  # the hostile Reset
    assert snap(**{"X-RateLimit-Reset": "86400"}).reset_after == 86_400.0
    assert snap(**{"X-RateLimit-Reset": "86401"}).reset is None
    assert snap(**{"X-RateLimit-Reset": "1767400000"}).reset is None  # epoch, 1.6 days on
    assert snap(**{"X-RateLimit-Reset": "2025-12-30T00:00:00Z"}).reset is None  # long past
    assert snap(**{"Retry-After": "86401"}).retry_after is None
    assert snap(**{"Retry-After": "Sat, 03 Jan 2026 10:00:00 GMT"}).retry_after is None
    ietf = {"RateLimit": '"d";r=1;t=90000', "RateLimit-Policy": '"d";q=5;w=172800'}
    refused = snap(**ietf)
    assert (refused.limit, refused.remaining, refused.reset, refused.window) == (5, 1, None, None)
    # The bound is a parameter: a plan whose longest period is a minute.
    assert snap(60.0, **{"X-RateLimit-Reset": "61"}).reset is None
    assert snap(60.0, **{"Retry-After": "60"}).retry_after == 60.0


def test_reader_warns_once_naming_the_header_and_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="gu1_async")
    reader = RateLimitReader(ServerClock())
    secret = "Bearer gk_live_not_a_real_secret_1234"
    far = "2027-11-26T07:00:00Z"
    headers = CIMultiDict({"X-RateLimit-Reset": far, "Date": DATE, "Authorization": secret})
    now = SERVER_NOW.timestamp()
    assert reader.read(headers.get, 200, now).reset_after is None
    headers["Retry-After"] = "999999"
    assert reader.read(headers.get, 429, now + 1).retry_after is None
    records = [r for r in caplog.records if r.name == "gu1_async"]
    assert len(records) == 1
    assert records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert "X-RateLimit-Reset" in message and far in message
    assert "gk_live" not in caplog.text
    # Another reader (another key, another client) warns on its own.
    RateLimitReader(ServerClock()).read(headers.get, 200, now)
    assert len([r for r in caplog.records if r.name == "gu1_async"]) == 2


def test_reader_reads_ietf_fields_and_exposes_the_window() -> None:
    reader = RateLimitReader(ServerClock(), header_key=AiohttpTransport.header_key)
    headers = CIMultiDict(
        {"RateLimit": '"default";r=50;t=30', "RateLimit-Policy": '"default";q=100;w=60'}
    )
    headers["Date"] = NEW_YEAR_DATE
    observation = reader.read(headers.get, 200, NEW_YEAR.timestamp())
    assert observation[:5] == (200, 100, 50, 30.0, None)
    assert observation.window == 60.0  # the governor takes the period as known
    assert reader.last().window == 60.0
    headers["RateLimit"] = '"default";r=49;t=30'
    assert reader.read(headers.get, 200, NEW_YEAR.timestamp() + 0.25).remaining == 49
    assert reader.latest() == reader.last()


def test_reader_refuses_a_nonsense_max_reset() -> None:
    for bad in (0.0, -1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="max_reset"):
            RateLimitReader(max_reset=bad)


def test_reader_on_a_server_without_rate_limit_headers() -> None:
    reader = RateLimitReader(ServerClock())
    bare = CIMultiDict({"Date": DATE})
    for step in range(3):
        observation = reader.read(bare.get, 429, SERVER_NOW.timestamp() + step * 0.1)
        assert observation[:5] == (429, None, None, None, None)
        assert reader.last() == RateLimitSnapshot(
            date=SERVER_NOW,
            received_at=dt.datetime.fromtimestamp(SERVER_NOW.timestamp() + step * 0.1, UTC),
        )
    assert reader.latest() is None


# -- property: any strings, in any dialect, give finite numbers within the bounds -----------

ALL_HEADERS = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "Date",
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
]
# Free text rarely looks like a structured field; this alphabet often does.
field_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet='"\\;=,. -0123456789qrtwdefaultlimitremainingreset', max_size=40),
    st.sampled_from(["1e9", "1767261600.250", "99999999999999", "9" * 400, "0", "inf", "nan"]),
)


def _assert_bounded(snap: RateLimitSnapshot, max_reset: float) -> None:
    assert snap.limit is None or 0 <= snap.limit <= 10**9
    assert snap.remaining is None or 0 <= snap.remaining <= 10**9
    if snap.limit is not None and snap.remaining is not None:
        assert snap.remaining <= snap.limit
    for seconds in (snap.retry_after, snap.reset_after, snap.window):
        assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= max_reset)
    assert snap.window is None or snap.window > 0


@given(
    st.dictionaries(st.sampled_from(ALL_HEADERS), field_text),
    st.sampled_from([DEFAULT_MAX_RESET, 60.0, 0.5]),
)
def test_any_dialect_any_strings_stay_within_bounds(
    headers: dict[str, str], max_reset: float
) -> None:
    received = dt.datetime(2026, 1, 1, tzinfo=UTC)
    snap = parse_rate_limit_headers(headers, received_at=received, max_reset=max_reset)
    _assert_bounded(snap, max_reset)


@given(
    st.lists(st.dictionaries(st.sampled_from(ALL_HEADERS), field_text), min_size=1, max_size=8),
    st.sampled_from([DEFAULT_MAX_RESET, 60.0]),
)
def test_reader_never_raises_and_stays_within_bounds(
    responses: list[dict[str, str]], max_reset: float
) -> None:
    reader = RateLimitReader(ServerClock(), max_reset=max_reset)
    now = 1_767_225_600.0
    for i, headers in enumerate(responses):
        observation = reader.read(CIMultiDict(headers).get, 200, now + i)
        for seconds in (observation.reset_after, observation.retry_after):
            assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= max_reset)
        _assert_bounded(reader.last(), max_reset)


def test_a_delta_reset_counts_from_the_answer_not_from_a_truncated_date() -> None:
    # Two answers in one `Date` second: the first, just after the second ticked, teaches
    # the clock an offset of 0.05 s; the second left the server 0.9 s into that second.
    # Its "reset in 2 s" counted from `Date` would end 0.85 s early (a 429 for sure);
    # counted from the answer's arrival it is late by the latency only.
    reader = RateLimitReader(ServerClock())
    headers = {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9", "Date": NEW_YEAR_DATE}
    reader.read({**headers, "X-RateLimit-Reset": "2"}.get, 200, NEW_YEAR.timestamp() + 0.05)
    late = reader.read({**headers, "X-RateLimit-Reset": "2"}.get, 200, NEW_YEAR.timestamp() + 0.9)
    assert late.reset_after is not None
    assert late.reset_after >= 2.0
