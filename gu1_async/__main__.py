"""`python -m gu1_async` runs the `gu1` command."""

from gu1_async.cli import main

main()
