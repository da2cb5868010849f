"""Real server processes for end-to-end tests: ``python -m uvicorn server.asgi:app`` on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """One uvicorn process serving the app, with the contract's websocket limits."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/api/v1/ws"
        self.log = Path(tempfile.mkstemp(prefix="sf-node-", suffix=".log")[1])
        self._env = {**os.environ, **env}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        return self.spawn().wait_ready()

    def spawn(self) -> Node:
        """Start the process without waiting for it (start several nodes at once, then ``wait_ready``)."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable, "-m", "uvicorn", "server.asgi:app",
                    "--host", "127.0.0.1", "--port", str(self.port),
                    "--ws-max-size", str(64 * 1024), "--ws-ping-interval", "20", "--ws-ping-timeout", "20",
                    "--ws", "channels.wire:GatewayProtocol", "--no-access-log",
                ],
                cwd=ROOT, env=self._env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        return self

    def wait_ready(self) -> Node:
        assert self.proc is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"node exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"node did not start: {self.log.read_text()[-3000:]}")

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
