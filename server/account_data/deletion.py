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

from models.account_data import DataExport
from models.accounts import AuthSession, User
from models.ids import new_id
from server import db
from server.account_data import queries
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
        await queries.schedule_deletion(user_id, now, now + GRACE)
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
        if not await queries.cancel_deletion(user["id"]):
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
    await queries.insert_placeholder_user(
        new_id(),
        PLACEHOLDER,
        "deleted@invalid",
        "!" + secrets.token_hex(16),  # not an argon2 hash: no password ever matches
    )
    row = await User.select(User.id).where(User.username == PLACEHOLDER).first()
    assert row is not None
    return int(row["id"])


async def _cancel_subscriptions(user_id: int, settings: Settings) -> None:
    """Cancel at Stripe, now, every subscription the account pays or is paid by: nobody is billed for a
    creator who is gone, and a deleted fan is billed no more. A Stripe failure stops the purge (retried
    on the next hourly run) rather than delete an account whose subscriptions still charge."""
    from server.payments import runtime

    subscription_ids = await queries.open_subscriptions(user_id)
    if not subscription_ids:
        return
    async with runtime.stripe_for(settings) as stripe:
        if stripe is None:
            log.warning(
                "account_purge_subscriptions_not_cancelled_at_stripe", user_id=user_id, count=len(subscription_ids)
            )
            return
        for sub_id in subscription_ids:
            await _cancel_at_stripe(stripe, sub_id)


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
    await queries.keep_money_records(user_id, placeholder)


async def purge(user_id: int, settings: Settings) -> None:
    """Hard-delete one account whose grace period is over, anonymizing what others still see."""
    placeholder = await _placeholder()
    if not await queries.deletion_due(user_id):
        return
    await _cancel_subscriptions(user_id, settings)  # Stripe first, outside the transaction
    async with db.transaction():
        if not await queries.deletion_due(user_id, lock=True):
            return  # cancelled by a login, or not due yet
        await _keep_money_records(user_id, placeholder)
        # Comments in other people's threads stay, by the placeholder; the rest goes with the account.
        await queries.move_foreign_comments(user_id, placeholder)
        await queries.uncount_user(user_id)
        files = await DataExport.select(DataExport.file_name).where(DataExport.user == user_id)
        urls = await queries.media_urls(user_id)
        await User.delete().where(User.id == user_id)
        await audit.record("account_deleted", user_id=None, actor_id=None, deleted_user_id=str(user_id))
    for row in files:
        if row["file_name"]:
            (exports_dir(settings) / row["file_name"]).unlink(missing_ok=True)
    for path, _ in media_files(settings, urls):
        path.unlink(missing_ok=True)
    log.info("account_purged", user_id=user_id)


async def purge_due(settings: Settings) -> int:
    """Purge every account whose grace period is over; return how many."""
    done = 0
    for user_id in await queries.due_deletions():
        try:
            await purge(user_id, settings)
            done += 1
        except Exception:  # one account's failure (a foreign key another domain holds) must not stop the rest
            log.exception("account_purge_failed", user_id=user_id)
    return done
