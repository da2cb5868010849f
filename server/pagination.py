"""A page of a list: ``?limit=`` 1..100 (default 20) and an opaque ``?cursor=`` made by ``server.cursor``."""

from __future__ import annotations

from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T]):
    """One page of a list: ``next_cursor`` is ``None`` on the last page."""

    items: list[T]
    next_cursor: str | None
