"""How `gu1 status` draws a fleet snapshot with rich: a block per budget, named by key id."""

from __future__ import annotations

import datetime as dt

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..governor import BudgetSnapshot, FleetSnapshot, WindowSnapshot, WorkerSnapshot
from ._progress import format_duration

__all__ = ["render_fleet"]


def render_fleet(snapshot: FleetSnapshot, origin: str) -> RenderableType:
    """The whole snapshot: a header line, then each budget's windows and workers.

    `origin` says where it was read (`redis 127.0.0.1:6379/0`, `fake server`...), already
    stripped of anything secret.
    """
    taken = dt.datetime.fromtimestamp(snapshot.taken_at, tz=dt.timezone.utc)
    count = len(snapshot.budgets)
    header = Text.assemble(
        ("gu1 status", "bold"),
        f" · {origin} · {count} budget{'' if count == 1 else 's'} · ",
        f"{taken.strftime('%H:%M:%S')} UTC",
    )
    parts: list[RenderableType] = [header]
    if not snapshot.budgets:
        parts.append(
            Text(
                "no budgets here: nothing has spent a key through this store yet, or its "
                "state expired (a key's state lasts a little past its longest window)",
                style="yellow",
            )
        )
    for budget in snapshot.budgets:
        parts += ["", _budget_line(budget), _windows(budget.windows)]
        if budget.workers:
            parts.append(_workers(budget.workers))
    return Group(*parts)


def _budget_line(budget: BudgetSnapshot) -> Text:
    if budget.key_id is not None:
        name = f"key {budget.key_id}" + (f" ({budget.environment})" if budget.environment else "")
    else:
        name = f"namespace {budget.namespace}"
    interactive, batch = [*budget.waiting_by_priority, 0, 0][:2]
    line = Text.assemble(
        (name, "bold cyan"),
        f" · in flight {budget.in_flight} · waiting {interactive + batch}",
        f" ({batch} batch) · " if batch else " · ",
    )
    if budget.paused_for > 0:
        line.append(f"paused {format_duration(budget.paused_for)} (a 429)", style="bold red")
    else:
        line.append("not paused", style="green")
    return line


def _windows(windows: tuple[WindowSnapshot, ...]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column, justify in (
        ("window", "left"),
        ("limit", "right"),
        ("remaining", "right"),
        ("available", "right"),
        ("resets in", "right"),
        ("known from", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for w in windows:
        style = "red" if w.available <= 0 else None
        if w.confirmed:
            known = "headers"
        elif w.from_header:
            known = "headers (unconfirmed this window)"
        else:
            known = "the plan"
        table.add_row(
            f"per {w.name}",
            f"{w.limit:,}",
            f"{w.remaining:,}",
            Text(f"{w.available:,}", style=style or ""),
            format_duration(w.reset_in),
            known,
        )
    return table


def _workers(workers: tuple[WorkerSnapshot, ...]) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("worker")
    table.add_column("in flight", justify="right")
    table.add_column("waiting", justify="right")
    table.add_column("lease", justify="right")
    table.add_column("lease ends in", justify="right")
    for w in workers:
        if w.lease is None or w.lease_expires_in is None:
            lease, ends = "-", "-"
        else:
            lease = format_duration(w.lease)
            ends = (
                format_duration(w.lease_expires_in)
                if w.lease_expires_in >= 0
                else "lapsed (released at the next sweep)"
            )
        table.add_row(w.worker_id, str(w.in_flight), str(w.waiting), lease, ends)
    return table
