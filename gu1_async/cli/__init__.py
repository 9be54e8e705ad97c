"""The `gu1` command. Its dependencies (click, rich) come with the `cli` extra."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `gu1` console script."""
    try:
        from ._app import cli
    except ImportError as exc:  # pragma: no cover - exercised in a venv without the extra
        missing = exc.name or "a dependency"
        sys.stderr.write(
            f"gu1: the command line needs the 'cli' extra ({missing} is missing): "
            "pip install 'gu1-async[cli]'\n"
        )
        raise SystemExit(2) from None
    cli.main(args=argv, prog_name="gu1")
