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


def ensure_node(name: str) -> Path:
    """Install peer ``name``'s exact npm pins (its package-lock.json) with ``npm ci`` into ``bench/.peers/<name>``.

    Returns the ``node_modules`` folder (the apps find their packages through ``NODE_PATH``).
    """
    import shutil

    src = PEERS / name
    lock = src / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes() + (src / "package.json").read_bytes()).hexdigest()
    target = VENVS / name
    marker = target / ".pins-sha256"
    modules = target / "node_modules"
    if marker.exists() and marker.read_text() == digest and modules.exists():
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (the Node peers need Node.js >= 18 and npm)")
    print(f"[bench] npm ci for {name} ...", file=sys.stderr, flush=True)
    target.mkdir(parents=True, exist_ok=True)
    for file in ("package.json", "package-lock.json"):
        shutil.copyfile(src / file, target / file)
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, check=True)  # noqa: S603
    marker.write_text(digest)
    return modules


def node_versions(name: str, packages: list[str]) -> dict[str, str]:
    """Versions of ``packages`` as pinned in peer ``name``'s package-lock.json, and of Node itself."""
    import json
    import shutil

    lock = json.loads((PEERS / name / "package-lock.json").read_text())
    found = {p: lock.get("packages", {}).get(f"node_modules/{p}", {}).get("version", "?") for p in packages}
    node = shutil.which("node")
    if node is not None:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
        found = {"node": out.stdout.strip().lstrip("v") or "?", **found}
    return found


def installed_versions(name: str, packages: list[str]) -> dict[str, str]:
    """Versions of ``packages`` as installed in peer ``name``'s virtualenv (read from its pins)."""
    pins: dict[str, str] = {}
    for line in (PEERS / name / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            pkg, ver = line.split("==", 1)
            pins[pkg.strip().lower()] = ver.strip()
    return {p: pins.get(p.lower(), "?") for p in packages}
