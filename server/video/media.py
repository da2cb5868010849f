"""ffmpeg (from the imageio-ffmpeg wheel): probe a file, then one run producing the whole HLS ladder.

``probe`` sniffs the container and streams from ffmpeg's own report (the wheel ships no ffprobe).
``plan`` picks the ladder (never above the source), ``command`` builds the single ffmpeg invocation
that writes every rendition, the poster and the storyboard sheets, and ``finish`` writes the master
playlist (``BANDWIDTH`` measured from the segments written) and the WebVTT storyboard.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path

import msgspec

SEGMENT_SECONDS = 4
# (short side, video kbit/s, H.264 level as the CODECS attribute writes it)
LADDER: tuple[tuple[int, int, str], ...] = (
    (240, 400, "1e"),
    (360, 800, "1e"),
    (480, 1400, "1f"),
    (720, 2800, "1f"),
    (1080, 5000, "28"),
)
AUDIO_KBPS = 96
THUMB_WIDTH = 160
STORYBOARD_TILES = 5  # 5 x 5 thumbnails per sheet
# Containers that are pictures, not videos, even when ffmpeg can read them as a one-frame stream.
IMAGE_FORMATS = re.compile(r"(_pipe|^image2|^apng|^gif|^tiff?|^bmp|^ico|^webp)")

CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt; charset=utf-8",
}


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


class NotAVideo(Exception):
    """The file has no playable video stream (or is a still picture)."""


class Probe(msgspec.Struct, frozen=True):
    format: str
    duration: float
    width: int
    height: int
    fps: float
    has_audio: bool


_INPUT = re.compile(r"Input #0, ([^ ]+), from")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #0:\d+[^:]*: Video: ([^ ,]+).*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) fps")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")


def parse_probe(report: str) -> Probe:
    """``Probe`` from ``ffmpeg -i``'s report, or ``NotAVideo``."""
    fmt = _INPUT.search(report)
    video = _VIDEO.search(report)
    if fmt is None or video is None:
        raise NotAVideo("no video stream")
    if IMAGE_FORMATS.search(fmt.group(1)):
        raise NotAVideo(f"{fmt.group(1)} is a picture")
    width, height = int(video.group(2)), int(video.group(3))
    rotation = _ROTATION.search(report)
    if rotation is not None and round(abs(float(rotation.group(1)))) % 180 == 90:
        width, height = height, width  # a phone held upright: ffmpeg rotates when decoding
    duration = 0.0
    if (d := _DURATION.search(report)) is not None:
        duration = int(d.group(1)) * 3600 + int(d.group(2)) * 60 + float(d.group(3))
    fps_match = _FPS.search(report[video.start() :].split("\n", 1)[0])
    return Probe(
        format=fmt.group(1),
        duration=duration,
        width=width,
        height=height,
        fps=float(fps_match.group(1)) if fps_match else 25.0,
        has_audio=re.search(r"Stream #0:\d+[^:]*: Audio:", report) is not None,
    )


async def probe(path: Path) -> Probe:
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    return parse_probe(err.decode(errors="replace"))


class Rung(msgspec.Struct, frozen=True):
    name: str
    width: int
    height: int
    kbps: int
    level: str


def _even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def plan(p: Probe) -> list[Rung]:
    """The ladder for ``p``: every rung up to the source's short side (never upscaled), at least one."""
    short, landscape = min(p.width, p.height), p.width >= p.height
    rungs = []
    for side, kbps, level in LADDER:
        if side > short:
            break
        other = _even(side * (max(p.width, p.height) / short))
        w, h = (other, side) if landscape else (side, other)
        rungs.append(Rung(name=f"{side}p", width=w, height=h, kbps=kbps, level=level))
    if not rungs:  # smaller than the lowest rung: one rendition at the source size
        rungs.append(Rung(name=f"{short}p", width=_even(p.width), height=_even(p.height), kbps=300, level="1e"))
    return rungs


def storyboard_interval(duration: float) -> float:
    """Seconds between storyboard thumbnails: about 100 over the video, at least one a second."""
    return max(1.0, math.ceil(duration / 100))


def command(
    src: Path, out: Path, p: Probe, rungs: list[Rung], *, preset: str = "veryfast", threads: int = 0
) -> list[str]:
    """One ffmpeg run: every rung as HLS (~4 s segments, aligned keyframes), the poster, the storyboard."""
    n = len(rungs)
    interval = storyboard_interval(p.duration)
    poster_at = 0.0 if p.duration < 2 else min(2.0, p.duration / 10)
    graph = [f"[0:v]split={n + 2}" + "".join(f"[s{i}]" for i in range(n)) + "[sp][sb]"]
    graph += [f"[s{i}]scale={r.width}:{r.height},setsar=1[v{i}]" for i, r in enumerate(rungs)]
    # The poster branch keeps half a second only: scaling every frame for a one-frame output is wasted work.
    graph.append(
        f"[sp]trim=start={poster_at:.2f}:duration=0.5,setpts=PTS-STARTPTS,"
        f"scale={rungs[-1].width}:{rungs[-1].height}[poster]"
    )
    thumb_h = _even(THUMB_WIDTH * p.height / p.width)
    # select, not fps: the first frame is always taken, so even a one-frame video gets a sheet.
    pick = f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{interval:g})'"
    graph.append(f"[sb]{pick},scale={THUMB_WIDTH}:{thumb_h},tile={STORYBOARD_TILES}x{STORYBOARD_TILES}[board]")
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y"]
    args += ["-threads", str(threads), "-i", str(src), "-filter_complex", ";".join(graph)]
    streams = []
    for i, r in enumerate(rungs):
        args += ["-map", f"[v{i}]"]
        if p.has_audio:
            args += ["-map", "0:a:0"]
        streams.append(f"v:{i},a:{i},name:{r.name}" if p.has_audio else f"v:{i},name:{r.name}")
    args += [
        "-c:v",
        "libx264",
        "-preset",
        preset,
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        str(threads),
    ]
    args += ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0"]
    for i, r in enumerate(rungs):
        args += [f"-b:v:{i}", f"{r.kbps}k", f"-maxrate:v:{i}", f"{r.kbps * 107 // 100}k"]
        args += [f"-bufsize:v:{i}", f"{r.kbps * 3 // 2}k", f"-level:v:{i}", str(int(r.level, 16) / 10)]
    if p.has_audio:
        args += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2", "-ar", "48000"]
    args += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"]
    args += ["-hls_segment_filename", str(out / "%v" / "seg_%03d.ts"), "-var_stream_map", " ".join(streams)]
    args += [str(out / "%v" / "index.m3u8")]
    args += ["-map", "[poster]", "-frames:v", "1", "-q:v", "3", str(out / "poster.jpg")]
    args += ["-map", "[board]", "-q:v", "5", str(out / "storyboard_%03d.jpg")]
    return args


Progress = Callable[[float], Awaitable[None]]


class TranscodeFailed(Exception):
    pass


async def run(args: list[str], duration: float, progress: Progress | None = None) -> None:
    """Run ffmpeg, reporting the fraction done; killing ffmpeg if this task is cancelled."""
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    err_task = asyncio.ensure_future(proc.stderr.read())
    try:
        while line := await proc.stdout.readline():
            key, _, value = line.decode(errors="replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration > 0 and progress is not None:
                await progress(min(0.99, int(value) / 1e6 / duration))
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        err_task.cancel()
        raise
    err = (await err_task).decode(errors="replace")
    if code != 0:
        raise TranscodeFailed(err[-2000:] or f"ffmpeg exited with {code}")


class Rendition(msgspec.Struct):
    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    duration: float


_EXTINF = re.compile(r"#EXTINF:([\d.]+),\s*\n(\S+)")


def measure(folder: Path, r: Rung) -> Rendition:
    """Peak and average bit rate of a written variant, from its segments' sizes and durations."""
    text = (folder / r.name / "index.m3u8").read_text()
    peak, total_bits, total_time = 0.0, 0, 0.0
    for dur, name in _EXTINF.findall(text):
        seconds, bits = float(dur), (folder / r.name / name).stat().st_size * 8
        total_bits += bits
        total_time += seconds
        if seconds >= 0.5:  # a very short last segment says little about the rate
            peak = max(peak, bits / seconds)
    average = total_bits / total_time if total_time else 0
    return Rendition(
        name=r.name,
        width=r.width,
        height=r.height,
        bandwidth=int(max(peak, average)),
        average_bandwidth=int(average),
        duration=total_time,
    )


def codecs(r: Rung, has_audio: bool) -> str:
    video = f"avc1.6400{r.level}"
    return f"{video},mp4a.40.2" if has_audio else video


def master_playlist(renditions: list[Rendition], rungs: list[Rung], has_audio: bool) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rend, rung in zip(renditions, rungs, strict=True):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rend.bandwidth},AVERAGE-BANDWIDTH={rend.average_bandwidth},"
            f'RESOLUTION={rend.width}x{rend.height},CODECS="{codecs(rung, has_audio)}"'
        )
        lines.append(f"{rend.name}/index.m3u8")
    return "\n".join(lines) + "\n"


def _stamp(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def storyboard_vtt(folder: Path, p: Probe) -> str:
    """WebVTT cues pointing at tiles of the storyboard sheets (``sheet.jpg#xywh=x,y,w,h``)."""
    interval = storyboard_interval(p.duration)
    thumb_h = _even(THUMB_WIDTH * p.height / p.width)
    sheets = sorted(folder.glob("storyboard_*.jpg"))
    per_sheet = STORYBOARD_TILES * STORYBOARD_TILES
    count = min(max(1, math.ceil(p.duration / interval)), len(sheets) * per_sheet)
    lines = ["WEBVTT", ""]
    for i in range(count):
        sheet, slot = divmod(i, per_sheet)
        row, col = divmod(slot, STORYBOARD_TILES)
        start = i * interval
        end = min((i + 1) * interval, p.duration) if p.duration > start else start + interval
        lines += [
            f"{_stamp(start)} --> {_stamp(end)}",
            f"{sheets[sheet].name}#xywh={col * THUMB_WIDTH},{row * thumb_h},{THUMB_WIDTH},{thumb_h}",
            "",
        ]
    return "\n".join(lines)


def finish(folder: Path, p: Probe, rungs: list[Rung]) -> list[Rendition]:
    """Measure the variants, write ``master.m3u8`` and ``storyboard.vtt``; the renditions written."""
    renditions = [measure(folder, r) for r in rungs]
    (folder / "master.m3u8").write_text(master_playlist(renditions, rungs, p.has_audio))
    if any(folder.glob("storyboard_*.jpg")):
        (folder / "storyboard.vtt").write_text(storyboard_vtt(folder, p))
    return renditions
