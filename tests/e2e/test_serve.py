"""``python -m server serve`` as a user runs it: embedded PostgreSQL, /healthz, Ctrl-C, nothing left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


def _wait_for_health(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # initdb on a busy 2-core machine: generous, never asserted on
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"server never became healthy:\n{log.read_text()[-4000:]}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_serve_on_embedded_postgres_then_a_stop_signal_leaves_no_process_behind(sig: signal.Signals):
    data_dir = Path(tempfile.mkdtemp(prefix="sf-e2e-"))
    log = data_dir.parent / f"{data_dir.name}.log"
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        # as a user runs it: also the production argon2 cost (the other servers tests start hash at the cheapest)
        if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "TEST_REDIS_URL", "SMTP_URL", "PASSWORD_HASH_COST")
    }
    env.update(DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_health(base, proc, log)
        assert httpx.get(f"{base}/readyz", timeout=10).json() == {"status": "ok", "down": []}
        res = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"username": "eve", "email": "eve@example.com", "password": "correct horse battery"},
            timeout=30,
        )
        assert res.status_code == 201, res.text
        assert _processes_mentioning(str(data_dir)), "the embedded PostgreSQL should be running in DATA_DIR"
        # The generated secret is kept, private, in DATA_DIR.
        assert (data_dir / "secret_key").stat().st_mode & 0o077 == 0

        proc.send_signal(sig)
        proc.wait(timeout=90)
        assert proc.returncode in (0, 128 + sig, -sig), log.read_text()[-4000:]
        assert "Traceback" not in log.read_text()
        assert _processes_mentioning(str(data_dir)) == []
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
        log.unlink(missing_ok=True)
