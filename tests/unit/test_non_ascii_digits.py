"""Ids, expiries and counts typed by anyone: digits outside ASCII are a wrong answer, never a server error.

``str.isdigit()`` is true for "³" or "²", which ``int()`` refuses (ValueError -> 500): schemathesis found
``GET /api/v1/videos/³/analytics``. Every check that gates an ``int()`` asks for ASCII digits.
"""

from __future__ import annotations

import pytest

from server.errors import NotFound, ValidationFailed
from server.params import body_id, parse_id
from server.social.media import MediaSigner
from server.video import signing
from server.video.signing import AccessChanges

ODD = ["³", "²³", "1²", "٣", "\uff11\uff12", "Ⅻ"]  # superscripts, Arabic-Indic, fullwidth, Roman


@pytest.mark.parametrize("raw", ODD)
def test_path_and_body_ids_refuse_non_ascii_digits(raw: str) -> None:
    with pytest.raises(NotFound):
        parse_id(raw)
    with pytest.raises(ValidationFailed):
        body_id(raw)
    assert parse_id("42") == 42 and body_id("42") == 42


@pytest.mark.parametrize("raw", ODD)
def test_signed_urls_with_non_ascii_expiries_are_just_invalid(raw: str) -> None:
    token, _ = signing.sign("k", 7, 60)
    assert signing.verify("k", 7, token) is not None
    assert signing.verify("k", 7, f"{raw}-{token.split('-', 1)[1]}") is None
    bound, _ = signing.sign_for("k", 7, 42, 60)
    exp, viewer, mac = bound.split("-", 2)
    assert signing.verify_for("k", 7, bound) == (int(exp), 42)
    assert signing.verify_for("k", 7, f"{raw}-{viewer}-{mac}") is None
    assert signing.verify_for("k", 7, f"{exp}-{raw}-{mac}") is None
    signer = MediaSigner("k", AccessChanges())
    exp, viewer, mac = signer.url("/media/images/x.jpg", 42).split("?sig=")[1].split("-", 2)
    assert signer.viewer("x.jpg", f"{exp}-{viewer}-{mac}") == 42
    assert signer.viewer("x.jpg", f"{raw}-{viewer}-{mac}") is None
    assert signer.viewer("x.jpg", f"{exp}-{raw}-{mac}") is None
