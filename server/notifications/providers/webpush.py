"""Web Push: VAPID (RFC 8292) authorization and RFC 8291 aes128gcm payload encryption (http_ece)."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import http_ece
import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.notifications.providers import netguard
from server.notifications.providers.base import (
    Message,
    Rejected,
    TokenGone,
    client,
    post,
    retry_if_transient,
)
from server.settings import PushSettings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_vapid_key(path: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("VAPID key must be an EC P-256 private key")
    return key


def public_key_b64(key: ec.EllipticCurvePrivateKey) -> str:
    """The application server key browsers pass to ``pushManager.subscribe``."""
    raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)


def encrypt(payload: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291: ECDH with a fresh key, HKDF with the subscription's auth secret, one aes128gcm record."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    return http_ece.encrypt(
        payload,
        salt=os.urandom(16),
        private_key=ephemeral,
        dh=_unb64url(p256dh),
        auth_secret=_unb64url(auth),
        version="aes128gcm",
    )


class WebPush:
    def __init__(self, settings: PushSettings) -> None:
        assert settings.vapid_private_key_file
        self.key = load_vapid_key(settings.vapid_private_key_file)
        self.public_key = public_key_b64(self.key)
        self.pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.subject = settings.vapid_subject
        self.allow = settings.allow_hosts
        self.http = client(settings.ca_file)

    def vapid(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + 12 * 3600, "sub": self.subject}
        token = jwt.encode(claims, self.pem, algorithm="ES256", headers={"typ": "JWT"})
        return f"vapid t={token}, k={self.public_key}"

    async def send(self, token: dict[str, Any], message: Message) -> None:
        keys = token["keys"] if isinstance(token["keys"], dict) else msgspec.json.decode(token["keys"])
        payload = msgspec.json.encode({"title": message.title, "body": message.body, "data": message.data})
        body = encrypt(payload, keys["p256dh"], keys["auth"])
        headers = {
            "Authorization": self.vapid(token["token"]),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(24 * 3600),
            "Urgency": "normal",
            # Topic: at most 32 characters of the URL-safe base64 alphabet; a newer push replaces it.
            "Topic": b64url(hashlib.sha256(message.collapse_key.encode()).digest())[:32],
        }
        url, extensions = await self._pinned(token["token"], headers)
        res = await post(self.http, "webpush", url, content=body, headers=headers, extensions=extensions)
        if res.status_code in (200, 201, 202):
            return
        if res.status_code in (404, 410):
            raise TokenGone(f"webpush: {res.status_code}")
        retry_if_transient(res, "webpush")
        raise Rejected(f"webpush answered {res.status_code}")

    async def _pinned(self, endpoint: str, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """Connect to the address checked public at send time, with the endpoint's name for Host and TLS."""
        try:
            address = await netguard.resolve_public(endpoint, self.allow)
        except netguard.Refused as exc:
            # Never contacted, so nothing about a local service is learnt; the registration is dropped.
            raise TokenGone(f"webpush: endpoint refused ({exc})") from None
        if address is None:
            return endpoint, {}
        parts = urlsplit(endpoint)
        host = f"[{address}]" if ":" in address else address
        headers["Host"] = parts.netloc
        pinned = parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host).geturl()
        return pinned, {"sni_hostname": parts.hostname}

    async def aclose(self) -> None:
        await self.http.aclose()
