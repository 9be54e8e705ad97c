"""The keyword specs are real signatures for a type checker (PEP 692): mypy --strict accepts
the good calls below and rejects each bad one, on its line, naming what is wrong."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each line ending in `# E: <words>` must draw a mypy error containing those words;
# no other line may draw one.
SAMPLE = """
from gu1_async import CLEAR, FilePart, Gu1Client, Priority
from gu1_async.resources import EntityCreateParams, EntityUpdateParams


async def good(client: Gu1Client) -> None:
    await client.entities.create(type="person", name="Ada", country_code="AR")
    await client.entities.create(
        type="company", name="Acme", country_code="AR", tax_id="30-1", timeout=5.0
    )
    await client.entities.update("ent-1", email=CLEAR, priority=Priority.BATCH)
    update: EntityUpdateParams = {"status": "blocked", "reason": "fraud"}
    await client.entities.update_by_external_id("cust-1", **update)
    create: EntityCreateParams = {"type": "person", "name": "Ada", "country_code": "AR"}
    await client.entities.create(**create)
    await client.bulk_imports.create_mapping(
        name="m", target="entity", column_mapping={"tax": "taxId"}
    )
    await client.transactions.upload(file=FilePart("t.csv", b"a,b"), validate_gap=True)
    await client.events.list(event_type="login", page_size=100, limit=5).collect()
    await client.devices.list("ent-1", page_size=10, timeout=2.0).collect()
    await client.request("GET", "/entities", params={"limit": 1}, headers={"X-A": "b"})


async def bad(client: Gu1Client) -> None:
    await client.entities.create(type="person", name="Ada", contry_code="AR")  # E: "contry_code"
    await client.entities.create(type="person", name="Ada", country_code=1)  # E: "country_code"
    await client.entities.create(type="person", name="Ada")  # E: "country_code"
    await client.entities.update("ent-1", timeout="soon")  # E: "timeout"
    await client.entities.update("ent-1", nam="Ada")  # E: "nam"
    await client.bulk_imports.import_entities(items=[{}], depth="deep")  # E: "depth"
    await client.transactions.upload(file="t.csv")  # E: "file"
    client.events.list(page_size="all")  # E: "page_size"
    client.kyc.list_for_entity("ent-1", limt=5)  # E: "limt"
    await client.request("GET", "/entities", jsn={})  # E: "jsn"
"""


@pytest.mark.slow
def test_mypy_reads_the_specs_as_signatures(tmp_path: Path) -> None:
    sample = tmp_path / "sample_calls.py"
    sample.write_text(SAMPLE, encoding="utf-8")
    expected = {
        number: mark.split("# E:", 1)[1].strip()
        for number, mark in enumerate(SAMPLE.splitlines(), start=1)
        if "# E:" in mark
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--python-version=3.10",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / "cache"),
            str(sample),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors: dict[int, list[str]] = {}
    for line in result.stdout.splitlines():
        found = re.match(rf"{re.escape(str(sample))}:(\d+): error: (.*)", line)
        if found:
            errors.setdefault(int(found[1]), []).append(found[2])
    assert set(errors) == set(expected), result.stdout + result.stderr
    for number, words in expected.items():
        assert any(words in message for message in errors[number]), (number, errors[number])
