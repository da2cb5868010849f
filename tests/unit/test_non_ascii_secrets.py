"""Signatures and codes typed by anyone: non-ASCII text is a wrong answer, never a server error.

``hmac.compare_digest`` raises ``TypeError`` for ``str`` with non-ASCII characters; each of these came from
a URL or a login body and answered 500 (found by schemathesis on the export download link).
"""

from __future__ import annotations

import time

import pyotp

from server import security
from server.account_data import links
from server.social.media import MediaSigner
from server.video import signing
from server.video.signing import AccessChanges


def test_export_link_with_non_ascii_signature_is_just_invalid():
    expires = int(time.time()) + 3600
    good = links.signature("k", 1, expires, 7, "hash")
    assert links.valid("k", 1, expires, 7, "hash", good)
    assert not links.valid("k", 1, expires, 7, "hash", "é" * 64)


def test_signed_image_url_with_non_ascii_signature_is_just_invalid():
    signer = MediaSigner("k", AccessChanges())
    token = signer.url("/media/images/x.jpg", 7).split("?sig=")[1]
    assert signer.viewer("x.jpg", token) == 7
    exp, viewer, mac = token.split("-", 2)
    assert signer.viewer("x.jpg", f"{exp}-{viewer}-{'é' * len(mac)}") is None


def test_video_token_with_non_ascii_mac_is_just_invalid():
    token, _ = signing.sign("k", 42, 3600)
    assert signing.verify("k", 42, token) is not None
    exp, _, mac = token.partition("-")
    assert signing.verify("k", 42, f"{exp}-{'é' * len(mac)}") is None


def test_totp_code_in_other_scripts_digits_is_just_wrong():
    secret = pyotp.random_base32()
    code = pyotp.TOTP(secret, interval=security.TOTP_INTERVAL).now()
    assert security.match_totp(secret, code, last_step=None) is not None
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in code)  # str.isdigit() is True for these
    assert security.match_totp(secret, arabic_indic, last_step=None) is None
