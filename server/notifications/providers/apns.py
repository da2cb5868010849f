"""APNs over HTTP/2 with an ES256 provider token (PyJWT), refreshed every 50 minutes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt

from server.jobqueue import Retryable
from server.notifications.providers.base import (
    Message,
    Rejected,
    TokenGone,
    client,
    post,
    retry_if_transient,
)
from server.settings import PushSettings

# Apple rejects tokens older than an hour and throttles refreshes more often than every 20 minutes.
TOKEN_LIFETIME = 50 * 60
GONE_REASONS = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}


class APNs:
    def __init__(self, settings: PushSettings) -> None:
        assert settings.apns_key_file and settings.apns_key_id and settings.apns_team_id and settings.apns_topic
        self.key = Path(settings.apns_key_file).read_text()
        self.key_id, self.team_id, self.topic = settings.apns_key_id, settings.apns_team_id, settings.apns_topic
        self.urls = {"production": settings.apns_url, "sandbox": settings.apns_sandbox_url}
        self.http = client(settings.ca_file, http2=True)
        self._token: tuple[str, float] | None = None

    def provider_token(self) -> str:
        now = time.time()
        if self._token is None or now - self._token[1] >= TOKEN_LIFETIME:
            token = jwt.encode(
                {"iss": self.team_id, "iat": int(now)}, self.key, algorithm="ES256", headers={"kid": self.key_id}
            )
            self._token = (token, now)
        return self._token[0]

    async def send(self, token: dict[str, Any], message: Message) -> None:
        url = (
            f"{self.urls.get(token['environment'] or 'production', self.urls['production'])}/3/device/{token['token']}"
        )
        payload: dict[str, Any] = {
            "aps": {
                "alert": {"title": message.title, "body": message.body},
                "sound": "default",
                "thread-id": message.collapse_key,
            },
            **{k: v for k, v in message.data.items() if k != "aps"},
        }
        if message.badge is not None:
            payload["aps"]["badge"] = message.badge
        for _ in range(2):
            headers = {
                "authorization": f"bearer {self.provider_token()}",
                "apns-topic": self.topic,
                "apns-push-type": "alert",
                "apns-priority": "10",
                "apns-collapse-id": message.collapse_key.encode()[:64].decode(errors="ignore"),
                "apns-expiration": str(int(time.time()) + 24 * 3600),
            }
            res = await post(self.http, "apns", url, json=payload, headers=headers)
            if res.status_code == 403 and _reason(res) == "ExpiredProviderToken":
                self._token = None
                continue
            break
        if res.status_code == 200:
            return
        reason = _reason(res)
        if res.status_code == 410 or reason in GONE_REASONS:
            raise TokenGone(f"apns: {res.status_code} {reason}")
        retry_if_transient(res, "apns")
        if reason == "ExpiredProviderToken":
            raise Retryable("apns: provider token refused twice")
        raise Rejected(f"apns answered {res.status_code} {reason}")

    async def aclose(self) -> None:
        await self.http.aclose()


def _reason(res: Any) -> str:
    try:
        return str(res.json().get("reason", ""))
    except (ValueError, AttributeError):
        return ""
