"""Post text parsing and signed cursors (no I/O)."""

from __future__ import annotations

import pytest

from server import cursor
from server.errors import ValidationFailed
from server.social import text


def test_hashtags_and_mentions_are_parsed_once_in_order():
    body = "Hi @Bob and @bob, #Python #python #42 #ünïcode a#notatag me@mail.com @al (#rust)"
    assert text.hashtags(body) == ["python", "ünïcode", "rust"]
    assert text.mentions(body) == ["bob"]  # "@al" is too short, an email is no mention


def test_normalize_tag():
    assert text.normalize_tag("#PyThOn") == "python"
    assert text.normalize_tag("bad-tag") is None
    assert text.normalize_tag("") is None


def test_cursor_round_trip_and_tampering():
    token = cursor.encode("key", "home", ["123"])
    assert cursor.decode("key", "home", token) == ["123"]
    assert cursor.decode("key", "home", None) is None
    for bad in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "!!!", "AAAA", token + "AA"):
        with pytest.raises(ValidationFailed):
            cursor.decode("key", "home", bad)
    with pytest.raises(ValidationFailed):
        cursor.decode("key", "public", token)  # another list's cursor
    with pytest.raises(ValidationFailed):
        cursor.decode("other-key", "home", token)  # forged without the server key
