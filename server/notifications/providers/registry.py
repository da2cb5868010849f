"""The configured push providers of one process, built by the composition root from the push settings."""

from __future__ import annotations

from server.notifications.providers.base import Provider
from server.settings import PushSettings


class PushProviders:
    """FCM, APNs and Web Push, each only when configured; built on first use (they read key files)."""

    def __init__(self, push: PushSettings) -> None:
        self.push = push
        self._providers: dict[str, Provider | None] | None = None

    def get(self, platform: str) -> Provider | None:
        """The provider for ``platform``, or ``None`` when it is not configured."""
        if self._providers is None:
            from server.notifications.providers.apns import APNs
            from server.notifications.providers.fcm import FCM
            from server.notifications.providers.webpush import WebPush

            push = self.push
            self._providers = {
                "fcm": FCM(push) if push.fcm_credentials_file else None,
                "apns": APNs(push) if push.apns_key_file else None,
                "webpush": WebPush(push) if push.vapid_private_key_file else None,
            }
        return self._providers.get(platform)

    async def close(self) -> None:
        """Close the providers' connections; the next ``get`` builds them again."""
        providers, self._providers = self._providers, None
        for provider in (providers or {}).values():
            if provider is not None:
                await provider.aclose()
