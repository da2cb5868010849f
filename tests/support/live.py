"""A real ``python -m server serve`` (uvicorn) on the test PostgreSQL and Redis, for suites that need sockets."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    """A running server: ``url``, ``ws_url`` and its process (``log()`` for failure messages)."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.proc, self.port, self.log_path = proc, port, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/api/v1/ws"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def _wait_ready(server: LiveServer, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout  # generous on a busy machine; never asserted on
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited with {server.proc.returncode}:\n{server.log()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"server never became ready:\n{server.log()}")


@contextlib.contextmanager
def live_server(**env_overrides: str) -> Iterator[LiveServer]:
    """Serve the app on a free port with the test ``DATABASE_URL``/``REDIS_URL`` and ``env_overrides``."""
    data_dir = Path(tempfile.mkdtemp(prefix="sf-live-"))
    log_path = data_dir / "server.log"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TEST_REDIS_URL"}
    env.update(DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port), LOG_LEVEL="warning")
    env.update(env_overrides)
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(proc, port, log_path)
    try:
        _wait_ready(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
