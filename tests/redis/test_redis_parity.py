"""Differential: RedisStore's Lua gives the answers MemoryStore gives, operation by operation.

Both stores get the same random plan and the same random sequence of takes, ends (sent or
not, with or without headers, headers renaming a window), records, pauses, estimates and
time steps. Redis runs on the test's clock through the scripts' test-only time override
(ARGV[2], `RedisStore._test_time_base`), and the MemoryStore's `now` is computed from the
same microseconds exactly as the Lua computes it, so both see bit-identical times.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gu1_async.governor import MemoryStore, Observation, Quota, WindowStats
from gu1_async.governor._redis_scripts import script_source
from gu1_async.governor.redis import RedisStore
from tests.redis.conftest import Backend

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


FAST_RETURN = "return {1, 0, sec - e, usec, n, s}"
"""The uncontended take's answer in fast.lua (a test counts how often it is reached)."""


class Twins:
    """The production store, and one whose take script has no uncontended path (fast.lua).

    Every operation goes to both (each on its own key, on the same test clock and with the
    same worker id): their answers and everything they leave in Redis must be identical,
    so the uncontended path is exactly the full take whenever it answers. With
    `count_fast`, the production store's uncontended path also counts its answers in
    `<key>:fast` (`fast_takes()`).
    """

    def __init__(
        self, backend: Backend, namespace: str, lease: float = 120.0, count_fast: bool = False
    ) -> None:
        options: dict[str, Any] = {"recheck": RECHECK, "timeout": 5.0, "lease": lease}
        self.store = backend.store(namespace=namespace, **options)
        # (Its own {hash tag}: on a cluster, maybe another node than the production twin's.)
        self.full = backend.store(namespace=f"{namespace}:full", **options)
        self.full._worker = self.store._worker  # the same lease field names
        _use_take(self.full, script_source("take", fast=False))
        if count_fast:
            take = script_source("take")
            assert take.count(FAST_RETURN) == 1
            count = f"redis.call('INCR', KEYS[1] .. ':fast') {FAST_RETURN}"
            _use_take(self.store, take.replace(FAST_RETURN, count))
        for store in (self.store, self.full):
            store._test_time_base = EPOCH_US  # test only: Redis runs on this test's clock
        self.raw = backend.client()

    def configure(self, plan: list[Quota], reserve: float, now: float) -> None:
        self.store.configure(plan, reserve, now)
        self.full.configure(plan, reserve, now)

    async def both(self, operation: str, *args: Any) -> Any:
        answer = await getattr(self.store, operation)(*args)
        assert await getattr(self.full, operation)(*args) == answer, operation
        stored = await self.raw.hgetall(self.store.key)
        assert stored == await self.raw.hgetall(self.full.key), operation
        return answer

    async def fast_takes(self) -> int:
        return int(await self.raw.get(f"{self.store.key}:fast") or 0)

    async def aclose(self) -> None:
        await self.store.aclose()
        await self.full.aclose()
        await self.raw.aclose()


def _use_take(store: RedisStore, source: str) -> None:
    """TEST ONLY: the store calls this take script instead of the production one."""
    store._link.source["take"] = source
    store._link.sha["take"] = hashlib.sha1(source.encode()).hexdigest().encode()


async def play(
    backend: Backend,
    namespace: str,
    quotas: list[tuple[int, float]],
    reserve: float,
    steps: list[Step],
) -> None:
    plan = [Quota(limit, period) for limit, period in quotas]
    memory = MemoryStore()
    twins = Twins(backend, namespace)
    store = twins.store
    t_us = 0
    memory.configure(plan, reserve, seconds(t_us))
    twins.configure(plan, reserve, seconds(t_us))
    # Redis creates its windows on first use: use them at the time MemoryStore did.
    assert await twins.both("aestimate", 0.0, 0, False) == memory.estimate(0.0, 0, False)
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
                shared, shared_wait = await twins.both("atake", now, bool(reserved), int(ahead))
                assert shared == granted, context
                out += granted
                if not granted:
                    expected = wait if wait > 0 else RECHECK
                    assert shared_wait == pytest.approx(expected, rel=1e-9, abs=1e-6), context
            elif step[0] == "send":
                granted, _wait = await memory.atake(now, False, 0)
                assert (await twins.both("atake", now, False, 0))[0] == granted, context
                if granted:
                    answer = step[1]
                    assert answer is None or isinstance(answer, Observation)
                    memory.end(now, True, answer)
                    await twins.both("aend", now, True, answer)
            elif step[0] == "estimate":
                _, reserved, ahead = step
                wait = memory.estimate(now, int(ahead), bool(reserved))
                shared_wait = await twins.both("aestimate", now, int(ahead), bool(reserved))
                assert shared_wait == pytest.approx(wait, rel=1e-9, abs=1e-6), context
            elif step[0] == "end":
                if not out:
                    continue
                _, sent, observation = step
                assert observation is None or isinstance(observation, Observation)
                memory.end(now, bool(sent), observation)
                await twins.both("aend", now, bool(sent), observation)
                out -= 1
            elif step[0] == "record":
                observation = step[1]
                assert isinstance(observation, Observation)
                memory.record(now, observation)
                await twins.both("arecord", now, observation)
            else:
                newly = memory.pause(now, float(step[1]))
                assert await twins.both("apause", now, float(step[1])) == newly, context
            assert_same_windows(memory.windows(now), store.windows(now), context)
            assert store.paused_for(now) == pytest.approx(memory.paused_for(now), abs=1e-9)
    finally:
        await twins.aclose()


_namespaces = itertools.count()


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same 50 scenarios every run: the suite stays deterministic
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=scenarios())
def test_redis_store_answers_as_memory_store_does(
    any_redis: Backend, scenario: tuple[list[tuple[int, float]], float, list[Step]]
) -> None:
    quotas, reserve, steps = scenario
    namespace = f"parity:{next(_namespaces)}"  # one fresh budget per example
    asyncio.run(play(any_redis, namespace, quotas, reserve, steps))


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
async def test_handpicked_scenarios(any_redis: Backend, name: str) -> None:
    quotas, reserve, steps = HANDPICKED[name]
    await play(any_redis, f"parity:{name.replace(' ', '-')}", quotas, reserve, steps)


async def test_the_time_override_reaches_the_script(any_redis: Backend) -> None:
    """Without the override the state's clock is Redis TIME; with it, the test's."""
    store = any_redis.store(namespace="parity:clock")
    store.configure([Quota(2, 60.0)], 0.0, 0.0)
    store._test_time_base = EPOCH_US
    await store.aestimate(0.0, 0, False)
    await store.aend(0.0, True, Observation(200, 2, 1, 30.0))
    assert store.windows(12.5)[0].reset_in == pytest.approx(30.0 - 12.5, abs=1e-5)
    await store.aestimate(12.5, 0, False)  # Redis now at 12.5 s on the test's clock
    assert store.windows(12.5)[0].reset_in == pytest.approx(30.0 - 12.5, abs=1e-5)
    client = any_redis.client()
    assert await client.hexists(store.key, "s")
    await client.aclose()
    await store.aclose()


# -- the uncontended take (fast.lua) against the full take ---------------------------------

LEASES = (60.0, 90.0)
"""Two workers on one budget, with different leases (a longer one moves the state's bounds)."""


@st.composite
def uncontended(draw: st.DrawFn) -> tuple[list[tuple[int, float]], float, list[Step]]:
    """Windows longer than the leases (the expiry then never moves with `n`), takes from
    two workers, mostly close together in time: the uncontended path's territory, and its
    edges (room running out, reserved takes, a longer lease, a lease running out, slices
    of a sliding count ending, pauses, headers)."""
    quotas, reserve = draw(
        st.sampled_from(
            [
                ([(12, 3600.0)], 0.0),
                ([(10, 3600.0), (16, 86400.0)], 0.3),
                ([(8, 600.0), (14, 7200.0)], 0.0),
            ]
        )
    )
    answers = observations([limit for limit, _ in quotas])
    worker = st.integers(0, len(LEASES) - 1)
    take = st.tuples(st.just("take"), worker, st.booleans())
    end = st.tuples(st.just("end"), worker, st.booleans(), st.one_of(st.none(), answers))
    step = st.one_of(
        take,
        take,
        take,
        end,
        end,
        end,
        # Mostly a few ms: the key's expiry is set again (the full way) every 0.5 s.
        st.tuples(st.just("advance"), st.integers(0, 40_000)),
        st.tuples(st.just("advance"), st.integers(0, 40_000)),
        st.tuples(st.just("advance"), st.integers(0, 3_000_000)),
        st.tuples(st.just("advance"), st.integers(55_000_000, 95_000_000)),
        st.tuples(st.just("record"), answers),
        st.tuples(st.just("pause"), st.sampled_from([0.0, 0.01, 0.05, 2.0])),
    )
    # The probe first, answered by a header for the first window (or by none): then most
    # takes are uncontended ones.
    limit, period = quotas[0]
    answer = draw(
        st.sampled_from([Observation(200, limit, limit - 1, period * 0.8), Observation(200)])
    )
    prologue: list[Step] = [("take", 0, False), ("end", 0, True, answer)]
    return quotas, reserve, prologue + draw(st.lists(step, min_size=20, max_size=120))


async def play_uncontended(
    backend: Backend,
    namespace: str,
    quotas: list[tuple[int, float]],
    reserve: float,
    steps: list[Step],
) -> int:
    """Both workers' operations on the twins; how many takes the uncontended path answered."""
    plan = [Quota(limit, period) for limit, period in quotas]
    workers = [Twins(backend, namespace, lease, count_fast=True) for lease in LEASES]
    out = [0] * len(workers)  # each worker's tokens taken and not yet ended
    t_us = 0
    try:
        for twins in workers:
            twins.configure(plan, reserve, 0.0)
        for step in steps:
            now = seconds(t_us)
            if step[0] == "advance":
                t_us += int(step[1])
            elif step[0] == "take":
                granted, _wait = await workers[step[1]].both("atake", now, bool(step[2]), 0)
                out[step[1]] += granted
            elif step[0] == "end" and out[step[1]]:
                await workers[step[1]].both("aend", now, bool(step[2]), step[3])
                out[step[1]] -= 1
            elif step[0] == "record":
                await workers[0].both("arecord", now, step[1])
            elif step[0] == "pause":
                await workers[1].both("apause", now, float(step[1]))
        return await workers[0].fast_takes()  # one count for the key, both workers
    finally:
        for twins in workers:
            await twins.aclose()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenario=uncontended())
def test_the_uncontended_take_leaves_what_the_full_take_leaves(
    any_redis: Backend, scenario: tuple[list[tuple[int, float]], float, list[Step]]
) -> None:
    quotas, reserve, steps = scenario
    namespace = f"fast:{next(_namespaces)}"
    asyncio.run(play_uncontended(any_redis, namespace, quotas, reserve, steps))


async def test_uncontended_takes_skip_the_windows_and_the_rest_do_not(
    any_redis: Backend,
) -> None:
    """The uncontended path answers the takes it may (leaving what the full take would);
    a probe, an empty window, a pause and a longer lease than any before go the full way."""
    plan = [Quota(8, 3600.0), Quota(20, 86400.0)]
    twins = Twins(any_redis, "fast:handpicked", count_fast=True)
    longer = Twins(any_redis, "fast:handpicked", lease=600.0, count_fast=True)
    twins.configure(plan, 0.25, 0.0)  # 2 of the hour's 8 held for interactive takes
    longer.configure(plan, 0.25, 0.0)

    async def take(t: float, reserved: bool = False, who: Twins = twins) -> bool:
        granted: bool = (await who.both("atake", t, reserved, 0))[0]
        return granted

    try:
        assert await take(0.0)  # the probe: the full take
        assert await twins.fast_takes() == 0
        await twins.both("aend", 0.01, True, Observation(200, 8, 7, 3000.0))
        assert [await take(0.02 + i / 100, reserved=True) for i in range(6)] == [True] * 5 + [
            False
        ]  # 5 of the 7 left (the reserve), the refusal the full way
        assert [await take(0.1), await take(0.11), await take(0.12)] == [True, True, False]
        assert await twins.fast_takes() == 7
        await twins.both("aend", 0.13, False, None)
        assert await take(0.14)  # room again
        assert await twins.fast_takes() == 8
        await twins.both("apause", 0.15, 0.2)
        await twins.both("aend", 0.16, False, None)
        assert not await take(0.17)  # paused
        assert await take(0.36)  # the pause is over
        assert await twins.fast_takes() == 9
        await twins.both("aend", 0.37, False, None)
        assert await take(0.38, who=longer)  # a longer lease than any before: the full take
        assert await twins.fast_takes() == 9  # (one count for the key, both workers)
        await twins.both("aend", 0.39, False, None)
        assert await take(0.4)  # shorter leases than the longest go the short way again
        assert await twins.fast_takes() == 10
        await twins.both("aend", 0.41, False, None)
        assert await take(0.6)  # the key's expiry is 0.6 s off: the full take sets it again
        await twins.both("aend", 0.61, False, None)
        assert await take(0.62)
        assert await twins.fast_takes() == 11
    finally:
        await twins.aclose()
        await longer.aclose()


async def test_a_lease_running_out_is_swept_the_full_way(any_redis: Backend) -> None:
    """A take after another worker's lease ran out releases that worker's tokens (the
    full take's sweep), however recently the state was written."""
    plan = [Quota(8, 3600.0), Quota(20, 86400.0)]
    alive = Twins(any_redis, "fast:sweep", count_fast=True)
    dying = Twins(any_redis, "fast:sweep", lease=1.0)
    alive.configure(plan, 0.0, 0.0)
    dying.configure(plan, 0.0, 0.0)
    try:
        assert (await alive.both("atake", 0.0, False, 0))[0]  # the probe
        await alive.both("aend", 0.01, True, Observation(200, 8, 7, 3000.0))
        assert (await dying.both("atake", 0.02, False, 0))[0]  # held; its lease ends at 1.02
        assert (await alive.both("atake", 0.6, False, 0))[0]  # sets the key's expiry again
        assert await alive.fast_takes() == 0
        assert (await alive.both("atake", 1.05, False, 0))[0]  # the sweep: the full take
        assert await alive.fast_takes() == 0
        assert alive.store.windows(1.05)[0].in_flight == 2  # the dead worker's token is gone
        assert (await alive.both("atake", 1.06, False, 0))[0]
        assert await alive.fast_takes() == 1
    finally:
        await alive.aclose()
        await dying.aclose()
