"""The README's example runs as written, against the fake server started by the CLI."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from gu1_async.testing import DEFAULT_KEY

README = Path(__file__).resolve().parent.parent / "README.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"fake server did not listen on {port}")


def test_readme_example_runs_twice_against_the_fake_server() -> None:
    # Twice: with `create` and its fixed externalId the second run failed with 409.
    readme = README.read_text()
    snippet = re.search(r"```python\n(.*?)```", readme, re.S)
    assert snippet is not None
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gu1_async", "fake-server", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, time.monotonic() + 20)
        env = {**os.environ, "GU1_API_KEY": DEFAULT_KEY, "GU1_BASE_URL": f"http://127.0.0.1:{port}"}
        runs = [
            subprocess.run(
                [sys.executable, "-c", snippet.group(1)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            for _ in range(2)
        ]
    finally:
        server.terminate()
        server.wait(timeout=10)
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "RateLimitSnapshot(limit=100" in run.stdout
        assert DEFAULT_KEY not in run.stdout + run.stderr
    assert runs[0].stdout.startswith("created ") and runs[1].stdout.startswith("updated ")
    # The README says how to point the snippet at the fake server, and the default timeout.
    assert "GU1_BASE_URL=http://127.0.0.1:8765" in readme and "base_url=" in readme
    assert "60 s total timeout" in readme
