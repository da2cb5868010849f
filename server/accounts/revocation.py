"""Session revocation: one cheap per-request check, and one "session revoked" signal.

One ``Revocations`` per process, built by the composition root (``server.runtime``) and handed to whoever
checks or revokes sessions. The signal is what the realtime layer subscribes to (to close that session's
sockets with 4009): ``revocations.on_revoked(callback)`` registers a coroutine that receives revoked
session ids on this process, whichever process revoked them (through Redis pub/sub when ``REDIS_URL`` is set).

The check (``session_state``) costs, per request, a dict lookup plus, with Redis, one ``EXISTS``:

- the database is the truth; revoking writes it first (the caller does), then ``revoked(ids)``
  marks the ids locally, sets ``sf:session:revoked:<id>`` in Redis for one access-token lifetime
  (after that every access token of the session has expired anyway) and publishes the ids;
- every node drops the ids from its cache and runs its callbacks when the message arrives;
- a node trusts its cached "active" answer for ``session_cache_seconds`` at most, and the Redis key
  is checked on every request, so a lost pub/sub message does not let a revoked token through.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

from channels.suppressed import suppressed
from server.accounts import queries

log = structlog.get_logger(__name__)

RevokedCallback = Callable[[list[int]], Awaitable[None]]
CHANNEL = "sf:sessions"
_KEY = "sf:session:revoked:"
_MAX_ENTRIES = 200_000


def _discard(callbacks: list[RevokedCallback], callback: RevokedCallback) -> None:
    if callback in callbacks:
        callbacks.remove(callback)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What an active session says about its user right now (the role may be newer than the token's)."""

    user_id: int
    role: str
    capabilities: tuple[str, ...] = ()


class _Message(msgspec.Struct, omit_defaults=True):
    node: str
    revoked: list[int] = []
    users: list[int] = []


class Revocations:
    """The per-node cache of session states, invalidated by revocations from any node."""

    def __init__(self, redis: Any | None = None, *, access_ttl: int = 900, cache_seconds: int = 60) -> None:
        self.redis = redis
        self.access_ttl = access_ttl
        self.cache_seconds = cache_seconds
        self.node = uuid.uuid4().hex
        self._callbacks: list[RevokedCallback] = []
        self._active: dict[int, tuple[float, SessionInfo]] = {}
        self._revoked: dict[int, float] = {}
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def on_revoked(self, callback: RevokedCallback) -> Callable[[], None]:
        """Call ``callback(session_ids)`` whenever sessions are revoked (on any node); returns the unregister."""
        self._callbacks.append(callback)
        return lambda: _discard(self._callbacks, callback)

    # --- the per-request check ------------------------------------------------------------------

    async def session_state(self, session_id: int) -> SessionInfo | None:
        """The session's user and role while it is active, else ``None``."""
        if self.revoked_here(session_id):
            return None
        flagged: bool | None = False
        if self.redis is not None:
            try:
                flagged = bool(await self.redis.exists(self.key(session_id)))
            except Exception as exc:  # Redis down: the database answers instead.
                log.warning("revocation_check_redis_failed", error=type(exc).__name__)
                flagged = None
        return await self.settle(session_id, flagged)

    def revoked_here(self, session_id: int) -> bool:
        """Whether this node already knows ``session_id`` is revoked (no Redis needed to refuse it)."""
        return self._revoked.get(session_id, 0.0) > time.monotonic()

    @staticmethod
    def key(session_id: int) -> str:
        """The Redis key that marks ``session_id`` revoked (``EXISTS`` it; a caller may pipeline the check)."""
        return _KEY + str(session_id)

    async def settle(self, session_id: int, flagged: bool | None) -> SessionInfo | None:
        """``session_state`` once the Redis check answered: ``flagged`` is whether ``key(session_id)`` exists,
        ``None`` when Redis could not say (then the database answers)."""
        if flagged:
            self._mark_revoked([session_id])
            return None
        if flagged is None:
            self._active.pop(session_id, None)
        now = time.monotonic()
        cached = self._active.get(session_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        info = await _load(session_id)
        if info is None:
            self._mark_revoked([session_id])
            return None
        if len(self._active) > _MAX_ENTRIES:
            self._active.clear()
        self._active[session_id] = (now + self.cache_seconds, info)
        return info

    # --- announcing ---------------------------------------------------------------------------

    async def revoked(self, session_ids: Iterable[int]) -> None:
        """Sessions were revoked in the database: stop them on every node, run every node's callbacks."""
        ids = sorted(set(session_ids))
        if not ids:
            return
        self._mark_revoked(ids)
        if self.redis is not None:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for sid in ids:
                        pipe.set(_KEY + str(sid), 1, ex=self.access_ttl)
                    await pipe.execute()
                # Not in the pipeline: a Redis Cluster's pipeline refuses PUBLISH (redis+cluster:// URLs).
                await self.redis.publish(CHANNEL, msgspec.json.encode(_Message(node=self.node, revoked=ids)))
            except Exception as exc:
                # Other nodes still re-read the database within session_cache_seconds.
                log.error("revocation_publish_failed", error=type(exc).__name__, sessions=len(ids))
        await self._run_callbacks(ids)

    async def users_changed(self, user_ids: Iterable[int]) -> None:
        """A user's role or standing changed: every node forgets what it cached about their sessions."""
        ids = sorted(set(user_ids))
        self._forget_users(ids)
        if self.redis is not None and ids:
            try:
                await self.redis.publish(CHANNEL, msgspec.json.encode(_Message(node=self.node, users=ids)))
            except Exception as exc:
                log.error("revocation_publish_failed", error=type(exc).__name__)

    # --- the listener -------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen for other nodes' revocations (when Redis is configured)."""
        if self.redis is not None and self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="session-revocations")
            try:
                await asyncio.wait_for(self._subscribed.wait(), 5)
            except TimeoutError:
                # Serve anyway: the listener keeps retrying, and /readyz reports Redis as down.
                log.warning("revocation_listener_not_subscribed_yet")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError), suppressed("revocation_listener_stop_failed"):
                await self._listener
            self._listener = None

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)  # type: ignore[union-attr]
            try:
                await pubsub.subscribe(CHANNEL)
                self._subscribed.set()
                backoff = 0.5
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        await self._handle(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Missed messages are covered by the per-request Redis check and the cache's expiry.
                log.warning("revocation_listener_reconnecting", error=type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                with suppressed("revocation_pubsub_close_failed", level="debug"):
                    await pubsub.aclose()

    async def _handle(self, raw: bytes) -> None:
        try:
            message = msgspec.json.decode(raw, type=_Message)
        except msgspec.DecodeError:
            log.warning("revocation_message_invalid")
            return
        if message.node == self.node:
            return  # this node already acted when it revoked
        self._forget_users(message.users)
        if message.revoked:
            self._mark_revoked(message.revoked)
            await self._run_callbacks(message.revoked)

    # --- internals ----------------------------------------------------------------------------

    def _mark_revoked(self, ids: Iterable[int]) -> None:
        # Any access token of the session expires within access_ttl, so that is how long to remember.
        until = time.monotonic() + self.access_ttl
        if len(self._revoked) > _MAX_ENTRIES:
            now = time.monotonic()
            self._revoked = {k: v for k, v in self._revoked.items() if v > now}
        for sid in ids:
            self._active.pop(sid, None)
            self._revoked[sid] = until

    def _forget_users(self, user_ids: Iterable[int]) -> None:
        users = set(user_ids)
        if users:
            for sid in [sid for sid, (_, info) in self._active.items() if info.user_id in users]:
                self._active.pop(sid, None)

    async def _run_callbacks(self, ids: list[int]) -> None:
        for callback in list(self._callbacks):
            try:
                await callback(list(ids))
            except Exception:
                log.exception("revocation_callback_failed")


async def _load(session_id: int) -> SessionInfo | None:
    row = await queries.live_session_principal(session_id, datetime.now(UTC))
    if row is None:
        return None
    return SessionInfo(user_id=int(row["user_id"]), role=str(row["role"]), capabilities=effective_capabilities(row))


def effective_capabilities(row: dict[str, Any]) -> tuple[str, ...]:
    """Enrolled capabilities, plus the role itself when an admin made someone a creator or advertiser."""
    caps = list(row.get("capabilities") or [])
    if row["role"] in ("creator", "advertiser") and row["role"] not in caps:
        caps.insert(0, row["role"])
    return tuple(caps)
