"""Video: the transcode job against the ffmpeg command a user would type, 1 GiB through tus, segment serving.

- **Transcode.** A 10 s 720p clip (``testsrc2`` + ``sine``) through the real server (upload -> ``ready``,
  ffmpeg on one core: ``VIDEO_TRANSCODE_THREADS=1``, server pinned), against one hand-typed ffmpeg
  command producing the same HLS ladder on the same core. Ours also writes the poster and storyboard.
- **Upload.** ``--video-upload-mib`` (1 GiB by default) in one tus PATCH over loopback; MiB/s and the
  server's RSS growth (sampled every 50 ms, against its RSS before the upload).
- **Segments.** A 2 MiB segment fetched with ``Range`` by 8 keep-alive connections in a closed loop:
  Social Flow's media route (``/media/videos/{id}/p/...``) against Starlette's ``StaticFiles``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench import procs, venvs
from bench.stacks import UVICORN_FLAGS
from bench.wire import HTTPPool

TUS = {"Tus-Resumable": "1.0.0"}
SEGMENT_BYTES = 2 * 1024 * 1024
LADDER = ((240, 400), (360, 800), (480, 1400), (720, 2800))


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def make_clip(path: Path) -> Path:
    subprocess.run(  # noqa: S603
        [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
         "testsrc2=size=1280x720:rate=30:duration=10", "-f", "lavfi", "-i", "sine=frequency=440:duration=10",
         "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(path)],
        check=True,
    )  # fmt: skip
    return path


def plain_command(src: Path, out: Path) -> list[str]:
    """The single ffmpeg command a user would type for the same ladder (no poster, no storyboard)."""
    n = len(LADDER)
    graph = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n)) + ";"
    graph += ";".join(f"[s{i}]scale=-2:{h}[v{i}]" for i, (h, _) in enumerate(LADDER))
    args = [_ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-threads", "1", "-i", str(src)]
    args += ["-filter_complex", graph]
    for i in range(n):
        args += ["-map", f"[v{i}]", "-map", "0:a:0"]
    args += ["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-threads", "1"]
    args += ["-force_key_frames", "expr:gte(t,n_forced*4)", "-sc_threshold", "0"]
    for i, (_, kbps) in enumerate(LADDER):
        args += [
            f"-b:v:{i}",
            f"{kbps}k",
            f"-maxrate:v:{i}",
            f"{kbps * 107 // 100}k",
            f"-bufsize:v:{i}",
            f"{kbps * 3 // 2}k",
        ]
    args += ["-c:a", "aac", "-b:a", "96k", "-ac", "2", "-ar", "48000"]
    args += ["-f", "hls", "-hls_time", "4", "-hls_playlist_type", "vod", "-master_pl_name", "master.m3u8"]
    args += ["-hls_segment_filename", str(out / "%v" / "seg_%03d.ts")]
    args += ["-var_stream_map", " ".join(f"v:{i},a:{i}" for i in range(n)), str(out / "%v" / "index.m3u8")]
    return args


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Creator:
    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"})

    def video(self, title: str, length: int) -> tuple[str, str]:
        video = self.http.post("/api/v1/videos", json={"title": title, "visibility": "public"}).json()
        res = self.http.post(video["upload_url"], headers={**TUS, "Upload-Length": str(length)})
        res.raise_for_status()
        return video["id"], res.headers["location"]

    def patch(self, url: str, body: Any) -> httpx.Response:
        headers = {**TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
        return self.http.patch(url, content=body, headers=headers)

    def wait(self, video_id: str, timeout: float = 600) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.http.get(f"/api/v1/videos/{video_id}").json()
            if got["status"] in ("ready", "failed"):
                return got  # type: ignore[no-any-return]
            time.sleep(0.05)
        raise TimeoutError(f"video {video_id} not processed in {timeout} s")


def transcode(creator: Creator, work: Path) -> dict[str, Any]:
    src = make_clip(work / "clip720.mp4")
    data = src.read_bytes()
    video_id, url = creator.video("bench 720p", len(data))
    t0 = time.monotonic()
    creator.patch(url, data).raise_for_status()
    done = creator.wait(video_id)
    ours = time.monotonic() - t0
    out = work / "plain"
    for h, _ in LADDER:
        (out / str(LADDER.index((h, _)))).mkdir(parents=True, exist_ok=True)
    t1 = time.monotonic()
    subprocess.run(procs.pinned(procs.SERVER_CORE, plain_command(src, out)), check=True)  # noqa: S603
    plain = time.monotonic() - t1
    return {
        "video_id": video_id,
        "status": done["status"],
        "renditions": [r["height"] for r in done.get("renditions", [])],
        "ours_seconds": round(ours, 2),
        "plain_seconds": round(plain, 2),
        "ratio": round(ours / plain, 3) if plain else None,
    }


def upload(creator: Creator, pid: int, mib: int) -> dict[str, Any]:
    block = os.urandom(1 << 20)
    video_id, url = creator.video("bench upload", mib << 20)
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(_rss(pid))
            time.sleep(0.05)

    before = _rss(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    res = creator.patch(url, (block for _ in range(mib)))
    seconds = time.monotonic() - t0
    stop.set()
    sampler.join()
    res.raise_for_status()
    assert int(res.headers["upload-offset"]) == mib << 20
    creator.http.delete(f"/api/v1/videos/{video_id}")
    return {
        "mib": mib,
        "seconds": round(seconds, 2),
        "mib_per_s": round(mib / seconds, 1),
        "rss_before_mib": round(before / 2**20, 1),
        "rss_growth_mib": round((max(samples, default=before) - before) / 2**20, 1),
    }


async def _closed_loop(port: int, path: str, seconds: float, connections: int = 8) -> dict[str, Any]:
    pool = HTTPPool("127.0.0.1", port, size=connections)
    headers = {"Range": f"bytes=0-{SEGMENT_BYTES - 1}"}
    status, body = await pool.request("GET", path, headers=headers)
    if status != 206 or len(body) != SEGMENT_BYTES:
        pool.close()
        return {"error": f"answered {status} with {len(body)} bytes"}
    done = 0
    bad = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, bad
        while time.monotonic() < deadline:
            status, body = await pool.request("GET", path, headers=headers)
            if status == 206 and len(body) == SEGMENT_BYTES:
                done += 1
            else:
                bad += 1

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    wall = time.monotonic() - t0
    pool.close()
    return {"req_per_s": round(done / wall, 1), "mib_per_s": round(done * 2 / wall, 1), "errors": bad}


def segments(base_port: int, data_dir: Path, video_id: str, work: Path, seconds: float) -> dict[str, Any]:
    blob = os.urandom(SEGMENT_BYTES)
    ours_file = data_dir / "media" / "videos" / video_id / "720p" / "bench_2mib.ts"
    ours_file.write_bytes(blob)  # a 2 MiB segment in the ready video's own storage folder
    static_dir = work / "static"
    static_dir.mkdir(exist_ok=True)
    (static_dir / "bench_2mib.ts").write_bytes(blob)
    ours = asyncio.run(_closed_loop(base_port, f"/media/videos/{video_id}/p/720p/bench_2mib.ts", seconds))
    python = venvs.ensure("static")
    port = procs.free_port()
    argv = [str(python), "-m", "uvicorn", "app:app", "--app-dir", str(venvs.PEERS / "static"), "--port", str(port)]
    proc = procs.start([*argv, *UVICORN_FLAGS], {**os.environ, "BENCH_STATIC_DIR": str(static_dir)},
                       work / "static.log", procs.SERVER_CORE)  # fmt: skip
    try:
        procs.wait_port(port, proc)
        peer = asyncio.run(_closed_loop(port, "/static/bench_2mib.ts", seconds))
    finally:
        procs.stop(proc)
    ratio = ours.get("req_per_s", 0) / peer["req_per_s"] if peer.get("req_per_s") else None
    return {"social_flow": ours, "starlette_static": peer, "ratio": round(ratio, 3) if ratio else None}


def run(redis: procs.Redis, work: Path, *, upload_mib: int = 1024, segment_seconds: float = 10.0) -> dict[str, Any]:
    """Every video measurement on one Social Flow server; a dict for ``extra["video"]``."""
    from bench.socialflow import Server

    os.environ["VIDEO_TRANSCODE_THREADS"] = "1"  # "on one core", like the plain command
    try:
        server = Server(redis, work)
    finally:
        os.environ.pop("VIDEO_TRANSCODE_THREADS", None)
    try:
        user = server.register_login("bench_creator")
        enrolled = server.http.post("/api/v1/creators/enroll", headers={"Authorization": f"Bearer {user['token']}"})
        enrolled.raise_for_status()
        creator = Creator(server.base, user["token"])
        out: dict[str, Any] = {}
        data_dir = Path(server.env["DATA_DIR"])
        sections = {
            "transcode": lambda: transcode(creator, work),
            "segments": lambda: segments(server.port, data_dir, out["transcode"]["video_id"], work, segment_seconds),
            "upload": lambda: upload(creator, server.proc.pid, upload_mib),
        }
        for name, measure in sections.items():
            print(f"[bench] video: {name}", file=sys.stderr, flush=True)
            try:
                out[name] = measure()
            except Exception as exc:  # one section that cannot run says why; the others still run
                out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return out
    except Exception as exc:  # a section that could not run says why instead of sinking the whole bench
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        server.stop()


def summary(section: dict[str, Any]) -> list[str]:
    """Lines for the report (a section that could not run says why)."""
    if "error" in section:
        return [f"video: not measured ({section['error']})"]
    lines = []
    t, u, s = section.get("transcode", {}), section.get("upload", {}), section.get("segments", {})
    for name, part in (("transcode", t), ("upload", u), ("segments", s)):
        if "error" in part:
            lines.append(f"video {name}: not measured ({part['error']})")
    if t and "error" not in t:
        lines.append(
            f"video transcode (10 s 720p -> {t['renditions']} HLS, one core): ours {t['ours_seconds']} s "
            f"upload->ready, plain ffmpeg command {t['plain_seconds']} s, ratio {t['ratio']}x (goal <= 1.1x)"
        )
    if u and "error" not in u:
        lines.append(
            f"video tus upload: {u['mib']} MiB in {u['seconds']} s = {u['mib_per_s']} MiB/s (goal >= 200), "
            f"server RSS growth {u['rss_growth_mib']} MiB (goal <= 64)"
        )
    if s and "error" not in s:
        lines.append(
            f"video segments (2 MiB, Range, 8 connections): Social Flow {s['social_flow'].get('req_per_s')} req/s, "
            f"Starlette StaticFiles {s['starlette_static'].get('req_per_s')} req/s, ratio {s['ratio']}"
        )
    return lines
