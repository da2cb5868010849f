"""JWT negatives (RFC 8725): none of these tokens is accepted, on HTTP or on the websocket."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from httpx_ws import WebSocketDisconnect, aconnect_ws

from tests.support.accounts import signed_in

pytestmark = pytest.mark.suite  # `make suites` (in .ci/run), not `make test`


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(sec, user_id: str, session_id: str, **changes):
    now = int(time.time())
    claims = {
        "sub": user_id,
        "sid": session_id,
        "typ": "access",
        "role": "admin",
        "aud": sec.jwt_audience,
        "iss": sec.jwt_issuer,
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(sec, claims, key=None, headers=None):
    return jwt.encode(claims, key or sec.secret_key, algorithm="HS256", headers=headers)


def _hs_raw(claims, key: bytes) -> str:
    """HS256 by hand (PyJWT refuses a PEM as an HMAC key, which is the point of the attack)."""
    import hashlib
    import hmac

    signing = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(json.dumps(claims).encode())
    return signing + "." + _b64(hmac.new(key, signing.encode(), hashlib.sha256).digest())


def bad_tokens(sec, valid: str, refresh: str, user_id: str, session_id: str, revoked: str) -> dict[str, str]:
    """Every way a token should be refused, by name."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    good = _claims(sec, user_id, session_id)
    header, payload, signature = valid.split(".")
    tampered_payload = _b64(json.dumps({**good, "sub": "1"}).encode())
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    return {
        "alg_none": _b64(b'{"alg":"none","typ":"JWT"}') + "." + _b64(json.dumps(good).encode()) + ".",
        "alg_none_with_signature": _b64(b'{"alg":"none","typ":"JWT"}') + "." + payload + "." + signature,
        "rs256_own_key": jwt.encode(good, rsa_key, algorithm="RS256"),
        "hs256_keyed_with_a_public_key": _hs_raw(good, public_pem),
        "hs512": jwt.encode(good, sec.secret_key, "HS512"),
        "wrong_aud": _hs(sec, _claims(sec, user_id, session_id, aud="someone-else")),
        "wrong_iss": _hs(sec, _claims(sec, user_id, session_id, iss="evil")),
        "wrong_typ": _hs(sec, _claims(sec, user_id, session_id, typ="refresh")),
        "no_typ": _hs(sec, _claims(sec, user_id, session_id, typ=None)),
        "expired": _hs(
            sec, _claims(sec, user_id, session_id, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
        ),
        "not_yet_valid": _hs(sec, _claims(sec, user_id, session_id, nbf=int(time.time()) + 3600)),
        "missing_sid": _hs(sec, _claims(sec, user_id, session_id, sid=None)),
        "missing_sub": _hs(sec, _claims(sec, user_id, session_id, sub=None)),
        "missing_exp": _hs(sec, _claims(sec, user_id, session_id, exp=None)),
        "non_numeric_sub": _hs(sec, _claims(sec, "alice", session_id)),
        "other_secret": _hs(sec, good, key="not-the-server-secret-" + "x" * 32),
        "tampered_payload": f"{header}.{tampered_payload}.{signature}",
        "tampered_signature": f"{header}.{payload}.{flipped}",
        "refresh_token_as_access": refresh,
        "revoked_session": revoked,
        "garbage": "not.a.jwt",
        "empty_segments": "..",
        "huge": valid + "A" * 60_000,
    }


async def _setup(client):
    from tests.support.settings import of

    alice = await signed_in(client, "alice")
    gone = await signed_in(client, "bob")
    assert (await client.post("/api/v1/auth/logout", headers=gone["headers"])).status_code == 204
    claims = jwt.decode(alice["access_token"], options={"verify_signature": False})
    tokens = bad_tokens(
        of(client).security,
        alice["access_token"],
        alice["refresh_token"],
        claims["sub"],
        claims["sid"],
        gone["access_token"],
    )
    return alice, tokens


async def test_no_bad_token_is_accepted_over_http(client):
    alice, tokens = await _setup(client)
    assert (await client.get("/api/v1/auth/me", headers=alice["headers"])).status_code == 200
    accepted = {}
    for name, token in tokens.items():
        for path in ("/api/v1/auth/me", "/api/v1/notifications", "/api/v1/feeds/home"):
            res = await client.get(path, headers={"Authorization": f"Bearer {token}"})
            if res.status_code != 401 or res.json()["code"] != "unauthorized":
                accepted[f"{name} {path}"] = res.status_code
    assert accepted == {}


async def test_no_bad_token_is_accepted_on_the_socket(client):
    _, tokens = await _setup(client)
    accepted = {}
    for name, token in tokens.items():
        if name == "huge":
            continue  # a 60 KB frame: refused by size before any decoding (next test)
        async with aconnect_ws("http://testserver/api/v1/ws", client) as ws:
            await ws.send_text(json.dumps({"type": "auth", "id": 1, "token": token}))
            try:
                reply = json.loads(await ws.receive_text(timeout=10))
                if reply.get("type") == "ready":
                    accepted[name] = reply
                await ws.receive_text(timeout=10)
                accepted[name] = "socket stayed open"
            except WebSocketDisconnect as exc:
                if exc.code != 4001:
                    accepted[name] = exc.code
        # And on the handshake header: never a ready socket.
        try:
            async with aconnect_ws(
                "http://testserver/api/v1/ws", client, headers={"Authorization": f"Bearer {token}"}
            ) as ws:
                reply = json.loads(await ws.receive_text(timeout=10))
                if reply.get("type") == "ready":
                    accepted[f"{name} (header)"] = reply
        except WebSocketDisconnect as exc:
            if exc.code != 4001:
                accepted[f"{name} (header)"] = exc.code
        except Exception as exc:  # a refused handshake (403) is a refusal too
            if "403" not in str(exc) and "401" not in str(exc):
                accepted[f"{name} (header)"] = repr(exc)
    assert accepted == {}


async def test_a_huge_token_frame_closes_with_1009_not_a_crash(client):
    _, tokens = await _setup(client)
    async with aconnect_ws("http://testserver/api/v1/ws", client) as ws:
        await ws.send_text(json.dumps({"type": "auth", "id": 1, "token": tokens["huge"] + "A" * 10_000}))
        try:
            await ws.receive_text(timeout=10)
            raise AssertionError("the socket should close")
        except WebSocketDisconnect as exc:
            assert exc.code in (1009, 4001)
