"""The ingest checkpoint: an append-only log that folds into a low-water mark on resume."""

from __future__ import annotations

from pathlib import Path

import pytest

from gu1_async.cli._checkpoint import Checkpoint, CheckpointMismatchError


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"externalId": "a"}\n' * 10)
    return path


def open_checkpoint(
    path: Path, source: Path, *, resume: bool, kind: str = "entities"
) -> Checkpoint:
    return Checkpoint.open(path, input_path=source, kind=kind, resume=resume)


def test_finished_rows_survive_a_resume(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "cp"
    with open_checkpoint(path, source, resume=False) as cp:
        for index in (0, 1, 2, 5, 7):
            cp.record(index)
        assert (cp.low_water, cp.above) == (3, {5, 7})
    resumed = open_checkpoint(path, source, resume=True)
    assert resumed.finished_before == 5
    assert [i for i in range(10) if resumed.is_done(i)] == [0, 1, 2, 5, 7]
    resumed.close()
    # The resume rewrote the log in its compact form.
    assert path.read_text().splitlines()[1:] == ["<3", "5", "7"]


def test_a_torn_last_line_is_ignored(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "cp"
    with open_checkpoint(path, source, resume=False) as cp:
        cp.record(0)
    with path.open("a") as handle:
        handle.write("1\n2")  # the process died while writing "2\n"... or "25\n"
    resumed = open_checkpoint(path, source, resume=True)
    assert resumed.low_water == 2 and not resumed.is_done(2)
    resumed.close()
    with path.open("a") as handle:
        handle.write("<9")  # a torn mark ("<9" of "<95") is ignored too
    again = open_checkpoint(path, source, resume=True)
    assert again.finished == 2
    again.close()


def test_without_resume_the_old_log_is_discarded(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "cp"
    with open_checkpoint(path, source, resume=False) as cp:
        cp.record(0)
    fresh = open_checkpoint(path, source, resume=False)
    assert fresh.finished == 0 and not fresh.is_done(0)
    fresh.close()


def test_a_checkpoint_of_another_kind_or_file_is_refused(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "cp"
    open_checkpoint(path, source, resume=False).close()
    with pytest.raises(CheckpointMismatchError, match="kind"):
        open_checkpoint(path, source, resume=True, kind="events")
    source.write_text(source.read_text() + '{"externalId": "b"}\n')
    with pytest.raises(CheckpointMismatchError, match="size"):
        open_checkpoint(path, source, resume=True)
    path.write_text("hello\n")
    with pytest.raises(CheckpointMismatchError, match="not a gu1 ingest checkpoint"):
        open_checkpoint(path, source, resume=True)


def test_memory_stays_small_for_a_long_log(tmp_path: Path, source: Path) -> None:
    path = tmp_path / "cp"
    with open_checkpoint(path, source, resume=False) as cp:
        # Completion order is roughly input order, a few rows apart.
        for base in range(0, 50_000, 8):
            for index in (base + 3, base + 1, base, base + 2, base + 7, base + 5, base + 4):
                cp.record(index)
            cp.record(base + 6)
            assert len(cp.above) <= 8
    resumed = open_checkpoint(path, source, resume=True)
    assert (resumed.low_water, resumed.above) == (50_000, set())
    resumed.close()


def test_recording_after_close_is_an_error(tmp_path: Path, source: Path) -> None:
    cp = open_checkpoint(tmp_path / "cp", source, resume=False)
    cp.close()
    cp.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        cp.record(1)
