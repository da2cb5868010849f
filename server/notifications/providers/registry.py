"""The configured push providers of this process, built on first use from the settings."""

from __future__ import annotations

from server.notifications.providers.base import Provider
from server.settings import get_settings

_providers: dict[str, Provider | None] | None = None


def get(platform: str) -> Provider | None:
    """The provider for ``platform``, or ``None`` when it is not configured."""
    global _providers
    if _providers is None:
        from server.notifications.providers.apns import APNs
        from server.notifications.providers.fcm import FCM
        from server.notifications.providers.webpush import WebPush

        push = get_settings().push
        _providers = {
            "fcm": FCM(push) if push.fcm_credentials_file else None,
            "apns": APNs(push) if push.apns_key_file else None,
            "webpush": WebPush(push) if push.vapid_private_key_file else None,
        }
    return _providers.get(platform)


async def close() -> None:
    """Close the providers' connections; the next ``get`` reads the settings again."""
    global _providers
    providers, _providers = _providers, None
    for provider in (providers or {}).values():
        if provider is not None:
            await provider.aclose()
