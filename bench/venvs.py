"""Per-peer virtualenvs under ``bench/.peers/<name>``, built from each peer's pinned requirements."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / "peers"
VENVS = BENCH / ".peers"
UV = ROOT / ".tools" / "bin" / "uv"


def python_of(name: str) -> Path:
    """The interpreter of peer ``name``'s virtualenv."""
    return VENVS / name / "bin" / "python"


def ensure(name: str) -> Path:
    """Create or refresh peer ``name``'s virtualenv when its pins changed; return its interpreter."""
    reqs = PEERS / name / "requirements.txt"
    digest = hashlib.sha256(reqs.read_bytes()).hexdigest()
    venv = VENVS / name
    marker = venv / ".pins-sha256"
    if marker.exists() and marker.read_text() == digest and python_of(name).exists():
        return python_of(name)
    print(f"[bench] building virtualenv for {name} ...", file=sys.stderr, flush=True)
    # The peers run on the project's interpreter version, so only the libraries differ between stacks.
    subprocess.run([str(UV), "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [str(UV), "pip", "install", "--quiet", "--python", str(python_of(name)), "-r", str(reqs)],
        check=True,
    )
    marker.write_text(digest)
    return python_of(name)


def installed_versions(name: str, packages: list[str]) -> dict[str, str]:
    """Versions of ``packages`` as installed in peer ``name``'s virtualenv (read from its pins)."""
    pins: dict[str, str] = {}
    for line in (PEERS / name / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            pkg, ver = line.split("==", 1)
            pins[pkg.strip().lower()] = ver.strip()
    return {p: pins.get(p.lower(), "?") for p in packages}
