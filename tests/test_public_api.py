from __future__ import annotations

import subprocess
import sys

import gu1_async


def test_all_matches_exported_names() -> None:
    exported = {
        name
        for name, value in vars(gu1_async).items()
        if not name.startswith("_") and not isinstance(value, type(gu1_async))
    }
    assert set(gu1_async.__all__) - {"__version__"} == exported
    assert list(gu1_async.__all__) == sorted(gu1_async.__all__)


def test_public_classes_show_the_public_module() -> None:
    assert gu1_async.Gu1Client.__module__ == "gu1_async"
    assert gu1_async.RateLimitError.__module__ == "gu1_async"


def test_version_from_package_metadata() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import gu1_async; print(gu1_async.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == gu1_async.__version__
    assert gu1_async.__version__[0].isdigit()
