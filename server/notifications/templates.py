"""Localized push and digest texts: ``{actor}`` and ``{others}`` filled in per recipient's locale."""

from __future__ import annotations

# (one actor, several actors). Keep every locale's keys identical (a unit test checks).
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "follow": ("{actor} followed you", "{actor} and {others} others followed you"),
        "follow_request": ("{actor} asked to follow you", "{actor} and {others} others asked to follow you"),
        "follow_accepted": ("{actor} accepted your follow request", "{actor} accepted your follow request"),
        "like": ("{actor} liked your post", "{actor} and {others} others liked your post"),
        "comment": ("{actor} commented on your post", "{actor} and {others} others commented on your post"),
        "reply": ("{actor} replied to your comment", "{actor} and {others} others replied to your comment"),
        "mention": ("{actor} mentioned you", "{actor} and {others} others mentioned you"),
        "repost": ("{actor} reposted your post", "{actor} and {others} others reposted your post"),
        "new_post": ("{actor} posted something new", "{actor} posted something new"),
        "live_started": ("{actor} is live now", "{actor} is live now"),
        "payment_received": ("You received a payment", "You received {count} payments"),
        "subscription_started": ("{actor} subscribed to you", "{actor} and {others} others subscribed to you"),
        "payout_paid": ("Your payout was paid", "Your payouts were paid"),
        "video_ready": ("Your video is ready", "{count} of your videos are ready"),
        "system": ("You have a new notice", "You have {count} new notices"),
        "data_export_ready": ("Your data export is ready to download", "Your data exports are ready to download"),
        "_digest_subject": ("You have a new notification", "You have {count} new notifications"),
    },
    "es": {
        "follow": ("{actor} empezó a seguirte", "{actor} y {others} más empezaron a seguirte"),
        "follow_request": ("{actor} quiere seguirte", "{actor} y {others} más quieren seguirte"),
        "follow_accepted": ("{actor} aceptó tu solicitud", "{actor} aceptó tu solicitud"),
        "like": ("A {actor} le gustó tu publicación", "A {actor} y {others} más les gustó tu publicación"),
        "comment": ("{actor} comentó tu publicación", "{actor} y {others} más comentaron tu publicación"),
        "reply": ("{actor} respondió a tu comentario", "{actor} y {others} más respondieron a tu comentario"),
        "mention": ("{actor} te mencionó", "{actor} y {others} más te mencionaron"),
        "repost": ("{actor} compartió tu publicación", "{actor} y {others} más compartieron tu publicación"),
        "new_post": ("{actor} publicó algo nuevo", "{actor} publicó algo nuevo"),
        "live_started": ("{actor} está en directo", "{actor} está en directo"),
        "payment_received": ("Recibiste un pago", "Recibiste {count} pagos"),
        "subscription_started": ("{actor} se suscribió a ti", "{actor} y {others} más se suscribieron a ti"),
        "payout_paid": ("Tu pago fue enviado", "Tus pagos fueron enviados"),
        "video_ready": ("Tu video está listo", "{count} de tus videos están listos"),
        "system": ("Tienes un aviso nuevo", "Tienes {count} avisos nuevos"),
        "data_export_ready": ("Tu exportación de datos está lista", "Tus exportaciones de datos están listas"),
        "_digest_subject": ("Tienes una notificación nueva", "Tienes {count} notificaciones nuevas"),
    },
}
TITLE = "Social Flow"


def locale_of(locale: str | None) -> str:
    """The best supported locale for ``locale`` (``es-MX`` -> ``es``), English otherwise."""
    base = (locale or "en").replace("_", "-").split("-")[0].lower()
    return base if base in TEXTS else "en"


def render(locale: str | None, key: str, actor: str, actors_count: int = 1, count: int = 1) -> str:
    one, many = TEXTS[locale_of(locale)][key]
    text = many if actors_count > 1 or count > 1 else one
    return text.format(actor=actor, others=max(0, actors_count - 1), count=count)
