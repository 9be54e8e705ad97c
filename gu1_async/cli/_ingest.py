"""`gu1 ingest FILE`: rows from JSONL or CSV into gu1, resumable, with a live progress bar.

Ctrl-C once: no new rows are taken, the rows in flight finish, the checkpoint is written.
Ctrl-C twice: the rows in flight are abandoned at once (a later `--resume` sends them
again; upsert keeps them from duplicating). Either way every finished row is in the
checkpoint, because it is appended the moment the row finishes.

`--via bulk` (entities only) sends the rows as bulk jobs instead. The checkpoint stays per
row: a row is finished when its job is terminal and its outcome known, so a resume re-sends
at most the rows of the jobs in flight, which gu1 then skips by tax id (docs/batch.md).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from ..ingest import (
    DEFAULT_BULK_CONCURRENCY,
    DEFAULT_BULK_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_POLL_INTERVAL,
    BulkUnavailableError,
    IngestReport,
)
from ._checkpoint import Checkpoint, CheckpointMismatchError
from ._common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    async_command,
    closing_store,
    gu1_options,
    make_client,
    redis_store,
)
from ._ingest_run import KINDS, VIAS, run_ingestion
from ._rejects import Rejects, describe_failures
from ._report_file import echo_merged, load_previous, write_report
from ._rows import (
    DEFAULT_ENCODING,
    UnreadableFileError,
    count_rows,
    detect_format,
    read_rows,
)
from ._shard import SHARD_BY, Shard, ShardedRows, rows_in_shard

__all__ = ["ingest", "run_ingestion"]


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--kind", type=click.Choice(KINDS), default="entities")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "jsonl", "csv"]),
    default="auto",
    help="auto: csv for a .csv file, else JSON lines.",
)
@click.option(
    "--encoding",
    default=DEFAULT_ENCODING,
    help="The file's text encoding (utf-8-sig, latin-1, cp1252...); a row that does not "
    "decode is rejected with its line and bytes, and the run goes on.",
)
@click.option(
    "--via",
    type=click.Choice(VIAS),
    default="upsert",
    help="Entities: one upsert per row, bulk jobs of --bulk-size rows (creates only; needs "
    "the bulk import permission and feature flag), or auto (bulk, else upsert).",
)
@click.option(
    "--bulk-size",
    type=click.IntRange(1, 100_000),
    default=DEFAULT_BULK_SIZE,
    help="Rows per bulk job (--via bulk or auto).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 1000),
    help=f"Most rows in flight at once (the governor paces them to the quota) "
    f"[default: {DEFAULT_CONCURRENCY}]; with --via bulk or auto, most jobs in flight "
    f"[default: {DEFAULT_BULK_CONCURRENCY}].",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Checkpoint file [default: FILE.checkpoint].",
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where failed rows go, as JSON lines with their error [default: FILE.rejects.jsonl].",
)
@click.option("--resume", is_flag=True, help="Skip the rows the checkpoint lists as finished.")
@click.option("--restart", is_flag=True, help="Discard an existing checkpoint and start over.")
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0),
    help="Fail a row instead of waiting longer than this many seconds for quota.",
)
@click.option(
    "--shard",
    "shard_spec",
    metavar="K/N",
    help="Send only shard K of N (1 <= K <= N): run N of these, on one machine or many, "
    "to send every row exactly once. Each shard has its own checkpoint, rejects and report.",
)
@click.option(
    "--shard-by",
    type=click.Choice(SHARD_BY),
    default="row",
    help="Split by row number, or by a hash of each row's externalId (all of an entity's "
    "rows in one shard, whatever the file's order).",
)
@click.option(
    "--redis",
    "redis_url",
    envvar="GU1_REDIS_URL",
    metavar="URL",
    help="Share the key's rate-limit budget with every process on this Redis (the shards, "
    "your workers) instead of each spending the whole quota. Needs gu1-async[redis].",
)
@click.option(
    "--redis-lease",
    envvar="GU1_REDIS_LEASE",
    type=click.FloatRange(min=0, min_open=True),
    hidden=True,
    help="Seconds before a dead process's share of the Redis budget is freed (the store's "
    "lease, 15 s): a process killed while it held a window's probe stalls the others "
    "that long.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run's report as JSON here [default with --shard: FILE.shard-K-of-N"
    ".report.json]; a resumed run adds to it.",
)
@click.option(
    "--merge-report",
    is_flag=True,
    help="Instead of ingesting, add up the report files given as FILES (one per shard).",
)
@click.option("--progress/--no-progress", default=True, help="Show the live progress bar.")
@gu1_options
@async_command
async def ingest(
    files: tuple[Path, ...],
    kind: str,
    fmt: str,
    encoding: str,
    via: str,
    bulk_size: int,
    concurrency: int | None,
    checkpoint: Path | None,
    rejects: Path | None,
    resume: bool,
    restart: bool,
    max_wait: float | None,
    shard_spec: str | None,
    shard_by: str,
    redis_url: str | None,
    redis_lease: float | None,
    report_file: Path | None,
    merge_report: bool,
    progress: bool,
    base_url: str | None,
    plan: str,
    time_scale: float | None,
    allow_environment_mismatch: bool,
) -> None:
    """Send every row of FILE (JSON lines or CSV) to gu1, at the pace the quota allows.

    Entities are upserted by externalId, so a row sent twice (a lost answer, a resume after
    a crash) never creates a second entity; with --via bulk they go as bulk jobs keyed by
    taxId, where gu1 skips a tax id it already has. Ends with `N succeeded, N failed` (and
    `N skipped` when --resume skipped rows finished earlier). Exit status: 0 all rows
    succeeded, 1 some failed (or the bulk endpoint is not available), 130 interrupted.

    With --merge-report, FILES are the shards' report files: prints their sum and exits 0
    only if every shard is there and every row finished and succeeded.
    """
    if merge_report:
        echo_merged(files)
        return
    if len(files) != 1:
        raise click.UsageError("ingest takes one FILE (several only with --merge-report)")
    file = files[0]
    try:
        shard = Shard.parse(shard_spec, shard_by) if shard_spec else Shard(by=shard_by)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if resume and restart:
        raise click.UsageError("--resume and --restart exclude each other")
    if via != "upsert" and kind != "entities":
        raise click.UsageError(f"--via {via} is for --kind entities only")
    if concurrency is None:
        concurrency = DEFAULT_CONCURRENCY if via == "upsert" else DEFAULT_BULK_CONCURRENCY
    # gu1 recommends a poll every 2 s; on a fake server's scaled time that is 2 API seconds.
    poll_interval = DEFAULT_POLL_INTERVAL / (time_scale or 1.0)
    stem = file.name + shard.suffix
    checkpoint_path = checkpoint or file.with_name(stem + ".checkpoint")
    rejects_path = rejects or file.with_name(stem + ".rejects.jsonl")
    report_path = report_file or (
        file.with_name(stem + ".report.json") if shard.count > 1 else None
    )
    if checkpoint_path.exists() and not (resume or restart):
        raise click.UsageError(
            f"{checkpoint_path} exists from an earlier run: pass --resume to continue it "
            "or --restart to start over"
        )
    row_format = detect_format(file, fmt)
    try:
        total = rows_in_shard(
            count_rows(file, row_format, encoding),
            shard,
            lambda: read_rows(file, row_format, encoding),
        )
    except UnreadableFileError as exc:
        raise click.UsageError(f"{file}: {exc}") from None
    # The client first: a missing or malformed key fails before a checkpoint is written
    # (one left behind would make the next, keyed run ask for --resume).
    store = redis_store(redis_url, redis_lease)
    client = make_client(
        base_url,
        plan,
        time_scale,
        max_connections=concurrency,
        allow_environment_mismatch=allow_environment_mismatch,
        store=store,
    )
    async with closing_store(store), client:
        try:
            state = Checkpoint.open(
                checkpoint_path,
                input_path=file,
                kind=kind,
                resume=resume,
                shard=f"{shard.label} by {shard.by}" if shard.count > 1 else None,
            )
        except CheckpointMismatchError as exc:
            raise click.UsageError(str(exc)) from None
        previous = {}
        if report_path is not None and resume:
            previous = load_previous(report_path, input_path=file, kind=kind, shard=shard)
        console = Console(stderr=True)
        if state.finished_before:
            console.print(f"resuming: {state.finished_before} of {total} rows finished earlier")
        writer = Rejects(rejects_path)
        first_errors: dict[str, BaseException] = {}
        try:
            rows = read_rows(file, row_format, encoding)
            report, interrupts = await run_ingestion(
                client,
                kind,
                ShardedRows(rows, shard) if shard.count > 1 else rows,
                total=total,
                concurrency=concurrency,
                checkpoint=state,
                rejects=writer,
                progress=progress,
                console=console,
                max_wait=max_wait,
                description=kind if shard.count == 1 else f"{kind} {shard.label}",
                via=via,
                bulk_size=bulk_size,
                poll_interval=poll_interval,
                first_errors=first_errors,
            )
        except BulkUnavailableError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from None
        finally:
            state.close()
            writer.close()
    if report_path is not None:
        write_report(
            report_path,
            report,
            input_path=file,
            kind=kind,
            shard=shard,
            rows=total,
            finished=state.finished,
            previous=previous,
        )
    _print_summary(report, interrupts, state, writer, first_errors)
    if interrupts:
        raise SystemExit(EXIT_INTERRUPTED)
    if report.failed or report.stop_reason:
        raise SystemExit(EXIT_FAILED)


def _print_summary(
    report: IngestReport,
    interrupts: int,
    checkpoint: Checkpoint,
    rejects: Rejects,
    first_errors: dict[str, BaseException],
) -> None:
    click.echo(report.summary())
    if report.errors:
        click.echo(f"failures (every row and its error are in {rejects.path}):", err=True)
        for line in describe_failures(report.errors, first_errors):
            click.echo(f"  {line}", err=True)
    if report.stop_reason and not interrupts:
        click.echo(f"stopped early: {report.stop_reason}", err=True)
    if interrupts:
        click.echo(
            f"interrupted: {checkpoint.finished} rows finished so far are in "
            f"{checkpoint.path}; run again with --resume to continue",
            err=True,
        )
