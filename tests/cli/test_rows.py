"""Reading JSONL and CSV rows: stable indices, nesting, typed cells, bad rows kept."""

from __future__ import annotations

import base64
import codecs
from pathlib import Path

import pytest

from gu1_async.cli._rejects import Rejects, reject_record
from gu1_async.cli._rows import (
    BadRow,
    UndecodableRowError,
    UnreadableFileError,
    count_rows,
    detect_format,
    read_rows,
)
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


# -- encodings and raw rows (issue 14) -----------------------------------------------------


def latin1_csv(path: Path) -> Path:
    lines = ["externalId,type,name"] + [f"p{i},person,Person {i}" for i in range(6)]
    lines[3] = "p2,person,José"  # line 4 of the file: Latin-1, not UTF-8
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return path


def test_an_undecodable_csv_row_is_a_bad_row_and_the_rest_is_read(tmp_path: Path) -> None:
    # This used to end the whole run with a bare UnicodeDecodeError (count_rows, even).
    path = latin1_csv(tmp_path / "rows.csv")
    rows = list(read_rows(path, "csv"))
    assert count_rows(path, "csv") == len(rows) == 6
    bad = rows[2]
    assert isinstance(bad, BadRow) and isinstance(bad.error, UndecodableRowError)
    assert bad.line == 4 and bad.raw == "p2,person,José".encode("latin-1")
    assert bad.text == "p2,person,Jos\\xe9"
    assert "line 4: not valid utf-8 (byte 0xe9" in str(bad.error)
    assert "--encoding" in str(bad.error)
    assert rows[3] == {"externalId": "p3", "type": "person", "name": "Person 3"}
    record = reject_record(2, bad, bad.error)
    assert base64.b64decode(record["raw_base64"]) == bad.raw
    assert record["line"] == 4 and record["error"]["type"] == "UndecodableRowError"


def test_the_right_encoding_reads_every_row(tmp_path: Path) -> None:
    path = latin1_csv(tmp_path / "rows.csv")
    rows = list(read_rows(path, "csv", "latin-1"))
    assert rows[2] == {"externalId": "p2", "type": "person", "name": "José"}
    assert not any(isinstance(row, BadRow) for row in rows)


def test_an_undecodable_jsonl_line_is_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"name": "a"}\n{"name": "Jos\xe9"}\n\n{"name": "b"}\n')
    rows = list(read_rows(path, "jsonl"))
    assert count_rows(path, "jsonl") == len(rows) == 3
    assert isinstance(rows[1], BadRow) and rows[1].line == 2
    assert rows[1].raw == b'{"name": "Jos\xe9"}'
    assert rows[2] == {"name": "b"}
    assert list(read_rows(path, "jsonl", "latin-1"))[1] == {"name": "José"}


def test_a_utf8_bom_is_dropped(tmp_path: Path) -> None:
    csv_path = tmp_path / "bom.csv"
    csv_path.write_bytes(codecs.BOM_UTF8 + "externalId,name\nx1,José\n".encode())
    jsonl_path = tmp_path / "bom.jsonl"
    jsonl_path.write_bytes(codecs.BOM_UTF8 + b'{"externalId": "x1"}\n')
    for encoding in ("utf-8", "utf-8-sig"):
        assert list(read_rows(csv_path, "csv", encoding)) == [{"externalId": "x1", "name": "José"}]
        assert list(read_rows(jsonl_path, "jsonl", encoding)) == [{"externalId": "x1"}]


def test_a_row_with_extra_cells_keeps_the_whole_row(tmp_path: Path) -> None:
    # The rejects file used to keep only the extra cells (["surplus"]), not the row to fix.
    path = tmp_path / "rows.csv"
    path.write_text('externalId,name\nx1,Ada,surplus\nx2,"two\nlines",again\nx3,ok\n')
    rows = list(read_rows(path, "csv"))
    assert isinstance(rows[0], BadRow) and rows[0].text == "x1,Ada,surplus"
    assert rows[0].line == 2 and "3 cells but 2 columns" in str(rows[0].error)
    assert isinstance(rows[1], BadRow) and rows[1].text == 'x2,"two\nlines",again'
    assert rows[1].line == 3  # where the row starts
    assert rows[2] == {"externalId": "x3", "name": "ok"}
    assert reject_record(0, rows[0], rows[0].error)["text"] == "x1,Ada,surplus"


def test_a_cell_error_keeps_the_raw_row(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv"
    path.write_text("externalId,amount\nt1,lots\n")
    [bad] = list(read_rows(path, "csv"))
    assert isinstance(bad, BadRow) and bad.text == "t1,lots" and bad.line == 2


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("Jos\xe9,name\nx,y\n".encode("latin-1"), "utf-8", "CSV header"),
        (b"externalId\nx\n", "utf-16", "not ASCII-compatible"),
        (b"externalId\nx\n", "klingon", "unknown encoding"),
    ],
)
def test_an_unreadable_file_is_refused_before_any_row(
    tmp_path: Path, content: bytes, encoding: str, message: str
) -> None:
    path = tmp_path / "rows.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=message):
        count_rows(path, "csv", encoding)
    with pytest.raises(UnreadableFileError, match=message):
        list(read_rows(path, "csv", encoding))
