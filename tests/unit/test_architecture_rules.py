"""docs/architecture.md's rules that a grep can check, checked on every `make test` so that no change slips past
them (issue 9's Done-when): no ``global`` statement in ``server/`` or ``channels/``: state is built in
``create_app`` and handed down."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_module_level_mutable_state_is_reassigned_through_global():
    offenders = []
    for package in ("server", "channels"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno}: global {', '.join(node.names)}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Global)
            ]
    assert offenders == []


def test_channel_names_are_spelled_only_by_the_vocabulary():
    """Channel names come from ``channels/names.py`` and the app's kind registration, never from a literal."""
    allowed = {ROOT / "channels" / "names.py", ROOT / "server" / "realtime" / "kinds.py"}
    prefixes = ("user:", "timeline:home:", "post:", "live:", "video:")
    offenders = []
    for package in ("server", "channels"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path in allowed:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(prefixes):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value!r}")
    assert offenders == []
