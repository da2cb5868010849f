"""Push token registration: validated per platform, one row per token, moved to whoever registers it last."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric import ec

from models.notifications import PushToken
from server import db
from server.errors import NotFound, ValidationFailed
from server.notifications import queries
from server.notifications.providers import netguard
from server.notifications.schemas import PushTokenCreate, PushTokenView
from server.settings import Settings

PLATFORMS = ("fcm", "apns", "webpush")
# FCM registration tokens are opaque but drawn from this alphabet (``<instance id>:APA91b...``).
_FCM = re.compile(r"^[A-Za-z0-9_\-:.]{64,4096}$")
_APNS = re.compile(r"^[0-9a-fA-F]{64}$")
APNS_ENVIRONMENTS = ("sandbox", "production")


def _b64url(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValidationFailed(f"{field} must be base64url text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(f"{field} is not base64url") from exc


def _webpush(token: str | dict[str, Any], allow: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """The endpoint and keys of a Web Push subscription (``PushSubscription.toJSON()``)."""
    if isinstance(token, str):
        try:
            token = msgspec.json.decode(token)
        except msgspec.DecodeError as exc:
            raise ValidationFailed("a Web Push token is a subscription object") from exc
    if not isinstance(token, dict):
        raise ValidationFailed("a Web Push token is a subscription object")
    endpoint, keys = token.get("endpoint"), token.get("keys")
    if not isinstance(endpoint, str) or not 10 <= len(endpoint) <= 2048:
        raise ValidationFailed("subscription endpoint is missing or too long")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ValidationFailed("subscription endpoint must be an https URL")
    try:
        netguard.check_url(endpoint, allow)
    except netguard.Refused as exc:
        raise ValidationFailed(f"subscription endpoint must be a public push service ({exc})") from None
    if not isinstance(keys, dict):
        raise ValidationFailed("subscription keys (p256dh, auth) are required")
    p256dh = _b64url(keys.get("p256dh"), "keys.p256dh")
    auth = _b64url(keys.get("auth"), "keys.auth")
    if len(auth) != 16:
        raise ValidationFailed("keys.auth must be 16 bytes")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
    except ValueError as exc:
        raise ValidationFailed("keys.p256dh is not a P-256 public key") from exc
    return endpoint, {"p256dh": keys["p256dh"], "auth": keys["auth"]}


def validate(data: PushTokenCreate, allow: tuple[str, ...] = ()) -> tuple[str, dict[str, str], str]:
    """``(token, keys, environment)`` for a registration, or ``ValidationFailed``."""
    if data.platform not in PLATFORMS:
        raise ValidationFailed(f"platform must be one of {', '.join(PLATFORMS)}")
    if data.platform != "apns" and data.environment is not None:
        raise ValidationFailed("environment applies to apns only")
    if data.platform == "webpush":
        endpoint, keys = _webpush(data.token, allow)
        return endpoint, keys, ""
    if not isinstance(data.token, str):
        raise ValidationFailed(f"a {data.platform} token is a string")
    if data.platform == "fcm":
        if not _FCM.match(data.token):
            raise ValidationFailed("not an FCM registration token")
        return data.token, {}, ""
    if not _APNS.match(data.token):
        raise ValidationFailed("an APNs device token is 64 hex characters")
    environment = data.environment or "production"
    if environment not in APNS_ENVIRONMENTS:
        raise ValidationFailed("environment must be sandbox or production")
    return data.token.lower(), {}, environment


def view(row: dict[str, Any]) -> PushTokenView:
    return PushTokenView(
        id=str(row["id"]),
        platform=row["platform"],
        token=row["token"],
        device_id=row["device_id"],
        environment=row["environment"] or None,
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


class PushTokenService:
    def __init__(self, settings: Settings) -> None:
        self.cap = settings.push.tokens_per_user
        self.allow = settings.push.allow_hosts

    async def register(self, user_id: int, data: PushTokenCreate) -> PushTokenView:
        """Register (or refresh ``last_seen_at`` of) a token; it moves to ``user_id`` if another had it."""
        token, keys, environment = validate(data, self.allow)
        token_hash = hashlib.sha256(f"{data.platform}:{token}".encode()).hexdigest()
        async with db.transaction():
            row = await queries.upsert_push_token(
                user_id,
                data.platform,
                token,
                token_hash,
                msgspec.json.encode(keys).decode(),
                environment,
                data.device_id,
                data.locale,
            )
            if data.device_id:
                # An app that got a fresh token for the same device: the old one is dead.
                await queries.drop_device_tokens(user_id, data.platform, data.device_id, keep=row["id"])
            # Over the cap, the least recently seen registrations go: a phone reinstalled ten times
            # must not lock its owner out.
            await queries.keep_newest_push_tokens(user_id, self.cap)
        return view(row)

    async def mine(self, user_id: int) -> list[PushTokenView]:
        rows = (
            await PushToken.select()
            .where(PushToken.user == user_id)
            .order_by(PushToken.last_seen_at, PushToken.id, ascending=False)
        )
        return [view(r) for r in rows]

    async def delete(self, user_id: int, token_id: int) -> None:
        """Delete one of the caller's tokens; another user's is as unknown as a missing one (404)."""
        if not await queries.delete_push_token(user_id, token_id):
            raise NotFound("no such push token")
