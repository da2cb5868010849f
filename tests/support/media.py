"""Test media made with ffmpeg (from the imageio-ffmpeg wheel): no binary fixtures in the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path


def ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def clip(
    path: Path,
    *,
    seconds: float = 1.0,
    size: str = "426x240",
    audio: bool = True,
    frames: int | None = None,
    faststart: bool = False,
    rate: int = 25,
) -> Path:
    """An H.264 (+ AAC) MP4 from ``testsrc2`` and ``sine``."""
    args = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y"]
    args += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        args += ["-c:a", "aac", "-shortest"]
    if frames is not None:
        args += ["-frames:v", str(frames)]
    if faststart:
        args += ["-movflags", "+faststart"]
    subprocess.run([*args, str(path)], check=True, timeout=120)
    return path


def png(path: Path) -> Path:
    """A PNG picture (tests rename it ``.mp4``)."""
    subprocess.run(
        [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x64",
         "-frames:v", "1", "-f", "image2", "-c:v", "png", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path
