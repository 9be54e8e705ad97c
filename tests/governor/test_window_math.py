"""One window's arithmetic, with explicit `now` (no clock, no event loop)."""

from __future__ import annotations

import pytest

from gu1_async.governor._store import match
from gu1_async.governor._window import (
    RESET_MARGIN,
    WindowState,
    available,
    end_probe,
    estimate_wait,
    observe,
    record_sent,
    roll,
    sent_recently,
    spend_unseen,
)


def window(limit: int = 10, period: float = 100.0, now: float = 0.0) -> WindowState:
    return WindowState(limit, period, 0.0, now)


def test_unconfirmed_window_lets_one_probe_through() -> None:
    w = window()
    assert available(w, 0) == 1
    w.in_flight = 1
    assert available(w, 0) == 0
    end_probe(w, answered=True)  # its answer did not describe this window
    w.in_flight = 0
    assert w.blind_ok
    assert available(w, 0) == 10


def test_unanswered_probe_does_not_unlock_blind_spending() -> None:
    w = window()
    w.probing = True
    end_probe(w, answered=False)
    assert not w.blind_ok
    assert available(w, 0) == 1


def test_observation_sets_budget_and_in_flight_counts_against_it() -> None:
    w = window()
    observe(w, now=0.0, remaining=4, reset_after=30.0)
    assert w.confirmed
    assert w.reset_at == pytest.approx(30.0)
    w.in_flight = 3
    assert available(w, 0) == 1


def test_out_of_order_answers_keep_the_lowest_remaining() -> None:
    w = window()
    observe(w, 0.0, remaining=5, reset_after=30.0)
    observe(w, 1.0, remaining=7, reset_after=29.0)  # older answer arriving late
    assert w.left == 5
    assert w.reset_at == pytest.approx(30.0)  # the earliest estimate of the edge wins


def test_roll_refills_and_asks_for_a_new_probe() -> None:
    w = window()
    observe(w, 0.0, remaining=0, reset_after=30.0)
    roll(w, 29.0)
    assert w.left == 0
    roll(w, 30.0)
    assert w.left == 0  # a header's reset is taken a microsecond late, never early
    roll(w, 30.0 + RESET_MARGIN)
    assert (w.left, w.confirmed) == (10, False)
    assert w.reset_at == pytest.approx(130.0)
    roll(w, 345.0)  # several periods missed: the edge stays on the server's grid
    assert w.reset_at == pytest.approx(430.0)


def test_negative_reset_after_never_cuts_a_fresh_window() -> None:
    w = window()
    observe(w, 0.0, remaining=0, reset_after=-2.0)  # stale: describes an ended window
    assert (w.left, w.confirmed) == (10, False)
    observe(w, 0.0, remaining=6, reset_after=50.0)
    observe(w, 1.0, remaining=3, reset_after=-0.5)  # confirmed: it still bounds this one
    assert w.left == 3
    assert w.reset_at == pytest.approx(50.0)


def test_missing_reset_still_confirms_the_count() -> None:
    w = window()
    observe(w, 0.0, remaining=2, reset_after=None)
    assert (w.left, w.confirmed, w.reset_at) == (2, True, 100.0)


def test_answer_from_a_later_window_moves_the_edge() -> None:
    w = window()
    observe(w, 0.0, remaining=1, reset_after=10.0)
    observe(w, 5.0, remaining=9, reset_after=90.0)  # edge at 95, not 10: we were wrong
    assert w.left == 9
    assert w.reset_at == pytest.approx(95.0)
    observe(w, 6.0, remaining=0, reset_after=-1.0)
    observe(w, 7.0, remaining=0, reset_after=1.0)  # older window (edge 8): ignored
    assert w.left == 0  # (the -1.0 one bounded the window we believed in)


def test_spend_unseen_counts_down_but_not_below_zero() -> None:
    w = window(limit=1)
    spend_unseen(w)
    spend_unseen(w)
    assert w.left == 0


def test_estimate_counts_queue_and_whole_windows() -> None:
    w = window(limit=10, period=100.0)
    observe(w, 0.0, remaining=2, reset_after=40.0)
    assert estimate_wait(w, 0.0, ahead=1, cut=0) == 0.0
    assert estimate_wait(w, 0.0, ahead=2, cut=0) == pytest.approx(40.0)
    assert estimate_wait(w, 0.0, ahead=11, cut=0) == pytest.approx(40.0)
    assert estimate_wait(w, 0.0, ahead=12, cut=0) == pytest.approx(140.0)
    assert estimate_wait(w, 0.0, ahead=0, cut=2) == pytest.approx(40.0)  # the reserve is off limits


def test_match_prefers_equal_limit_then_best_fitting_window() -> None:
    hour, day = window(100, 3600.0), window(10_000, 86_400.0)
    assert match([hour, day], 10_000, 500.0) == 1
    assert match([hour, day], 1_200, 3000.0) == 0  # shortest window that can reset so soon
    assert match([hour, day], 500_000, 40_000.0) == 1  # only the day is that long
    assert match([hour, day], 9_000, None) == 1  # no reset: the closest limit
    hour.identified = True
    assert match([hour, day], 500_000, 1_000.0) == 1  # named windows are kept
    assert match([hour, day], 7, 1e9) == 1  # longer than any: the longest


def test_a_window_without_header_edges_is_held_to_a_sliding_period() -> None:
    w = window(limit=3, period=60.0, now=0.0)
    w.blind_ok = True  # a probe was answered about another window
    for t in (10.0, 20.0, 30.0):
        record_sent(w, t)
        w.left -= 1
    roll(w, 61.0)  # our own guess of the edge: the left count refills ...
    w.blind_ok = True
    assert w.left == 3
    # ... but 3 were sent in the last 60 s, wherever the server's edge lies.
    assert available(w, 0, now=61.0) == 0
    assert sent_recently(w, 61.0) == 3
    # The first send leaves the sliding period (rounded up to a slice) a little after 70 s.
    assert 9.0 < estimate_wait(w, 61.0, ahead=0, cut=0) <= 11.0
    assert available(w, 0, now=72.0) == 1


def test_header_edges_release_the_sliding_hold() -> None:
    w = window(limit=3, period=60.0, now=0.0)
    observe(w, 0.0, remaining=3, reset_after=30.0)
    for t in (1.0, 2.0, 3.0):
        record_sent(w, t)
    observe(w, 3.0, remaining=0, reset_after=27.0)
    roll(w, 31.0)
    assert w.anchored
    assert available(w, 0, now=31.0) == 1  # the probe may go: the server's edge is known
