"""Ad tokens and request targeting: pure functions, no I/O."""

from __future__ import annotations

import time

import pytest

from server.ads import tokens
from server.ads.targeting import languages_of, platform_of

KEY = tokens.derive_key("unit-test-secret")


def test_a_token_verifies_only_with_its_key_and_purpose() -> None:
    now = time.time()
    tok = tokens.sign(KEY, tokens.IMPRESSION, 42, 7, 2000, now)
    got = tokens.verify(KEY, tok, tokens.IMPRESSION)
    assert (got.campaign_id, got.user_id, got.price_milli) == (42, 7, 2000)
    assert not got.expired(now + 10, 3600) and got.expired(now + 3600, 3600)
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(KEY, tok, tokens.CLICK)
    with pytest.raises(tokens.TokenInvalid):
        tokens.verify(tokens.derive_key("another secret"), tok, tokens.IMPRESSION)
    body, sig = tok.split(".")
    other = "Q" if sig[-1] != "Q" else "g"  # the last character carries 2 bits: change them
    for bad in ("", ".", "x.y.z", f"{body}x.{sig}", f"{body}.{sig[:-1]}{other}", f"{sig}.{body}"):
        with pytest.raises(tokens.TokenInvalid):
            tokens.verify(KEY, bad, tokens.IMPRESSION)
    assert tokens.sign(KEY, tokens.IMPRESSION, 42, 7, 2000, now) != tok  # a fresh nonce each time


@pytest.mark.parametrize(
    ("agent", "platform"),
    [
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126 Mobile Safari/537.36", "android"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "ios"),
        ("SocialFlow/2.3 CFNetwork/1494.0.7 Darwin/23.4.0", "ios"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "web"),
        ("curl/8.5.0", "other"),
        ("", "other"),
    ],
)
def test_platform_from_user_agent(agent: str, platform: str) -> None:
    assert platform_of(agent) == platform


def test_languages_from_accept_language() -> None:
    assert languages_of("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == {"fr", "en", "de"}
    assert languages_of("en-US,pt-BR;q=0") == {"en"}
    assert languages_of("") == frozenset() and languages_of("??,;;") == frozenset()


def test_token_signature_is_hmac_sha256_of_the_body_under_the_key() -> None:
    import base64
    import hashlib
    import hmac

    for key in (tokens.derive_key("s" * 40), b"k" * 100):  # a derived key, and one longer than a block
        token = tokens.sign(key, tokens.CLICK, 5, 6, 700, 1_700_000_000.0)
        body_text, sig_text = token.split(".")
        body = base64.urlsafe_b64decode(body_text + "=" * (-len(body_text) % 4))
        expected = hmac.new(key, body, hashlib.sha256).digest()[:16]
        assert base64.urlsafe_b64decode(sig_text + "==") == expected
        assert tokens.verify(key, token, tokens.CLICK).campaign_id == 5
