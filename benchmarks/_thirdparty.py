"""Stock third-party rate limiters on loopback, each in a process group of its own.

Used by `bench_dialects.py` and by `tests/thirdparty`. Each server answers a gu1-like
`GET /entities` (`{"entities": [], "pagination": {...}}`), limits per Authorization header,
and counts from its own side what it admitted and refused:

- slowapi (FastAPI on uvicorn, `_slowapi_app.py`): its counters at `GET /stats`;
- nginx (`limit_req`, Debian's binary): its access log, parsed.

Every process is started with `start_new_session=True` and recorded in `CHILDREN`, which
kills each process group on `stop_all()` (called from `finally`, at exit, and on SIGTERM
or SIGHUP by the benchmark): no orphan outlives a run, even on Ctrl-C or an error.
Ports are picked free by the kernel; readiness is polled; config, logs, pid and temp
paths live in a temporary directory.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

__all__ = [
    "CHILDREN",
    "ENTITIES_BODY",
    "SERVERS",
    "Children",
    "RedisProcess",
    "ServerLog",
    "ServerSpec",
    "free_port",
    "nginx_binary",
    "redis_binary",
    "redis_server",
    "server",
]

HERE = Path(__file__).resolve().parent

ENTITIES_BODY: dict[str, Any] = {
    "entities": [],
    "pagination": {"total": 0, "limit": 100, "offset": 0, "hasMore": False},
}
"""What every server's `GET /entities` answers: an empty list, as `client.entities.list()`
decodes it (gu1's path has no version segment: gu1-api.md, section 1.1)."""
READY_TIMEOUT = 30.0  # seconds a server may take to answer (uvicorn imports FastAPI first)


@attrs.frozen
class ServerSpec:
    """One stock server configuration and the quota it enforces."""

    name: str
    title: str
    kind: Literal["slowapi", "nginx"]
    limit: int  # requests per period
    period: float  # seconds
    strategy: str = "fixed-window"  # slowapi only
    headers: bool = True  # slowapi only: headers_enabled

    @property
    def rate(self) -> float:
        """The admissions per second the quota allows: the ideal client's throughput."""
        return self.limit / self.period


SERVERS: dict[str, ServerSpec] = {
    spec.name: spec
    for spec in (
        ServerSpec("fixed", "slowapi fixed window 40/2 s, headers", "slowapi", 40, 2.0),
        ServerSpec(
            "moving",
            "slowapi moving window 40/2 s, headers",
            "slowapi",
            40,
            2.0,
            strategy="moving-window",
        ),
        ServerSpec(
            "bare", "slowapi fixed window 40/2 s, bare 429", "slowapi", 40, 2.0, headers=False
        ),
        ServerSpec("nginx", "nginx limit_req 20r/s, no burst", "nginx", 20, 1.0),
    )
}


@attrs.frozen
class ServerLog:
    """Wall-clock times (time.time()) of one key's admitted (2xx) and refused (429) requests."""

    admitted: tuple[float, ...]
    refused: tuple[float, ...]
    other: int = 0  # any other status

    @property
    def total(self) -> int:
        return len(self.admitted) + len(self.refused) + self.other


# -- processes ------------------------------------------------------------------------------


class Children:
    """Every process group this run started, so that all of them can be killed at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: list[subprocess.Popen[bytes]] = []
        self._closed = False

    def spawn(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stdout: int | None = subprocess.DEVNULL,
        stderr: int | None = subprocess.DEVNULL,
    ) -> subprocess.Popen[bytes]:
        """Start `command` as the leader of a new process group (and session)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("shutting down: no new process")
            process = subprocess.Popen(
                list(command),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
            self._running.append(process)
            return process

    def stop(self, process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        """SIGTERM the process's group, then SIGKILL it if it is not gone in `timeout` s."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        # nginx's workers are in the group too: make sure none is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with self._lock:
            if process in self._running:
                self._running.remove(process)

    def stop_all(self) -> None:
        """Kill every group still running; no process can be started afterwards."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for process in running:
            self.stop(process, timeout=2.0)

    def reopen(self) -> None:
        """Allow spawning again (for tests, which run several servers one after another)."""
        with self._lock:
            self._closed = False


CHILDREN = Children()


def free_port() -> int:
    """A loopback port the kernel says is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not become ready in {READY_TIMEOUT:g} s")
        time.sleep(0.05)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


# -- servers --------------------------------------------------------------------------------


class RunningServer:
    """A started server: its base URL and how to read its own count for one key."""

    def __init__(self, spec: ServerSpec, url: str, directory: Path) -> None:
        self.spec = spec
        self.url = url
        self.directory = directory

    def log(self, authorization: str) -> ServerLog:
        """What the server itself admitted and refused for this Authorization value."""
        if self.spec.kind == "slowapi":
            query = urllib.parse.urlencode({"key": authorization})
            with urllib.request.urlopen(f"{self.url}/stats?{query}", timeout=10.0) as response:
                data = json.loads(response.read())
            return ServerLog(tuple(data["admitted"]), tuple(data["refused"]))
        # nginx logs a request after its response has gone out: the last lines may still
        # be on their way when the client is done. Read until two reads 50 ms apart agree.
        path = self.directory / "access.log"
        log = _parse_nginx_log(path, authorization)
        for _ in range(40):
            time.sleep(0.05)
            again = _parse_nginx_log(path, authorization)
            if again == log:
                break
            log = again
        return log


@contextlib.contextmanager
def server(spec: ServerSpec) -> Iterator[RunningServer]:
    """Start one fresh server of `spec` on a free loopback port; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix=f"gu1-bench-{spec.name}-") as tmp:
        directory = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        if spec.kind == "slowapi":
            process = _start_slowapi(spec, port, directory)
            ready_url = f"{url}/stats?key=ready"
        else:
            process = _start_nginx(port, spec, directory)
            ready_url = f"{url}/ready"
        try:
            _wait_until(lambda: _http_ok(ready_url), process, f"{spec.kind} ({spec.name})")
            yield RunningServer(spec, url, directory)
        finally:
            CHILDREN.stop(process)


def _start_slowapi(spec: ServerSpec, port: int, directory: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        BENCH_SLOWAPI_LIMIT=f"{spec.limit}/{spec.period:g} seconds",
        BENCH_SLOWAPI_STRATEGY=spec.strategy,
        BENCH_SLOWAPI_HEADERS="1" if spec.headers else "0",
    )
    command = [sys.executable, "-m", "uvicorn", "--factory", "_slowapi_app:create_app"]
    command += ["--app-dir", str(HERE), "--host", "127.0.0.1", "--port", str(port)]
    # Keep idle connections as long as nginx does (75 s): a client paused for a while
    # should not meet a connection the server closed under it.
    command += ["--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "75"]
    # cwd: slowapi reads a `.env` from the working directory; the temp dir has none.
    return CHILDREN.spawn(command, cwd=directory, env=env, stderr=None)


def nginx_binary() -> str | None:
    """Debian's nginx, on PATH or in /usr/sbin (root's PATH has it; others' may not)."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


NGINX_CONF = """\
daemon off;
master_process on;
worker_processes 1;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    log_format bench '$msec $status $http_authorization';
    access_log off;
    limit_req_zone $http_authorization zone=bench:1m rate={rate}r/s;
    # Refusals are logged at info, below error_log's level: the access log counts them.
    limit_req_log_level info;
    server {{
        listen 127.0.0.1:{port};
        etag off;
        location = /entities {{
            limit_req zone=bench;
            limit_req_status 429;
            access_log {dir}/access.log bench;
            default_type application/json;
            root {dir}/html;
        }}
        location = /ready {{
            return 200 'ok';
        }}
    }}
}}
"""
"""`return 200` would answer before limit_req runs (rewrite precedes the preaccess
phase), so `/entities` is a static file with the JSON body."""


def _start_nginx(port: int, spec: ServerSpec, directory: Path) -> subprocess.Popen[bytes]:
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("no nginx binary (apt-get install nginx)")
    if spec.period != 1.0:
        raise ValueError("nginx's limit_req takes a rate per second")
    html = directory / "html"
    html.mkdir()
    (html / "entities").write_text(json.dumps(ENTITIES_BODY))
    user = ""
    if os.geteuid() == 0:
        # As root, nginx's workers drop to an unprivileged user; they must read html/.
        nobody = pwd.getpwnam("nobody")
        user = f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"
        for path in (directory, html):
            path.chmod(0o755)
        (html / "entities").chmod(0o644)
    conf = directory / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, dir=directory, port=port, rate=spec.limit))
    command = [binary, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")]
    return CHILDREN.spawn(command, cwd=directory, stderr=None)


def _parse_nginx_log(path: Path, authorization: str) -> ServerLog:
    admitted: list[float] = []
    refused: list[float] = []
    other = 0
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split(" ", 2)
            if len(parts) != 3 or parts[2] != authorization:
                continue
            when, status = float(parts[0]), int(parts[1])
            if 200 <= status < 300:
                admitted.append(when)
            elif status == 429:
                refused.append(when)
            else:
                other += 1
    return ServerLog(tuple(admitted), tuple(refused), other)


# -- redis ------------------------------------------------------------------------------------


def redis_binary() -> str | None:
    return shutil.which("redis-server")


@attrs.frozen
class RedisProcess:
    url: str


@contextlib.contextmanager
def redis_server() -> Iterator[RedisProcess]:
    """A throwaway redis-server on a free loopback port, nothing persisted."""
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("no redis-server binary (apt-get install redis-server)")
    with tempfile.TemporaryDirectory(prefix="gu1-bench-redis-") as tmp:
        port = free_port()
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", tmp]
        process = CHILDREN.spawn(command, cwd=Path(tmp))
        try:
            _wait_until(lambda: _redis_answers(port), process, "redis-server")
            yield RedisProcess(f"redis://127.0.0.1:{port}/0")
        finally:
            CHILDREN.stop(process)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
