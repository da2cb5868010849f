"""Account deletion: suspended at once, purged after a 30-day grace period that logging in cancels.

The purge deletes the account and, through the foreign keys, what only its owner saw or made (posts,
likes, follows, sessions, notifications, tokens, exports). What others still see in their own threads,
comments on other people's posts, stays but is anonymized: it moves to the ``deleted`` placeholder
account. Counters others see (followers, likes) are corrected, and the audit log keeps events with the
user's id nulled (its foreign key is ``SET NULL``). Money records are never deleted: subscriptions
are cancelled at Stripe and ended, payments and payouts move to the placeholder, the ledger is untouched.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from models.account_data import AccountDeletion, DataExport
from models.accounts import AuthSession, User
from models.ids import new_id
from server import db
from server.account_data.export import exports_dir, media_files
from server.account_data.schemas import DeletionView
from server.accounts import audit, passwords, sessions
from server.accounts.audit import ClientInfo
from server.accounts.revocation import Revocations
from server.errors import Unauthorized
from server.ratelimit import RateLimiter
from server.settings import Settings

log = structlog.get_logger(__name__)

GRACE = timedelta(days=30)
PLACEHOLDER = "deleted"
JOB = "account_data.purge"


async def request_deletion(
    user_id: int,
    password: str,
    client: ClientInfo,
    limiter: RateLimiter,
    settings: Settings,
    revocations: Revocations,
) -> DeletionView:
    """Check the password, then suspend, schedule the purge and end every session (sockets close 4009)."""
    key = f"password:acct:{user_id}"
    limit = settings.rate_limits.login_account
    await limiter.check(key, limit)
    user = await User.select(User.password_hash).where(User.id == user_id).first()
    if user is None or not await passwords.verify_password(user["password_hash"], password):
        await limiter.record(key, limit)
        raise Unauthorized("the password is wrong")
    await limiter.clear(key)
    now = datetime.now(UTC)
    async with db.transaction():
        await User.update({User.suspended_at: now, User.updated_at: now}).where(User.id == user_id)
        await AccountDeletion.raw(
            'INSERT INTO account_deletions ("user", requested_at, purge_after) VALUES ({}, {}, {}) '
            'ON CONFLICT ("user") DO UPDATE SET requested_at = EXCLUDED.requested_at, '
            "purge_after = EXCLUDED.purge_after",
            user_id,
            now,
            now + GRACE,
        )
        revoked = await sessions.mark_revoked(AuthSession.user == user_id, "account_deleted")
        await audit.record(
            "account_deletion_requested",
            user_id=user_id,
            client=client,
            purge_after=(now + GRACE).isoformat(),
            sessions_revoked=len(revoked),
        )
    await sessions.announce(revocations, revoked)
    return DeletionView(status="scheduled", requested_at=now, purge_after=now + GRACE)


async def cancel_on_login(user: dict[str, Any], client: ClientInfo) -> bool:
    """Called on a login with the right password by a suspended user: lift a self-requested deletion.

    Returns whether there was one (a moderator's suspension is not lifted here).
    """
    async with db.transaction():
        rows = await AccountDeletion.raw('DELETE FROM account_deletions WHERE "user" = {} RETURNING "user"', user["id"])
        if not rows:
            return False
        await User.update({User.suspended_at: None}).where(User.id == user["id"])
        await audit.record("account_deletion_cancelled", user_id=user["id"], client=client)
    user["suspended_at"] = None
    return True


async def _placeholder() -> int:
    """The ``deleted`` account that anonymized content moves to (made once; it can never log in)."""
    row = await User.select(User.id).where(User.username == PLACEHOLDER).first()
    if row is not None:
        return int(row["id"])
    await User.raw(
        "INSERT INTO users (id, username, email, email_normalized, password_hash, display_name, bio, role, "
        "is_private, locale, timezone, suspended_at, totp_enabled, followers_count, following_count, posts_count, "
        "links, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, 'Deleted user', '', 'user', false, 'en', "
        "'UTC', now(), false, 0, 0, 0, '[]'::jsonb, now(), now()) ON CONFLICT DO NOTHING",
        new_id(),
        PLACEHOLDER,
        "deleted@invalid",
        "deleted@invalid",
        "!" + secrets.token_hex(16),  # not an argon2 hash: no password ever matches
    )
    row = await User.select(User.id).where(User.username == PLACEHOLDER).first()
    assert row is not None
    return int(row["id"])


_OPEN_SUBSCRIPTIONS = (
    "SELECT id, subscription_id FROM fan_subscriptions WHERE (subscriber = {} OR creator = {}) AND ended_at IS NULL"
)


async def _cancel_subscriptions(user_id: int, settings: Settings) -> None:
    """Cancel at Stripe, now, every subscription the account pays or is paid by: nobody is billed for a
    creator who is gone, and a deleted fan is billed no more. A Stripe failure stops the purge (retried
    on the next hourly run) rather than delete an account whose subscriptions still charge."""
    from server.payments import runtime

    rows = await User.raw(_OPEN_SUBSCRIPTIONS, user_id, user_id)
    if not rows:
        return
    async with runtime.from_settings(settings) as ctx:
        if not ctx.settings.enabled:
            log.warning("account_purge_subscriptions_not_cancelled_at_stripe", user_id=user_id, count=len(rows))
            return
        stripe = ctx.stripe
        for row in rows:
            await _cancel_at_stripe(stripe, str(row["subscription_id"]))


async def _cancel_at_stripe(stripe: Any, sub_id: str) -> None:
    sub = await stripe.call("subscriptions.retrieve", lambda: stripe.v1.subscriptions.retrieve_async(sub_id))
    if sub["status"] not in ("canceled", "incomplete_expired"):
        await stripe.call("subscriptions.cancel", lambda: stripe.v1.subscriptions.cancel_async(sub_id))


async def _keep_money_records(user_id: int, placeholder: int) -> None:
    """Money records outlive the account: payments, refunds, payouts and the ledger are never deleted.

    Payments and payouts it made or received move to the placeholder (the other party still sees theirs,
    by "Deleted user"); the ledger holds no foreign key to users and is left exactly as it is. Its
    subscriptions end now; those of its fans stay in the fans' lists, ended, with the tier they paid for
    (moved to the placeholder, whose tiers nobody can list or subscribe to: it is suspended); its own
    subscriptions to others go with it.
    """
    await User.raw(
        "UPDATE fan_subscriptions SET status = 'canceled', ended_at = now(), cancel_at_period_end = false, "
        "access_until = LEAST(access_until, now()) WHERE (subscriber = {} OR creator = {}) AND ended_at IS NULL",
        user_id,
        user_id,
    )
    await User.raw("UPDATE fan_subscriptions SET creator = {} WHERE creator = {}", placeholder, user_id)
    await User.raw("UPDATE subscription_tiers SET creator = {} WHERE creator = {}", placeholder, user_id)
    await User.raw("UPDATE payments SET payer = {} WHERE payer = {}", placeholder, user_id)
    await User.raw("UPDATE payments SET recipient = {} WHERE recipient = {}", placeholder, user_id)
    await User.raw("UPDATE payment_refunds SET requested_by = {} WHERE requested_by = {}", placeholder, user_id)
    await User.raw("UPDATE payouts SET creator = {} WHERE creator = {}", placeholder, user_id)


async def purge(user_id: int, settings: Settings) -> None:
    """Hard-delete one account whose grace period is over, anonymizing what others still see."""
    placeholder = await _placeholder()
    due = await AccountDeletion.raw(
        'SELECT "user" FROM account_deletions WHERE "user" = {} AND purge_after <= now()', user_id
    )
    if not due:
        return
    await _cancel_subscriptions(user_id, settings)  # Stripe first, outside the transaction
    async with db.transaction():
        due = await AccountDeletion.raw(
            'SELECT "user" FROM account_deletions WHERE "user" = {} AND purge_after <= now() FOR UPDATE', user_id
        )
        if not due:
            return  # cancelled by a login, or not due yet
        await _keep_money_records(user_id, placeholder)
        # Comments in other people's threads stay, by the placeholder; the rest goes with the account.
        await User.raw(
            "UPDATE comments SET author = {} WHERE author = {} AND post IN (SELECT id FROM posts WHERE author <> {})",
            placeholder,
            user_id,
            user_id,
        )
        await User.raw(
            "UPDATE users u SET followers_count = greatest(u.followers_count - 1, 0) FROM follows f "
            "WHERE f.follower = {} AND u.id = f.followee",
            user_id,
        )
        await User.raw(
            "UPDATE users u SET following_count = greatest(u.following_count - 1, 0) FROM follows f "
            "WHERE f.followee = {} AND u.id = f.follower",
            user_id,
        )
        await User.raw(
            'UPDATE posts p SET like_count = greatest(p.like_count - 1, 0) FROM post_likes l WHERE l."user" = {} '
            "AND p.id = l.post AND p.author <> {}",
            user_id,
            user_id,
        )
        files = await DataExport.select(DataExport.file_name).where(DataExport.user == user_id)
        urls = await User.raw(
            "SELECT url FROM post_media WHERE owner = {} UNION ALL "
            "SELECT avatar_url FROM users WHERE id = {} AND avatar_url IS NOT NULL",
            user_id,
            user_id,
        )
        await User.delete().where(User.id == user_id)
        await audit.record("account_deleted", user_id=None, actor_id=None, deleted_user_id=str(user_id))
    for row in files:
        if row["file_name"]:
            (exports_dir(settings) / row["file_name"]).unlink(missing_ok=True)
    for path, _ in media_files(settings, [r["url"] for r in urls]):
        path.unlink(missing_ok=True)
    log.info("account_purged", user_id=user_id)


async def purge_due(settings: Settings) -> int:
    """Purge every account whose grace period is over; return how many."""
    rows = await AccountDeletion.raw('SELECT "user" FROM account_deletions WHERE purge_after <= now()')
    done = 0
    for row in rows:
        try:
            await purge(row["user"], settings)
            done += 1
        except Exception:  # one account's failure (a foreign key another domain holds) must not stop the rest
            log.exception("account_purge_failed", user_id=row["user"])
    return done
