"""FCM HTTP v1: a service account's OAuth2 token (JWT bearer grant, cached) and ``messages:send``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
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

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class FCM:
    def __init__(self, settings: PushSettings) -> None:
        assert settings.fcm_credentials_file
        self.account: dict[str, Any] = json.loads(Path(settings.fcm_credentials_file).read_text())
        self.project = settings.fcm_project_id or self.account["project_id"]
        self.url = f"{settings.fcm_api_url}/v1/projects/{self.project}/messages:send"
        self.http = client(settings.ca_file)
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def access_token(self) -> str:
        """A cached OAuth2 access token, fetched again a minute before it expires."""
        async with self._lock:
            if self._token and self._token[1] > time.time() + 60:
                return self._token[0]
            now = int(time.time())
            assertion = jwt.encode(
                {
                    "iss": self.account["client_email"],
                    "scope": SCOPE,
                    "aud": self.account["token_uri"],
                    "iat": now,
                    "exp": now + 3600,
                },
                self.account["private_key"],
                algorithm="RS256",
                headers={"kid": self.account.get("private_key_id", "")},
            )
            res = await post(
                self.http, "fcm-oauth", self.account["token_uri"], data={"grant_type": GRANT, "assertion": assertion}
            )
            retry_if_transient(res, "fcm-oauth")
            if res.status_code != 200:
                raise Rejected(f"fcm oauth answered {res.status_code}")
            body = res.json()
            self._token = (body["access_token"], now + float(body.get("expires_in", 3600)))
            return self._token[0]

    def body(self, token: str, message: Message) -> dict[str, Any]:
        return {
            "message": {
                "token": token,
                "notification": {"title": message.title, "body": message.body},
                "data": message.data,
                "android": {
                    "collapse_key": message.collapse_key[:64],
                    "priority": "high",
                    "notification": {"tag": message.collapse_key[:64]},
                },
                "apns": {"headers": {"apns-collapse-id": message.collapse_key[:64]}},
            }
        }

    async def send(self, token: dict[str, Any], message: Message) -> None:
        for _ in range(2):  # a 401 means our cached access token died early: fetch one more, once
            access = await self.access_token()
            res = await post(
                self.http,
                "fcm",
                self.url,
                json=self.body(token["token"], message),
                headers={"Authorization": f"Bearer {access}"},
            )
            if res.status_code != 401:
                break
            self._token = None
        if res.status_code == 200:
            return
        retry_if_transient(res, "fcm")
        if res.status_code == 404 or _error_code(res) == "UNREGISTERED":
            raise TokenGone("fcm: UNREGISTERED")
        if res.status_code == 401:
            raise Retryable("fcm: unauthorized twice")
        raise Rejected(f"fcm answered {res.status_code} {_error_code(res)}")

    async def aclose(self) -> None:
        await self.http.aclose()


def _error_code(res: httpx.Response) -> str:
    try:
        details = res.json()["error"].get("details", [])
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    for detail in details:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return ""
