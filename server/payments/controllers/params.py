"""Parameters shared by the payments controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter

from server.errors import ValidationFailed

IdemKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        max_length=200,
        description="A key of your choice (e.g. a UUID): the same key again answers the same object",
    ),
]

ObjectId = Annotated[
    int,
    PathParameter(ge=1, le=(1 << 63) - 1, description="an id (64-bit); one that cannot exist is a 422, not a 500"),
]


def required_key(key: str | None) -> str:
    if not key or not key.strip():
        raise ValidationFailed("the Idempotency-Key header is required")
    return key.strip()
