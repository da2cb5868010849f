"""Email digests through the mail outbox, for users away for a while."""

from __future__ import annotations

from models.accounts import MailOutbox
from server import events
from server.notifications import digest
from tests.integration.notifications.helpers import fire, member, user


async def _away(username: str) -> None:
    await MailOutbox.raw(
        "UPDATE auth_sessions SET last_used_at = now() - interval '2 days' "
        'WHERE "user" = (SELECT id FROM users WHERE username = {})',
        username,
    )
    await MailOutbox.raw("UPDATE users SET created_at = now() - interval '3 days' WHERE username = {}", username)


async def _digests() -> list[dict]:
    """Digest mails only (registration also queues a verification mail)."""
    return await MailOutbox.select().where(MailOutbox.subject.ilike("%new notification%"))


async def test_digest_mails_away_users_once_with_email_enabled_types(app, client):
    alice = await member("alice")
    bob = await member("bob")
    carol = await member("carol")
    await fire(client, events.Liked(actor_id=int(carol), post_id=1, post_author_id=int(alice)))
    await fire(
        client,
        events.PostPublished(actor_id=int(carol), post_id=2, visibility="public", mentioned_ids=(int(alice), int(bob))),
    )
    await fire(client, events.Followed(actor_id=int(carol), target_id=int(alice)))
    await _away("alice")  # bob was just active: no digest for him

    assert await digest.send_digests(app.state.notifications_runtime) == 1
    [mail] = await _digests()
    assert mail["to_address"] == "alice@example.com"
    assert mail["subject"] == "You have 2 new notifications"  # mention + follow; likes are not mailed by default
    assert "carol mentioned you" in mail["body"] and "carol followed you" in mail["body"]
    assert "liked" not in mail["body"]
    assert len(await _digests()) == 1

    assert await digest.send_digests(app.state.notifications_runtime) == 0  # nothing mailed twice
    assert len(await _digests()) == 1


async def test_digest_skips_read_notifications_and_respects_email_preference(app, client):
    alice, alice_h = await user(client, "alice")
    carol = await member("carol")
    await client.put("/api/v1/notifications/preferences", json={"types": {"follow": {"email": False}}}, headers=alice_h)
    await fire(client, events.Followed(actor_id=int(carol), target_id=int(alice)))
    await fire(client, events.Commented(actor_id=int(carol), post_id=3, post_author_id=int(alice), comment_id=4))
    await client.post("/api/v1/notifications/read", json={"all": True}, headers=alice_h)
    await fire(client, events.Commented(actor_id=int(carol), post_id=5, post_author_id=int(alice), comment_id=6))
    await _away("alice")
    assert await digest.send_digests(app.state.notifications_runtime) == 1
    [mail] = await _digests()
    assert mail["subject"] == "You have a new notification" and "carol commented on your post" in mail["body"]
