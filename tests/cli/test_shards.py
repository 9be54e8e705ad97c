"""`gu1 ingest --shard K/N`, `--redis` and `--merge-report`.

The end-to-end test runs three real `gu1 ingest` processes, one per shard, on one
3,000-row file against a FakeGu1Server in this test's loop, sharing the key's budget
through a real redis-server; one shard is killed with SIGKILL mid-run and resumed. A
middleware on the fake server counts what reached gu1 for each externalId.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web

from gu1_async.cli._report_file import ReportMismatchError, merge_reports
from gu1_async.cli._shard import Shard, ShardedRows, rows_in_shard
from gu1_async.testing import FakeGu1Server

from .test_commands import cli_env, finish, gu1, start, wait_until

ROWS = 3000
SHARDS = 3
CONCURRENCY = 16
TIME_SCALE = 1200  # Professional: 1,200 an hour, an hour in 3 s; 3,000 rows need 3 windows


# -- the share itself ------------------------------------------------------------------------


def people(count: int) -> list[dict[str, str]]:
    return [
        {"externalId": f"sh-{i:05d}", "type": "person", "name": f"P {i}", "countryCode": "AR"}
        for i in range(count)
    ]


@pytest.mark.parametrize("by", ["row", "external-id"])
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_every_row_is_in_exactly_one_shard(by: str, n: int) -> None:
    rows: list[object] = [*people(500), {"type": "person"}, "not a dict"]  # no externalId
    owners: Counter[int] = Counter()
    for k in range(1, n + 1):
        shard = Shard.parse(f"{k}/{n}", by)
        mine = list(ShardedRows(rows, shard))
        assert rows_in_shard(len(rows), shard, lambda: rows) == len(mine)
        owners.update(id(row) for row in mine)
    assert sorted(owners.values()) == [1] * len(rows)


def test_external_id_shards_follow_the_entity_not_its_position() -> None:
    rows = people(300)
    shard = Shard.parse("2/3", "external-id")
    forward = {r["externalId"] for r in ShardedRows(rows, shard)}
    backward = {r["externalId"] for r in ShardedRows(list(reversed(rows)), shard)}
    assert forward == backward and 60 < len(forward) < 140  # a fair share, whatever the order


def test_a_shard_numbers_its_rows_and_maps_them_back_to_the_file() -> None:
    sharded = ShardedRows(people(10), Shard.parse("2/3"))
    assert [r["externalId"] for r in sharded] == ["sh-00001", "sh-00004", "sh-00007"]
    skip = sharded.skipping(lambda local: local == 0)
    assert skip(0) and not skip(1)
    assert [sharded.number_of(1), sharded.number_of(2)] == [4, 7]


@pytest.mark.parametrize("text", ["3", "0/3", "4/3", "a/b", "1/0"])
def test_bad_shard_specs_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="shard"):
        Shard.parse(text)


def write_report(path: Path, shard: str, **counts: object) -> Path:
    body = {"gu1_ingest_report": 1, "input": "/data/x.jsonl", "kind": "entities"}
    body.update(shard=shard, shard_by="row", rows=10, finished=10, succeeded=10, failed=0)
    body.update(counts)
    path.write_text(json.dumps(body))
    return path


def test_merge_adds_up_and_refuses_reports_of_other_runs(tmp_path: Path) -> None:
    a = write_report(tmp_path / "a", "1/3", errors={"ServerError": 1}, failed=1, succeeded=9)
    b = write_report(tmp_path / "b", "2/3", finished=8, succeeded=5)
    merged = merge_reports([a, b])
    assert (merged["rows"], merged["finished"], merged["left"]) == (20, 18, 2)
    assert (merged["succeeded"], merged["failed"], merged["finished_unreported"]) == (14, 1, 3)
    assert merged["missing"] == ["3/3"] and merged["errors"] == {"ServerError": 1}
    with pytest.raises(ReportMismatchError, match="more than once"):
        merge_reports([a, a])
    other = write_report(tmp_path / "c", "3/3", kind="events")
    with pytest.raises(ReportMismatchError, match="kind"):
        merge_reports([a, other])
    with pytest.raises(ReportMismatchError, match="split the input differently"):
        merge_reports([a, write_report(tmp_path / "d", "1/2")])


# -- three shard processes -------------------------------------------------------------------


def finished_in(checkpoint: Path) -> set[int]:
    """The shard-local rows a checkpoint file holds as finished (its log, folded)."""
    done: set[int] = set()
    lines = checkpoint.read_text().split("\n")[1:]
    for line in lines[:-1]:  # the last piece is "" or a torn write
        if line.startswith("<"):
            done |= set(range(int(line[1:])))
        elif line.isdigit():
            done.add(int(line))
    return done


@pytest.mark.redis
@pytest.mark.slow
async def test_three_shards_send_every_row_once_and_a_killed_one_resumes(
    tmp_path: Path, redis_url: str
) -> None:
    rows = people(ROWS)
    data = tmp_path / "people.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    sent: Counter[str] = Counter()

    @web.middleware
    async def count(request: web.Request, handler: object) -> web.StreamResponse:
        if request.path == "/entities/upsert":  # reached gu1 (past auth and the quota)
            sent[(await request.json())["entity"]["externalId"]] += 1
        return await handler(request)  # type: ignore[operator, no-any-return]

    server = FakeGu1Server(plan="professional", time_scale=TIME_SCALE)
    server.app.middlewares.append(count)
    async with server:
        env = {**cli_env(server), "GU1_PLAN": "professional", "GU1_TIME_SCALE": str(TIME_SCALE)}
        args = ["ingest", str(data), "--shard-by", "external-id", "--redis", redis_url]
        args += ["--concurrency", str(CONCURRENCY), "--no-progress"]
        # The killed shard's tokens (a window's probe among them, maybe) are freed after 3 s
        # rather than the store's 120 s, which would otherwise stall the other shards.
        args += ["--redis-lease", "3"]
        processes = {
            k: await start(tmp_path, env, *args, "--shard", f"{k}/{SHARDS}")
            for k in range(1, SHARDS + 1)
        }
        # Read every process's output as it comes, so that none blocks on a full pipe.
        ends = {k: asyncio.ensure_future(finish(p)) for k, p in processes.items()}
        checkpoint = tmp_path / "people.jsonl.shard-2-of-3.checkpoint"
        await wait_until(lambda: checkpoint.exists() and len(finished_in(checkpoint)) >= 200)
        processes[2].send_signal(signal.SIGKILL)
        assert (await ends[2]).code == -signal.SIGKILL
        done_at_kill = finished_in(checkpoint)

        resumed = await gu1(tmp_path, env, *args, "--shard", f"2/{SHARDS}", "--resume")
        others = [await ends[k] for k in (1, 3)]
        for result in [resumed, *others]:
            assert result.code == 0, result.stderr
        stats = server.stats()
        stored = sorted(str(e["externalId"]) for e in server.entities.values())
        merged = await gu1(
            tmp_path,
            env,
            "ingest",
            "--merge-report",
            *(str(tmp_path / f"people.jsonl.shard-{k}-of-3.report.json") for k in (1, 2, 3)),
        )

    ids = [r["externalId"] for r in rows]
    # Every row stored, once (0 lost); upsert absorbed the few sent twice.
    assert stored == ids
    # Every row reached gu1; only the killed shard's rows in flight went twice.
    assert set(sent) == set(ids)
    shard2 = Shard.parse("2/3", "external-id")
    mine = [r["externalId"] for r in ShardedRows(rows, shard2)]
    twice = {i for i, n in sent.items() if n > 1}
    assert max(sent.values()) <= 2 and twice <= set(mine) and len(twice) <= CONCURRENCY
    # A row the checkpoint held as finished when the shard was killed was not sent again.
    assert all(sent[mine[local]] == 1 for local in done_at_kill)
    assert f"{len(done_at_kill)} skipped" in resumed.stdout
    # One budget for the three processes: gu1's quota held.
    assert stats.rate_limited <= 2, stats
    print(f"shards: {stats.requests} requests, {stats.rate_limited} 429s, {len(twice)} re-sent")
    # The reports add up: every row finished, nothing left.
    assert merged.code == 0, merged.stdout + merged.stderr
    assert f"{ROWS} rows, {ROWS} finished, 0 left" in merged.stdout
