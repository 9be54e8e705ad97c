"""Differential: RedisStore's Lua gives the answers MemoryStore gives, operation by operation.

Both stores get the same random plan and the same random sequence of takes, ends (sent or
not, with or without headers, headers renaming a window), records, pauses, estimates and
time steps. Redis runs on the test's clock through the scripts' test-only time override
(ARGV[2], `RedisStore._test_time_base`), and the MemoryStore's `now` is computed from the
same microseconds exactly as the Lua computes it, so both see bit-identical times.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from gu1_async.governor import MemoryStore, Observation, Quota, WindowStats
from gu1_async.governor.redis import RedisStore
from tests.redis.conftest import RedisServer

EPOCH_US = 1_700_000_000 * 10**6
"""Redis 'TIME' at the test's time 0 (a whole second: the state's epoch)."""
RECHECK = 0.05
"""RedisStore answers a refused take it cannot time (MemoryStore: 0) with its `recheck`."""

Step = tuple[Any, ...]
"""("take", reserved, ahead), ("send", answer), ("end", sent, answer), ("record", answer),
("estimate", reserved, ahead), ("pause", seconds) or ("advance", microseconds)."""

plans = st.sampled_from(
    [
        ([(3, 5.0)], 0.0),
        ([(5, 60.0)], 0.4),
        ([(2, 5.0), (6, 60.0)], 0.0),
        ([(4, 60.0), (9, 3600.0)], 0.3),
    ]
)


def observations(limits: list[int]) -> st.SearchStrategy[Observation]:
    """Answers that describe a planned window, rename one, or describe none at all."""
    limit = st.one_of(st.sampled_from(limits), st.integers(1, 8))
    reset_after = st.one_of(
        st.none(),
        st.sampled_from([-1.0, 0.0]),
        # Near the plans' periods (5 s, 60 s, 1 h), so windows roll while sends are recent.
        st.sampled_from([0.25, 1.0, 2.5, 4.999999, 5.0, 30.0, 59.5, 60.0, 1800.0, 3599.0]),
        st.integers(1, 4_000_000_000).map(lambda us: us / 1e6),
    )
    with_window = st.builds(
        Observation,
        st.sampled_from([200, 429]),
        limit=limit,
        remaining=st.integers(0, 9),
        reset_after=reset_after,
    )
    return st.one_of(with_window, st.builds(Observation, st.sampled_from([200, 502])))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[tuple[int, float]], float, list[Step]]:
    quotas, reserve = draw(plans)
    answers = observations([limit for limit, _ in quotas])
    take = st.tuples(st.just("take"), st.booleans(), st.integers(0, 3))
    end = st.tuples(st.just("end"), st.booleans(), st.one_of(st.none(), answers))
    # Weighted towards sends, so sliding counts fill up and windows run dry.
    step = st.one_of(
        take,
        take,
        st.tuples(st.just("send"), answers),
        st.tuples(st.just("send"), st.none()),
        end,
        end,
        st.tuples(st.just("estimate"), st.booleans(), st.integers(0, 12)),
        st.tuples(st.just("record"), answers),
        st.tuples(st.just("pause"), st.sampled_from([0.0, 0.5, 3.0, 90.0])),
        # Within a slice, across slices, across whole windows.
        st.tuples(st.just("advance"), st.integers(0, 300_000)),
        st.tuples(st.just("advance"), st.integers(0, 8_000_000)),
        st.tuples(st.just("advance"), st.integers(0, 7_300_000_000)),
    )
    return quotas, reserve, draw(st.lists(step, min_size=5, max_size=100))


def seconds(t_us: int) -> float:
    """The test's time in seconds, computed as the Lua computes `now` (bit for bit)."""
    return (t_us // 10**6) + (t_us % 10**6) / 1e6


def assert_same_windows(
    memory: tuple[WindowStats, ...], redis: tuple[WindowStats, ...], context: str
) -> None:
    assert len(memory) == len(redis), context
    for mine, theirs in zip(memory, redis, strict=True):
        exact = ("limit", "period", "available", "in_flight", "confirmed", "from_header")
        for name in exact:
            assert getattr(theirs, name) == getattr(mine, name), f"{name}: {context}"
        assert theirs.reset_in == pytest.approx(mine.reset_in, abs=1e-9), context


async def play(
    url: str, namespace: str, quotas: list[tuple[int, float]], reserve: float, steps: list[Step]
) -> None:
    plan = [Quota(limit, period) for limit, period in quotas]
    memory = MemoryStore()
    store = RedisStore.from_url(url, namespace=namespace, recheck=RECHECK, timeout=5.0)
    store._test_time_base = EPOCH_US  # test only: Redis runs on this test's clock
    t_us = 0
    memory.configure(plan, reserve, seconds(t_us))
    store.configure(plan, reserve, seconds(t_us))
    # Redis creates its windows on first use: use them at the time MemoryStore did.
    assert await store.aestimate(0.0, 0, False) == memory.estimate(0.0, 0, False)
    out = 0  # tokens taken and not yet ended
    try:
        for index, step in enumerate(steps):
            now = seconds(t_us)
            context = f"step {index} {step!r} at t={now}"
            if step[0] == "advance":
                t_us += int(step[1])
                continue
            if step[0] == "take":
                _, reserved, ahead = step
                granted, wait = await memory.atake(now, bool(reserved), int(ahead))
                shared, shared_wait = await store.atake(now, bool(reserved), int(ahead))
                assert shared == granted, context
                out += granted
                if not granted:
                    expected = wait if wait > 0 else RECHECK
                    assert shared_wait == pytest.approx(expected, rel=1e-9, abs=1e-6), context
            elif step[0] == "send":
                granted, _wait = await memory.atake(now, False, 0)
                assert (await store.atake(now, False, 0))[0] == granted, context
                if granted:
                    answer = step[1]
                    assert answer is None or isinstance(answer, Observation)
                    memory.end(now, True, answer)
                    await store.aend(now, True, answer)
            elif step[0] == "estimate":
                _, reserved, ahead = step
                wait = memory.estimate(now, int(ahead), bool(reserved))
                shared_wait = await store.aestimate(now, int(ahead), bool(reserved))
                assert shared_wait == pytest.approx(wait, rel=1e-9, abs=1e-6), context
            elif step[0] == "end":
                if not out:
                    continue
                _, sent, observation = step
                assert observation is None or isinstance(observation, Observation)
                memory.end(now, bool(sent), observation)
                await store.aend(now, bool(sent), observation)
                out -= 1
            elif step[0] == "record":
                observation = step[1]
                assert isinstance(observation, Observation)
                memory.record(now, observation)
                await store.arecord(now, observation)
            else:
                newly = memory.pause(now, float(step[1]))
                assert await store.apause(now, float(step[1])) == newly, context
            assert_same_windows(memory.windows(now), store.windows(now), context)
            assert store.paused_for(now) == pytest.approx(memory.paused_for(now), abs=1e-9)
    finally:
        await store.aclose()


_namespaces = itertools.count()


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same 50 scenarios every run: the suite stays deterministic
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_redis_store_answers_as_memory_store_does(
    redis_server: RedisServer, scenario: tuple[list[tuple[int, float]], float, list[Step]]
) -> None:
    quotas, reserve, steps = scenario
    namespace = f"parity:{next(_namespaces)}"  # one fresh budget per example
    asyncio.run(play(redis_server.url, namespace, quotas, reserve, steps))


HANDPICKED: dict[str, tuple[list[tuple[int, float]], float, list[Step]]] = {
    # Anchored by a header, spent, then rolled: unconfirmed again, but its edges are known,
    # so the sliding count no longer holds it (one probe may go at once).
    "anchored window after its reset": (
        [(2, 5.0)],
        0.0,
        [
            ("record", Observation(200, 2, 2, 1.0)),
            ("send", None),
            ("send", None),
            ("take", False, 0),
            ("advance", 1_500_000),
            ("take", False, 0),
            ("end", True, None),
            ("take", False, 0),
        ],
    ),
    # Never described (blind_ok after its probe): held to `limit` per sliding period even
    # across its own (unanchored) edges; the wait is until the oldest send slides out.
    "blind window held to a sliding period": (
        [(3, 5.0), (10, 60.0)],
        0.0,
        [
            ("send", Observation(200, 3, 2, 4.0)),
            ("advance", 2_000_000),
            ("send", None),
            ("send", None),
            ("advance", 2_100_000),
            ("take", False, 0),
            ("estimate", False, 4),
            ("send", None),
            ("advance", 1_000_000),
            ("send", None),
            ("take", True, 2),
            ("advance", 60_000_000),
            ("send", None),
            ("estimate", False, 0),
        ],
    ),
    # Sends in successive slices (0.156 s each) leave the sliding count one slice at a time.
    "sends slide out slice by slice": (
        [(3, 5.0)],
        0.0,
        [
            ("send", Observation(200)),
            ("advance", 200_000),
            ("send", None),
            ("advance", 200_000),
            ("send", None),
            ("take", False, 0),
            ("estimate", False, 2),
            ("advance", 4_760_000),
            ("send", None),
            ("advance", 160_000),
            ("estimate", False, 0),
            ("advance", 160_000),
            ("estimate", False, 1),
            ("advance", 5_000_000),
            ("estimate", False, 0),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(HANDPICKED))
async def test_handpicked_scenarios(redis_server: RedisServer, name: str) -> None:
    quotas, reserve, steps = HANDPICKED[name]
    await play(redis_server.url, f"parity:{name.replace(' ', '-')}", quotas, reserve, steps)


async def test_the_time_override_reaches_the_script(redis_server: RedisServer) -> None:
    """Without the override the state's clock is Redis TIME; with it, the test's."""
    store = RedisStore.from_url(redis_server.url, namespace="parity:clock")
    store.configure([Quota(2, 60.0)], 0.0, 0.0)
    store._test_time_base = EPOCH_US
    await store.aestimate(0.0, 0, False)
    await store.aend(0.0, True, Observation(200, 2, 1, 30.0))
    assert store.windows(12.5)[0].reset_in == pytest.approx(30.0 - 12.5, abs=1e-5)
    await store.aestimate(12.5, 0, False)  # Redis now at 12.5 s on the test's clock
    assert store.windows(12.5)[0].reset_in == pytest.approx(30.0 - 12.5, abs=1e-5)
    client = Redis.from_url(redis_server.url)
    assert await client.hexists(store.key, "s")
    await client.aclose()
    await store.aclose()
