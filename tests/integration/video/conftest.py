"""Media for the video tests, generated once per session with ffmpeg."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.support import media


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    d = tmp_path_factory.mktemp("clips")
    out = {
        "small": media.clip(d / "small.mp4", seconds=1.5),
        "wide": media.clip(d / "wide.mp4", seconds=1.0, size="854x480"),
        "noaudio": media.clip(d / "noaudio.mp4", seconds=1.0, audio=False),
        "one_frame": media.clip(d / "one.mp4", audio=False, frames=1),
        "png": media.png(d / "picture.png"),
    }
    data = {name: path.read_bytes() for name, path in out.items()}
    # moov at the end (ffmpeg's default): cut in half, the file has no index -> not playable at all.
    data["truncated"] = data["small"][: len(data["small"]) // 2]
    # moov first (faststart): cut in half, it declares 4 s but holds about 2.
    long_fast = media.clip(d / "fast.mp4", seconds=4.0, faststart=True).read_bytes()
    data["truncated_faststart"] = long_fast[: len(long_fast) // 2]
    data["random"] = os.urandom(64 * 1024)
    return data


@pytest.fixture
def data_dir(settings: Any) -> Path:
    """Where the apps under test keep uploads and local media (the session settings' ``data_dir``)."""
    return Path(settings.data_dir)
