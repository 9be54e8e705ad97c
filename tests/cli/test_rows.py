"""Reading JSONL and CSV rows: stable indices, nesting, typed cells, bad rows kept."""

from __future__ import annotations

from pathlib import Path

from gu1_async.cli._rejects import Rejects, reject_record
from gu1_async.cli._rows import BadRow, count_rows, detect_format, read_rows
from gu1_async.ingest import MissingFieldError


def test_jsonl_rows_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"externalId": "a"}\n\n   \nnot json\n[1]\n{"externalId": "b"}\n')
    rows = list(read_rows(path, "jsonl"))
    assert rows[0] == {"externalId": "a"} and rows[3] == {"externalId": "b"}
    assert isinstance(rows[1], BadRow) and rows[1].line == 4 and "not JSON" in str(rows[1].error)
    assert isinstance(rows[2], BadRow) and "a list, not an object" in str(rows[2].error)
    assert count_rows(path, "jsonl") == len(rows) == 4


def test_csv_cells_nest_and_convert(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(
        "externalId,type,amount,isClient,entityData.person.firstName,note\n"
        "t1,TRANSFER,10.50,true,Ada,\n"
        "\n"
        "t2,TRANSFER,7,no,,x\n"
        "t3,TRANSFER,lots,true,,\n"
        "t4,TRANSFER,1,true,,,surplus\n"
    )
    rows = list(read_rows(path, "csv"))
    assert rows[0] == {
        "externalId": "t1",
        "type": "TRANSFER",
        "amount": 10.5,
        "isClient": True,
        "entityData": {"person": {"firstName": "Ada"}},
    }
    assert rows[1] == {
        "externalId": "t2",
        "type": "TRANSFER",
        "amount": 7,
        "isClient": False,
        "note": "x",
    }
    assert isinstance(rows[2], BadRow) and "amount must be a number" in str(rows[2].error)
    assert isinstance(rows[3], BadRow) and "more cells than columns" in str(rows[3].error)
    assert count_rows(path, "csv") == len(rows) == 4


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(tmp_path / "a.CSV", "auto") == "csv"
    assert detect_format(tmp_path / "a.ndjson", "auto") == "jsonl"
    assert detect_format(tmp_path / "a.csv", "jsonl") == "jsonl"


def test_rejects_hold_the_row_and_the_error(tmp_path: Path) -> None:
    rejects = Rejects(tmp_path / "rejects.jsonl")
    assert not rejects.path.exists()  # opened on the first failure only
    rejects.write(4, {"name": "x"}, MissingFieldError("entity row has no 'externalId'"))
    rejects.close()
    assert rejects.written == 1
    assert '"index": 4' in rejects.path.read_text()
    record = reject_record(4, {"name": "x"}, MissingFieldError("no id"))
    assert record == {
        "index": 4,
        "row": {"name": "x"},
        "error": {"type": "MissingFieldError", "message": "no id"},
    }
