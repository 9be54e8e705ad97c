"""`gu1 ingest --via bulk|auto`: the real entry point in a subprocess, against FakeGu1Server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gu1_async.testing import FakeGu1Server

from .test_commands import TIME_SCALE, cli_env, finish, gu1, start, wait_until

ROWS = 600
NO_BULK_KEY = "gk_test_no_bulk_import_0002"


@pytest.fixture
async def server() -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(plan="starter", time_scale=TIME_SCALE) as fake:
        yield fake


def write_rows(path: Path, count: int = ROWS) -> Path:
    with path.open("w") as handle:
        for i in range(count):
            row = {"taxId": f"30-{i:08d}-7", "type": "company", "name": f"Company {i}"}
            handle.write(json.dumps({**row, "countryCode": "AR", "externalId": f"b-{i}"}) + "\n")
    return path


def stored_tax_ids(server: FakeGu1Server) -> list[str]:
    return [str(e["taxId"]) for e in server.entities.values()]


def summary(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


async def test_bulk_sends_jobs_and_reports_every_row(server: FakeGu1Server, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", 300)
    with rows.open("a") as handle:
        handle.write("{broken\n")
        handle.write(json.dumps({"type": "person", "name": "no tax id"}) + "\n")
    env = cli_env(server)
    result = await gu1(tmp_path, env, "ingest", str(rows), "--via", "bulk", "--bulk-size", "50")
    assert result.code == 1, result.stderr
    assert summary(result.stdout) == "300 succeeded, 2 failed"
    lines = (tmp_path / "rows.jsonl.rejects.jsonl").read_text().splitlines()
    assert [json.loads(line)["error"]["type"] for line in lines] == [
        "InvalidRowError",
        "MissingFieldError",
    ]
    stored = stored_tax_ids(server)
    assert len(stored) == len(set(stored)) == 300
    assert len(server.state.jobs.all()) == 6
    assert server.stats().requests < 300 / 10  # a submit and a poll or two per 50 rows

    again = await gu1(tmp_path, env, "ingest", str(rows), "--via", "bulk", "--resume")
    assert summary(again.stdout) == "0 succeeded, 0 failed, 302 skipped"


async def test_sigkill_then_resume_resends_only_rows_of_jobs_in_flight(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.jsonl")
    env = cli_env(server)
    server.set_faults(latency=0.03)  # every request takes a while: the run lasts ~1 s
    args = ("ingest", str(rows), "--via", "bulk", "--bulk-size", "50", "--concurrency", "2")
    process = await start(tmp_path, env, *args, "--no-progress")
    checkpoint = tmp_path / "rows.jsonl.checkpoint"
    await wait_until(lambda: checkpoint.exists() and len(checkpoint.read_text()) > 600)
    process.kill()
    await finish(process)
    jobs_before = len(server.state.jobs.all())
    server.set_faults(latency=0.0)

    second = await gu1(tmp_path, env, *args, "--resume", "--no-progress")
    assert second.code == 0, second.stderr
    succeeded, skipped = _counts(summary(second.stdout))
    assert succeeded + skipped == ROWS and 100 <= skipped < ROWS  # killed mid-run
    # Rows re-sent that the first run had created come back skipped: at most the rows of
    # the jobs in flight at the kill (2 jobs of 50), and none is stored twice.
    resent = sum(job.skipped for job in server.state.jobs.all()[jobs_before:])
    assert 0 <= resent <= 100
    stored = stored_tax_ids(server)
    assert len(stored) == len(set(stored)) == ROWS


def _counts(line: str) -> tuple[int, int]:
    parts = dict(reversed(p.strip().split(" ", 1)) for p in line.split(","))
    return int(parts["succeeded"]), int(parts.get("skipped", 0))


async def test_without_bulk_import_bulk_fails_clearly_and_auto_falls_back(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    server.add_key(NO_BULK_KEY, permissions={"entities:create", "entities:edit"})
    rows = write_rows(tmp_path / "rows.jsonl", 40)
    env = cli_env(server, NO_BULK_KEY)
    refused = await gu1(tmp_path, env, "ingest", str(rows), "--via", "bulk", "--no-progress")
    assert refused.code == 1
    assert "BulkUnavailableError" in refused.stderr and 'via="upsert"' in refused.stderr
    assert NO_BULK_KEY not in refused.stderr + refused.stdout
    assert len(server.entities) == 0

    auto = await gu1(
        tmp_path, env, "ingest", str(rows), "--via", "auto", "--restart", "--no-progress"
    )
    assert auto.code == 0, auto.stderr
    assert summary(auto.stdout) == "40 succeeded, 0 failed"
    assert len(server.entities) == 40


async def test_bulk_is_for_entities_only(server: FakeGu1Server, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", 1)
    args = ("ingest", str(rows), "--kind", "events", "--via", "bulk")
    result = await gu1(tmp_path, cli_env(server), *args)
    assert result.code == 2 and "--kind entities only" in result.stderr
