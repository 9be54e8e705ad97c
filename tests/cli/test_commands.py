"""The real `gu1` entry point in a subprocess, against a FakeGu1Server in the test's loop.

The server runs in-process so its store and counters can be checked; the CLI runs as
`python -m gu1_async` in a child process, driven with asyncio so the server keeps
answering while the test waits, and interrupted with real SIGINT / SIGKILL.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import attrs
import pytest

from gu1_async.testing import DEFAULT_KEY, FakeGu1Server

TIME_SCALE = 1800  # the Starter plan's 300 an hour pass in 2 s: 600 rows take ~4 s
ROWS = 600
CONCURRENCY = 16


@attrs.frozen
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
async def server() -> AsyncIterator[FakeGu1Server]:
    async with FakeGu1Server(plan="starter", time_scale=TIME_SCALE) as fake:
        yield fake


def cli_env(server: FakeGu1Server, key: str | None = DEFAULT_KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GU1_")}
    env.update(
        GU1_BASE_URL=server.url,
        GU1_PLAN="starter",
        GU1_TIME_SCALE=str(TIME_SCALE),
        COLUMNS="120",
    )
    if key is not None:
        env["GU1_API_KEY"] = key
    return env


async def start(cwd: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gu1_async",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> Result:
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Result(process.returncode, stdout.decode(), stderr.decode())


async def gu1(cwd: Path, env: dict[str, str], *args: str) -> Result:
    return await finish(await start(cwd, env, *args))


async def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the CLI to make progress"
        await asyncio.sleep(0.02)


def write_rows(path: Path, count: int = ROWS) -> Path:
    with path.open("w") as handle:
        for i in range(count):
            row = {"externalId": f"cli-{i:05d}", "type": "person", "name": f"P {i}"}
            handle.write(json.dumps({**row, "countryCode": "AR"}) + "\n")
    return path


def stored_external_ids(server: FakeGu1Server) -> list[str]:
    return [str(e["externalId"]) for e in server.entities.values()]


def successes(server: FakeGu1Server) -> int:
    return server.stats().by_status.get(200, 0)


# -- key check and limits -------------------------------------------------------------------


async def test_key_check_reports_the_environment_and_rate_limit(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    result = await gu1(tmp_path, cli_env(server), "key", "check")
    assert result.code == 0, result.stderr
    assert "gk_test_…0001" in result.stdout and DEFAULT_KEY not in result.stdout + result.stderr
    assert "environment  test (non-production)" in result.stdout
    assert "check        OK" in result.stdout
    assert "299/300 requests left" in result.stdout


async def test_key_check_fails_with_the_error_class_and_never_prints_the_key(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    wrong = "gk_test_notRegistered9876"
    result = await gu1(tmp_path, cli_env(server, wrong), "key", "check")
    assert result.code != 0
    assert "InvalidApiKeyError" in result.stderr
    assert wrong not in result.stdout + result.stderr


async def test_key_check_fails_on_403(server: FakeGu1Server, tmp_path: Path) -> None:
    limited = "gk_test_noEntitiesRead01"
    server.add_key(limited, permissions={"events:read"})
    result = await gu1(tmp_path, cli_env(server, limited), "key", "check")
    assert result.code != 0
    assert "PermissionDeniedError" in result.stderr
    assert limited not in result.stdout + result.stderr


async def test_the_key_comes_from_a_dotenv_file(server: FakeGu1Server, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"GU1_API_KEY={DEFAULT_KEY}\n")
    result = await gu1(tmp_path, cli_env(server, key=None), "key", "check")
    assert result.code == 0, result.stderr
    assert "from the .env file" in result.stdout


async def test_a_missing_key_is_explained(server: FakeGu1Server, tmp_path: Path) -> None:
    result = await gu1(tmp_path, cli_env(server, key=None), "limits")
    assert result.code != 0
    assert "MissingApiKeyError" in result.stderr and "GU1_API_KEY" in result.stderr


async def test_there_is_no_key_option(server: FakeGu1Server, tmp_path: Path) -> None:
    result = await gu1(tmp_path, cli_env(server), "key", "check", "--api-key", "gk_test_x")
    assert result.code == 2 and "No such option" in result.stderr


async def test_limits_shows_the_snapshot_and_the_next_request(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    result = await gu1(tmp_path, cli_env(server), "limits", "--plan", "starter")
    assert result.code == 0, result.stderr
    assert "299/300 requests left" in result.stdout
    assert "window       299/300 per 2 s available now (from headers)" in result.stdout
    assert "next request now" in result.stdout


# -- ingest ---------------------------------------------------------------------------------


async def test_ingest_reports_rejects_and_a_summary(server: FakeGu1Server, tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", 40)
    with rows.open("a") as handle:
        handle.write("{broken\n")
        handle.write(json.dumps({"type": "person", "name": "no id", "countryCode": "AR"}) + "\n")
    result = await gu1(tmp_path, cli_env(server), "ingest", str(rows))
    assert result.code == 1
    assert result.stdout.strip().splitlines()[-1] == "40 succeeded, 2 failed"
    assert "42/42" in result.stderr  # the progress bar's final state
    lines = (tmp_path / "rows.jsonl.rejects.jsonl").read_text().splitlines()
    rejects = [json.loads(line) for line in lines]
    assert [r["error"]["type"] for r in rejects] == ["InvalidRowError", "MissingFieldError"]
    assert rejects[0]["text"] == "{broken" and rejects[1]["row"]["name"] == "no id"
    assert sorted(stored_external_ids(server)) == [f"cli-{i:05d}" for i in range(40)]


async def test_ingest_csv_transactions(server: FakeGu1Server, tmp_path: Path) -> None:
    rows = tmp_path / "tx.csv"
    rows.write_text(
        "externalId,type,amount,currency\n"
        + "".join(f"tx-{i},TRANSFER,{i}.50,USD\n" for i in range(20))
    )
    result = await gu1(tmp_path, cli_env(server), "ingest", str(rows), "--kind", "transactions")
    assert result.code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "20 succeeded, 0 failed"
    assert len(server.state.transactions.by_id) == 20


async def test_a_latin1_csv_rejects_its_undecodable_rows_and_goes_on(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    # It used to die with a bare UnicodeDecodeError (and again at once on --resume).
    rows = tmp_path / "people.csv"
    lines = ["externalId,type,name,countryCode"]
    lines += [f"lat-{i:03d},person,Person {i},AR" for i in range(30)]
    lines[21] = "lat-020,person,José,AR"
    lines[26] = "lat-025,person,Ñandú,AR"
    rows.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    env = cli_env(server)
    first = await gu1(tmp_path, env, "ingest", str(rows), "--no-progress")
    assert first.code == 1, first.stderr
    assert first.stdout.strip().splitlines()[-1] == "28 succeeded, 2 failed"
    assert "UndecodableRowError x2" in first.stderr
    rejects_text = (tmp_path / "people.csv.rejects.jsonl").read_text()
    rejects = [json.loads(line) for line in rejects_text.splitlines()]
    assert [r["line"] for r in rejects] == [22, 27]
    assert base64.b64decode(rejects[0]["raw_base64"]) == "lat-020,person,José,AR".encode("latin-1")
    assert "--encoding" in rejects[0]["error"]["message"]

    resumed = await gu1(tmp_path, env, "ingest", str(rows), "--resume", "--no-progress")
    assert resumed.code == 0, resumed.stderr
    assert resumed.stdout.strip().splitlines()[-1] == "0 succeeded, 0 failed, 30 skipped"

    again = await gu1(
        tmp_path, env, "ingest", str(rows), "--restart", "--encoding", "latin-1", "--no-progress"
    )
    assert again.code == 0, again.stderr
    assert again.stdout.strip().splitlines()[-1] == "30 succeeded, 0 failed"
    names = {str(e.get("name")) for e in server.entities.values()}
    assert {"José", "Ñandú"} <= names


async def test_a_csv_whose_header_does_not_decode_is_a_usage_error(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = tmp_path / "people.csv"
    rows.write_bytes("externalId,nombre_señal\nx,y\n".encode("latin-1"))
    result = await gu1(tmp_path, cli_env(server), "ingest", str(rows), "--no-progress")
    assert result.code == 2
    assert "CSV header" in result.stderr and "--encoding" in result.stderr
    assert "Traceback" not in result.stderr
    assert successes(server) == 0


async def test_an_existing_checkpoint_needs_resume_or_restart(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.jsonl", 5)
    first = await gu1(tmp_path, cli_env(server), "ingest", str(rows), "--no-progress")
    assert first.code == 0, first.stderr
    again = await gu1(tmp_path, cli_env(server), "ingest", str(rows))
    assert again.code == 2 and "--resume" in again.stderr
    resumed = await gu1(tmp_path, cli_env(server), "ingest", str(rows), "--resume")
    assert resumed.code == 0
    assert resumed.stdout.strip().splitlines()[-1] == "0 succeeded, 0 failed, 5 skipped"
    assert successes(server) == 5  # nothing re-sent


async def test_sigint_then_resume_sends_no_finished_row_again(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.jsonl")
    env = cli_env(server)
    process = await start(tmp_path, env, "ingest", str(rows), "--concurrency", str(CONCURRENCY))
    await wait_until(lambda: successes(server) >= 150)
    process.send_signal(signal.SIGINT)
    first = await finish(process)
    assert first.code == 130, first.stderr
    assert "interrupted" in first.stderr
    done_first = successes(server)
    assert done_first < ROWS  # it really stopped mid-run

    second = await gu1(tmp_path, env, "ingest", str(rows), "--resume", "--no-progress")
    assert second.code == 0, second.stderr
    summary = second.stdout.strip().splitlines()[-1]
    assert summary == f"{ROWS - done_first} succeeded, 0 failed, {done_first} skipped"
    # Every row sent exactly once over both runs, and stored once.
    assert successes(server) == ROWS
    stored = stored_external_ids(server)
    assert len(stored) == len(set(stored)) == ROWS


async def test_sigkill_then_resume_resends_at_most_the_rows_in_flight(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.jsonl")
    env = cli_env(server)
    process = await start(tmp_path, env, "ingest", str(rows), "--concurrency", str(CONCURRENCY))
    await wait_until(lambda: successes(server) >= 150)
    process.kill()
    assert (await finish(process)).code == -signal.SIGKILL

    second = await gu1(tmp_path, env, "ingest", str(rows), "--resume", "--no-progress")
    assert second.code == 0, second.stderr
    assert "skipped" in second.stdout
    resent = successes(server) - ROWS
    assert 0 <= resent <= CONCURRENCY
    stored = stored_external_ids(server)
    assert len(stored) == len(set(stored)) == ROWS  # upsert absorbed the re-sent ones


async def test_a_second_sigint_aborts_and_leaves_a_consistent_checkpoint(
    server: FakeGu1Server, tmp_path: Path
) -> None:
    rows = write_rows(tmp_path / "rows.jsonl")
    env = cli_env(server)
    process = await start(tmp_path, env, "ingest", str(rows), "--concurrency", str(CONCURRENCY))
    await wait_until(lambda: successes(server) >= 150)
    server.set_faults(latency=2.0)  # rows in flight now take a while...
    await asyncio.sleep(0.1)
    process.send_signal(signal.SIGINT)
    await asyncio.sleep(0.3)
    process.send_signal(signal.SIGINT)  # ...so the second Ctrl-C abandons them
    first = await finish(process)
    assert first.code == 130, first.stderr
    assert "cancelled in flight" in first.stdout
    server.set_faults(latency=0.0)

    second = await gu1(tmp_path, env, "ingest", str(rows), "--resume", "--no-progress")
    assert second.code == 0, second.stderr
    assert 0 <= successes(server) - ROWS <= CONCURRENCY
    stored = stored_external_ids(server)
    assert len(stored) == len(set(stored)) == ROWS


async def test_demo_paces_a_free_plan_without_a_429(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GU1_")}
    result = await gu1(tmp_path, env, "demo", "--entities", "250", "--no-progress")
    assert result.code == 0, result.stderr
    assert "250 succeeded, 0 failed" in result.stdout
    assert "server saw 250 requests, 0 answered 429; 250 entities stored" in result.stdout
