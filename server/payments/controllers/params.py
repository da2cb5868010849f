"""Parameters shared by the payments controllers."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter

from server.errors import ValidationFailed

IdemKey = Annotated[
    str | None,
    HeaderParameter(
        header="Idempotency-Key",
        max_length=200,
        description="A key of your choice (e.g. a UUID): the same key again answers the same object",
    ),
]


def required_key(key: str | None) -> str:
    if not key or not key.strip():
        raise ValidationFailed("the Idempotency-Key header is required")
    return key.strip()
