"""The report file of `gu1 ingest` and `gu1 ingest --merge-report`, which adds them up.

A run writes its report as one JSON object when it ends (however it ends, short of being
killed): the input, kind and shard; `rows`, the rows of the input in the shard;
`finished`, the rows the checkpoint holds as finished over every run; and `succeeded`,
`failed` and `errors`, summed over every run of the shard that wrote a report (a resumed
run adds to what the report it found said). A run that was killed writes none, so the
rows it finished are in `finished` but in neither count: the merge shows them as
`finished_unreported` rather than guess how they went.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ..ingest import IngestReport
from ._common import EXIT_FAILED
from ._shard import Shard

__all__ = [
    "ReportMismatchError",
    "echo_merged",
    "load_previous",
    "merge_reports",
    "write_report",
]

_VERSION = 1


class ReportMismatchError(ValueError):
    """The report files do not describe the shards of one ingestion."""


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportMismatchError(f"{path}: not readable as a gu1 ingest report ({exc})") from None
    if not isinstance(data, dict) or data.get("gu1_ingest_report") != _VERSION:
        raise ReportMismatchError(f"{path} is not a gu1 ingest report")
    return data


def load_previous(path: Path, *, input_path: Path, kind: str, shard: Shard) -> dict[str, Any]:
    """The counts a resumed run carries on: those of `path` if it is this shard's report."""
    if not path.exists():
        return {}
    try:
        old = _read(path)
    except ReportMismatchError:
        return {}
    same = (old.get("input"), old.get("kind"), old.get("shard")) == (
        str(input_path.resolve()),
        kind,
        shard.label,
    )
    return old if same else {}


def write_report(
    path: Path,
    report: IngestReport,
    *,
    input_path: Path,
    kind: str,
    shard: Shard,
    rows: int,
    finished: int,
    previous: dict[str, Any],
) -> dict[str, Any]:
    """Write this run's report, added to `previous` (a resumed shard's earlier runs)."""
    errors = Counter(previous.get("errors", {}))
    errors.update(report.errors)
    data = {
        "gu1_ingest_report": _VERSION,
        "input": str(input_path.resolve()),
        "kind": kind,
        "shard": shard.label,
        "shard_by": shard.by,
        "rows": rows,
        "finished": finished,
        "succeeded": int(previous.get("succeeded", 0)) + report.succeeded,
        "failed": int(previous.get("failed", 0)) + report.failed,
        "errors": dict(sorted(errors.items())),
        "runs": int(previous.get("runs", 0)) + 1,
        "last_run": {
            "read": report.read,
            "succeeded": report.succeeded,
            "failed": report.failed,
            "skipped": report.skipped,
            "cancelled": report.cancelled,
            "elapsed": round(report.elapsed, 3),
            "stop_reason": report.stop_reason,
        },
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)  # a reader never sees half a report
    return data


def merge_reports(paths: Sequence[Path]) -> dict[str, Any]:
    """The shards' reports summed, after checking they are one ingestion's N shards.

    Raises:
        ReportMismatchError: unreadable, of different inputs, kinds or shard counts, or a
            shard given twice. A missing shard is not an error: it shows in `missing`.
    """
    reports = [(path, _read(path)) for path in paths]
    first = reports[0][1]
    counts = {r["shard"].partition("/")[2] for _, r in reports}
    for path, report in reports:
        for name in ("input", "kind", "shard_by"):
            if report.get(name) != first.get(name):
                raise ReportMismatchError(
                    f"{path} is for {name}={report.get(name)!r}, not {first.get(name)!r}"
                )
    if len(counts) != 1:
        raise ReportMismatchError(f"the reports split the input differently: /{', /'.join(counts)}")
    shards = [r["shard"] for _, r in reports]
    twice = sorted({s for s in shards if shards.count(s) > 1})
    if twice:
        raise ReportMismatchError(f"shard {', '.join(twice)} given more than once")
    n = int(counts.pop())
    errors: Counter[str] = Counter()
    for _, report in reports:
        errors.update(report.get("errors", {}))
    total = {
        name: sum(int(r[name]) for _, r in reports)
        for name in ("rows", "finished", "succeeded", "failed")
    }
    return {
        "input": first["input"],
        "kind": first["kind"],
        "shards": len(reports),
        "of": n,
        "missing": [f"{k}/{n}" for k in range(1, n + 1) if f"{k}/{n}" not in shards],
        **total,
        "finished_unreported": total["finished"] - total["succeeded"] - total["failed"],
        "left": total["rows"] - total["finished"],
        "errors": dict(sorted(errors.items())),
    }


def echo_merged(paths: Sequence[Path]) -> None:
    """`gu1 ingest --merge-report`: print the sum; exit 1 unless every row succeeded."""
    try:
        merged = merge_reports(paths)
    except ReportMismatchError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(
        f"{merged['shards']} of {merged['of']} shards of {merged['input']} ({merged['kind']}): "
        f"{merged['rows']} rows, {merged['finished']} finished, {merged['left']} left"
    )
    click.echo(
        f"{merged['succeeded']} succeeded, {merged['failed']} failed"
        + (
            f", {merged['finished_unreported']} finished in runs that wrote no report"
            if merged["finished_unreported"]
            else ""
        )
    )
    for name, count in merged["errors"].items():
        click.echo(f"  {name} x{count}", err=True)
    if merged["missing"]:
        click.echo(f"missing: shard {', '.join(merged['missing'])}", err=True)
    if merged["missing"] or merged["left"] or merged["failed"]:
        raise SystemExit(EXIT_FAILED)
