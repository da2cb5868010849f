"""A real nginx with Debian's RTMP module, on loopback, from deploy/nginx-rtmp's template (own prefix)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.nodes import free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx-rtmp" / "nginx.conf.template"
MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text() if log.exists() else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not listen on {port}")


class Nginx:
    """``nginx -p <dir> -c <dir>/nginx.conf`` in the foreground, as this user, not the system service."""

    def __init__(self, workdir: Path, app_url: str, secret: str) -> None:
        self.dir = workdir
        self.hls = workdir / "hls"
        self.recordings = workdir / "recordings"
        self.rtmp_port, self.http_port, self.hook_port = free_port(), free_port(), free_port()
        self.control_port = free_port()
        self.values = {
            "RTMP_MODULE": str(MODULE),
            "RUN_DIR": str(workdir / "run"),
            "RTMP_PORT": str(self.rtmp_port),
            "HTTP_PORT": f"127.0.0.1:{self.http_port}",
            "HOOK_PORT": str(self.hook_port),
            "CONTROL_PORT": f"127.0.0.1:{self.control_port}",
            "HLS_DIR": str(self.hls),
            "RECORD_DIR": str(self.recordings),
            "LIVE_HOOK_SECRET": secret,
            "APP_URL": app_url,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def ingest(self) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    @property
    def relay(self) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/hls"

    @property
    def hls_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/hls"

    @property
    def control_url(self) -> str:
        return f"http://127.0.0.1:{self.control_port}/control"

    def config(self) -> str:
        text = TEMPLATE.read_text()
        for name, value in self.values.items():
            text = text.replace("${" + name + "}", value)
        assert "${" not in text, "a placeholder of the template was not filled"
        # One foreground process as the current user (the shipped image runs a master and www-data workers).
        return "daemon off;\nmaster_process off;\n" + text

    def start(self) -> Nginx:
        if not MODULE.exists() or shutil.which("nginx") is None:
            raise RuntimeError("nginx with libnginx-mod-rtmp is not installed: run `make test-live`")
        for folder in (self.hls, self.recordings, self.dir / "run"):
            folder.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "nginx.conf"
        conf.write_text(self.config())
        log = self.dir / "run" / "error.log"
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.dir), "-c", str(conf), "-e", str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        _wait_port(self.rtmp_port, self.proc, log)
        _wait_port(self.http_port, self.proc, log)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def files(self) -> list[str]:
        """Every file nginx wrote for playback and replays, relative to its folders."""
        return [str(p.relative_to(self.dir)) for p in (*self.hls.rglob("*"), *self.recordings.rglob("*"))]
