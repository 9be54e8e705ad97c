"""The `gu1` command group; each subcommand lives in its own module."""

from __future__ import annotations

import click

from .._version import __version__
from ._demo import demo
from ._fake_server import fake_server
from ._ingest import ingest
from ._limits import key, limits
from ._status import status


# show_default: every subcommand's --help shows its options' defaults, none need say so.
@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="gu1-async")
def cli() -> None:
    """gu1 — the gu1 API from the command line (gu1-async).

    The API key is read from GU1_API_KEY (or a .env file in the current directory), never
    from an argument: arguments end up in shell history and process listings.
    """


cli.add_command(key)
cli.add_command(limits)
cli.add_command(status)
cli.add_command(ingest)
cli.add_command(demo)
cli.add_command(fake_server)
