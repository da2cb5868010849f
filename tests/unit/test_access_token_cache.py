"""Access tokens are verified once per process, but a remembered token still expires, and another key rejects it."""

from __future__ import annotations

import time

import pytest

from server import deps, security
from server.accounts.revocation import Revocations
from server.errors import Unauthorized
from server.settings import SecuritySettings

SEC = SecuritySettings(secret_key="unit-test-key-" + "x" * 32)


def _tokens(sec: SecuritySettings = SEC) -> deps.AccessTokens:
    return deps.AccessTokens(sec, Revocations())


def _token(sec: SecuritySettings, ttl: int = 60, user_id: int = 7, session_id: int = 11) -> str:
    token, _ = security.make_access_token(
        user_id=user_id,
        session_id=session_id,
        role="user",
        key=sec.secret_key,
        issuer=sec.jwt_issuer,
        audience=sec.jwt_audience,
        ttl=ttl,
    )
    return token


def test_a_remembered_token_is_rejected_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(SEC, ttl=60)
    tokens = _tokens()
    assert tokens.verify(token) == (7, 11)
    assert tokens.verify(token) == (7, 11)  # the remembered answer
    later = time.time() + 120
    monkeypatch.setattr(deps.time, "time", lambda: later)
    monkeypatch.setattr(security.jwt.api_jwt, "datetime", _FrozenDatetime(later), raising=False)
    with pytest.raises(Unauthorized):
        tokens.verify(token)


def test_a_remembered_token_is_not_accepted_under_another_key() -> None:
    token = _token(SEC)
    assert _tokens().verify(token) == (7, 11)
    other = SecuritySettings(secret_key="another-key-" + "y" * 32)
    with pytest.raises(Unauthorized):
        _tokens(other).verify(token)


def test_a_tampered_token_is_rejected_every_time() -> None:
    token = _token(SEC, user_id=8)
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}{'AAAA' if not sig.endswith('AAAA') else 'BBBB'}"
    tokens = _tokens()
    for _ in range(2):
        with pytest.raises(Unauthorized):
            tokens.verify(forged)
    assert tokens.verify(token) == (8, 11)


class _FrozenDatetime:
    """Stands in for ``datetime`` inside PyJWT so that its own ``exp`` check sees the same clock."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self, tz: object = None) -> object:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(self.at, tz=UTC)

    def __getattr__(self, name: str) -> object:
        from datetime import datetime

        return getattr(datetime, name)
