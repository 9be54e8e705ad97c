"""`gu1 status` and the snapshots behind it: a real redis-server spent by real clients, the
built-in fake, one key from one request, and an in-process governor with waiters and a pause.

The CLI runs as `python -m gu1_async` in a child process while the test's loop keeps the
fake server answering and the permits held.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from gu1_async import ApiKey, Gu1Client, Plan, Priority, Quota
from gu1_async._clock import FakeClock, settle
from gu1_async.governor import Governor, Observation, snapshot_governor
from gu1_async.governor.redis import RedisStore, snapshot_redis
from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

# A planted secret: no output of the command may contain it, whole or in part.
PLANTED = "gk_test_plantedStatusSecret7Qx2"
WINDOW = [(5, 3600.0)]  # both keys' server window: small, so four permits fill it


@attrs.frozen
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def gu1(*args: str, env: dict[str, str] | None = None) -> Result:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GU1_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gu1_async",
        "status",
        *args,
        env={**clean, "COLUMNS": "120", **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


def key_id(key: str) -> str:
    return ApiKey(key).fingerprint[:12]


@attrs.frozen
class Fleet:
    url: str
    server: FakeGu1Server
    first: Gu1Client
    second: Gu1Client


@pytest.fixture
async def fleet(redis_url: str) -> AsyncIterator[Fleet]:
    """Two keys' clients on one RedisStore: the first sent 1 request, the second 3."""
    async with FakeGu1Server(plan=WINDOW) as server:
        server.add_key(PLANTED, environment="test")
        store = RedisStore.from_url(redis_url)
        plan = Plan.custom(Quota(5, 3600.0))
        try:
            async with (
                Gu1Client(DEFAULT_KEY, base_url=server.url, plan=plan, store=store) as first,
                Gu1Client(PLANTED, base_url=server.url, plan=plan, store=store) as second,
            ):
                await first.request("GET", "/entities")
                for _ in range(3):
                    await second.request("GET", "/entities")
                yield Fleet(redis_url, server, first, second)
        finally:
            await store.aclose()


def budgets_by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["key_id"]: b for b in data["budgets"]}


async def test_json_shows_every_budget_its_windows_leases_and_queue(fleet: Fleet) -> None:
    # The first key's window holds 4: take them all, then two more wait in Redis' queue.
    governor = fleet.first.governor
    held = [await governor.acquire() for _ in range(4)]
    waiters = [
        asyncio.create_task(governor.acquire(priority))
        for priority in (Priority.INTERACTIVE, Priority.BATCH)
    ]
    for _ in range(200):  # until both tickets are in Redis (a round trip each)
        seen = await snapshot_redis(fleet.url, key_id(DEFAULT_KEY))
        if seen.budgets and seen.budgets[0].waiting == 2:
            break
        await asyncio.sleep(0.01)
    try:
        result = await gu1("--redis", fleet.url, "--json")
    finally:
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        for permit in held:
            permit.release()
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "redis"
    budgets = budgets_by_key(data)
    assert set(budgets) == {key_id(DEFAULT_KEY), key_id(PLANTED)}
    first, second = budgets[key_id(DEFAULT_KEY)], budgets[key_id(PLANTED)]
    (window,) = first["windows"]
    assert (window["limit"], window["remaining"], window["available"]) == (5, 4, 0)
    assert window["confirmed"] and window["from_header"] and 0 < window["reset_in"] <= 3600
    assert first["in_flight"] == 4 and first["waiting_by_priority"] == [1, 1]
    (worker,) = first["workers"]
    assert (worker["in_flight"], worker["waiting"], worker["lease"]) == (4, 2, 120.0)
    assert 0 < worker["lease_expires_in"] <= 120
    assert second["windows"][0]["remaining"] == 2 and second["in_flight"] == 0
    assert second["environment"] == "test" and second["paused_for"] == 0


async def test_key_id_and_key_env_pick_one_budget_and_the_key_is_never_shown(
    fleet: Fleet,
) -> None:
    by_id = await gu1("--redis", fleet.url, "--key-id", key_id(DEFAULT_KEY)[:8], "--json")
    assert by_id.code == 0, by_id.stderr
    assert [b["key_id"] for b in json.loads(by_id.stdout)["budgets"]] == [key_id(DEFAULT_KEY)]
    env = {"WORKER_KEY": PLANTED}
    for extra in (["--json"], []):
        by_env = await gu1("--redis", fleet.url, "--key-env", "WORKER_KEY", *extra, env=env)
        assert by_env.code == 0, by_env.stderr
        assert key_id(PLANTED) in by_env.stdout and key_id(DEFAULT_KEY) not in by_env.stdout
        assert PLANTED not in by_env.output and "plantedStatusSecret" not in by_env.output


async def test_base_url_shows_the_windows_one_request_described_never_the_key() -> None:
    async with FakeGu1Server(plan=WINDOW) as server:
        server.add_key(PLANTED, environment="test")
        env = {"GU1_API_KEY": PLANTED}
        result = await gu1("--base-url", server.url, "--json", env=env)
        view = await gu1("--base-url", server.url, env=env)
    assert result.code == 0 and view.code == 0, result.stderr + view.stderr
    (budget,) = json.loads(result.stdout)["budgets"]
    assert budget["key_id"] == key_id(PLANTED)
    assert budget["windows"][0]["limit"] == 5 and budget["windows"][0]["remaining"] == 4
    assert "per 1h" in view.stdout and key_id(PLANTED) in view.stdout
    for out in (result.output, view.output):
        assert PLANTED not in out and "plantedStatusSecret" not in out


async def test_fake_shows_its_governor_after_a_few_requests(tmp_path: Path) -> None:
    result = await gu1("--fake", "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == "process"
    (budget,) = data["budgets"]
    assert budget["key_id"] == key_id(DEFAULT_KEY)
    hour, day = budget["windows"]
    assert (hour["limit"], hour["remaining"], hour["confirmed"]) == (100, 95, True)
    assert (day["limit"], day["from_header"]) == (10_000, False)


async def test_watch_refreshes_the_given_number_of_times() -> None:
    lines = await gu1("--fake", "--json", "--watch", "0.2", "--iterations", "3")
    assert lines.code == 0, lines.stderr
    snapshots = [json.loads(line) for line in lines.stdout.splitlines()]
    assert len(snapshots) == 3
    taken = [s["taken_at"] for s in snapshots]
    assert taken == sorted(taken) and len(set(taken)) == 3
    live = await gu1("--fake", "--watch", "0.2", "--iterations", "2")
    assert live.code == 0, live.stderr
    assert "per 10s" in live.stdout and key_id(DEFAULT_KEY) in live.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "say what to show"),
        (("--fake", "--redis", "redis://127.0.0.1:1"), 2, "not --redis and --fake together"),
        (("--fake", "--key-id", "abc"), 2, "use them with --redis"),
        (("--redis", "redis://x", "--key-id", "ab", "--key-env", "K"), 2, "give one of them"),
        (("--redis", "redis://x", "--key-env", "NOT_SET_ANYWHERE"), 2, "is not set"),
        (("--redis", "http://127.0.0.1:1"), 2, "--redis:"),
        (("--redis", "redis://127.0.0.1:1", "--key-id", "xyz!"), 1, "must be hex digits"),
        (("--redis", "redis://127.0.0.1:1/0"), 1, "cannot read the governor's Redis store"),
        (("--fake", "--watch", "0"), 2, "--watch"),
    ],
)
async def test_bad_flags_say_what_is_wrong_and_exit_non_zero(
    args: tuple[str, ...], code: int, message: str
) -> None:
    result = await gu1(*args)
    assert result.code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_snapshot_of_an_in_process_governor_with_waiters_and_a_pause() -> None:
    clock = FakeClock(start=0.0)
    governor = Governor(Plan.custom(Quota(3, 60.0)), clock=clock)
    first = await governor.acquire()  # the probe: its answer confirms the window
    first.observe(Observation(200, limit=3, remaining=2, reset_after=30.0))
    held = [await governor.acquire(), await governor.acquire()]
    waiting = [
        asyncio.create_task(governor.acquire(p))
        for p in (Priority.INTERACTIVE, Priority.BATCH, Priority.BATCH)
    ]
    await settle()
    governor.pause(12.5)
    await clock.advance(2.5)
    snapshot = snapshot_governor(governor, key_id="0123456789ab", environment="test")
    (budget,) = snapshot.budgets
    (window,) = budget.windows
    assert (window.name, window.limit, window.remaining, window.available) == ("1min", 3, 2, 0)
    assert window.reset_in == pytest.approx(27.5) and window.confirmed and window.from_header
    assert budget.paused_for == pytest.approx(10.0)
    assert budget.in_flight == 2 and budget.waiting_by_priority == (1, 2) and budget.waiting == 3
    assert [(w.worker_id, w.in_flight, w.waiting, w.lease) for w in budget.workers] == [
        ("this process", 2, 3, None)
    ]
    data = json.loads(json.dumps(snapshot.to_dict()))
    assert data["budgets"][0]["waiting"] == 3 and data["budgets"][0]["key_id"] == "0123456789ab"
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)
    for permit in held:
        permit.release()
