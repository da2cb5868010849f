"""``suppressed(event)``: ``contextlib.suppress(Exception)`` that says what it swallowed, in one log line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal

import structlog

log = structlog.get_logger("channels")


@contextlib.contextmanager
def suppressed(event: str, *, level: Literal["debug", "warning"] = "warning", **context: Any) -> Iterator[None]:
    """Run the block; an ``Exception`` from it is logged as ``event`` (at ``level``) and goes no further."""
    try:
        yield
    except Exception as exc:
        emit = log.debug if level == "debug" else log.warning
        emit(event, error=repr(exc), **context)
