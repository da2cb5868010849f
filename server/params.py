"""Request parameters every domain shares: ids in paths and bodies, page size and cursor.

Ids are 64-bit (``models.ids.new_id``) and travel as decimal strings. A path id that cannot exist names
nothing (404, like any other unknown id); one sent in a body is a malformed request (422).
"""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter, PathParameter

from server.errors import NotFound, ValidationFailed

MAX_ID = (1 << 63) - 1  # the largest bigint; also "no upper bound" for keyset pages (``id < $n``)

PathId = Annotated[str, PathParameter(description="an id (string)")]
Limit = Annotated[int, Parameter(ge=1, le=100, description="page size, 1..100")]
# Signed cursors carry a list kind, values and a MAC: 512 characters is room for every list's.
Cursor = Annotated[str | None, Parameter(max_length=512, description="opaque cursor from `next_cursor`")]


def as_id(raw: str) -> int | None:
    """``raw`` as an id, or ``None`` when it is not the decimal form of one."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
        return None
    return int(raw)


def parse_id(raw: str, missing: str = "no such object") -> int:
    """A path id; anything that is not one is simply not found (``missing`` is the 404's detail)."""
    value = as_id(raw)
    if value is None:
        raise NotFound(missing)
    return value


def body_id(raw: str) -> int:
    """An id sent in a body; one that cannot exist is a 422."""
    value = as_id(raw)
    if value is None:
        raise ValidationFailed("not a valid id")
    return value
