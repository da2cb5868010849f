"""Revocation: cheap cached checks, stopped at once everywhere, one signal on every node."""

from __future__ import annotations

import asyncio

import pytest

from server.accounts import revocation
from tests.support.accounts import PASSWORD, login, signed_in


class Collector:
    """A revocation callback that remembers what it was told."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.event = asyncio.Event()

    async def __call__(self, ids: list[int]) -> None:
        self.ids.extend(ids)
        self.event.set()

    async def wait(self) -> list[int]:
        await asyncio.wait_for(self.event.wait(), 20)
        return self.ids


@pytest.fixture
def signal(app):
    """A callback registered on the app's ``revocations.on_revoked`` for the duration of a test."""
    revocations = app.state.revocations
    collector = Collector()
    unregister = revocations.on_revoked(collector)
    yield collector
    unregister()
    assert collector not in revocations._callbacks


async def _session_id(client, headers):
    items = (await client.get("/api/v1/auth/sessions", headers=headers)).json()["items"]
    return int(next(s["id"] for s in items if s["current"]))


async def test_logout_signals_the_revoked_session(client, signal):
    alice = await signed_in(client)
    sid = await _session_id(client, alice["headers"])
    assert (await client.post("/api/v1/auth/logout", headers=alice["headers"])).status_code == 204
    assert await signal.wait() == [sid]


async def test_password_change_revokes_other_sessions_and_signals_them(client, signal):
    alice = await signed_in(client)
    phone = (await login(client)).json()
    phone_headers = {"Authorization": f"Bearer {phone['access_token']}"}
    phone_sid = await _session_id(client, phone_headers)
    new = "another long passphrase 7"
    res = await client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=alice["headers"],
    )
    assert res.status_code == 204
    assert await signal.wait() == [phone_sid]
    assert (await client.get("/api/v1/auth/me", headers=phone_headers)).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers=alice["headers"])).status_code == 200
    assert (await login(client, password=PASSWORD)).status_code == 401
    assert (await login(client, password=new)).status_code == 200


async def test_bad_password_changes_are_refused_and_change_nothing(client):
    alice = await signed_in(client)
    for body in (
        {"current_password": "wrong password!!", "new_password": "another long passphrase 7"},
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD, "new_password": "password123"},
        {"current_password": PASSWORD, "new_password": PASSWORD},
        {"current_password": PASSWORD},
        {"current_password": PASSWORD, "new_password": 12345678901},
        {"current_password": PASSWORD, "new_password": "another long passphrase 7", "extra": 1},
    ):
        res = await client.post("/api/v1/auth/password", json=body, headers=alice["headers"])
        assert res.status_code == 422, body
        assert res.json()["code"] == "validation_error"
    assert (await client.post("/api/v1/auth/password", json={})).status_code == 401
    assert (await login(client)).status_code == 200


async def test_a_revocation_on_one_node_reaches_every_node(services, database, redis_client, clean_db, settings):
    """Two nodes on one Redis: node A revokes, node B refuses the session and runs its callbacks."""
    import redis.asyncio as aioredis

    from server.accounts.audit import ClientInfo
    from server.accounts.services import AccountService

    redis_a = aioredis.from_url(services["redis_url"])
    redis_b = aioredis.from_url(services["redis_url"])
    node_a = revocation.Revocations(redis_a)
    node_b = revocation.Revocations(redis_b)
    heard_on_b, heard_on_a = Collector(), Collector()
    node_b.on_revoked(heard_on_b)
    node_a.on_revoked(heard_on_a)
    await node_a.start()
    await node_b.start()
    try:
        accounts = AccountService(settings)
        user = await accounts.register("carol", "carol@example.com", PASSWORD)
        issued = await accounts.open_session(user, ClientInfo())
        sid = issued.session_id
        assert await node_b.session_state(sid) == revocation.SessionInfo(user_id=user["id"], role="user")

        from server.accounts import sessions

        ids = await sessions.mark_revoked(sessions.AuthSession.id == sid, "test")
        await node_a.revoked(ids)
        assert await heard_on_b.wait() == [sid]
        assert heard_on_a.ids == [sid]  # the revoking node runs its own callbacks once, directly
        assert await node_b.session_state(sid) is None
    finally:
        await node_a.stop()
        await node_b.stop()
        await redis_a.aclose()
        await redis_b.aclose()


async def test_without_redis_the_signal_and_check_stay_in_process(services, database, clean_db, settings):
    from server.accounts.audit import ClientInfo
    from server.accounts.services import AccountService

    node = revocation.Revocations(None)
    heard = Collector()
    node.on_revoked(heard)
    await node.start()
    accounts = AccountService(settings)
    user = await accounts.register("dave", "dave@example.com", PASSWORD)
    sid = (await accounts.open_session(user, ClientInfo())).session_id
    assert await node.session_state(sid) is not None
    await node.revoked([sid])
    assert heard.ids == [sid]
    assert await node.session_state(sid) is None


async def test_active_sessions_are_answered_from_the_cache(services, database, redis_client, clean_db, settings):
    """The per-request check does not read the database again while the session is known active."""
    from models.accounts import AuthSession
    from server.accounts.audit import ClientInfo
    from server.accounts.services import AccountService

    node = revocation.Revocations(redis_client, cache_seconds=3600)
    accounts = AccountService(settings)
    user = await accounts.register("erin", "erin@example.com", PASSWORD)
    sid = (await accounts.open_session(user, ClientInfo())).session_id
    assert await node.session_state(sid) is not None
    # Revoked behind the cache's back (no announcement): the cached answer stands...
    await AuthSession.update({AuthSession.revoked_at: AuthSession.created_at}).where(AuthSession.id == sid)
    assert await node.session_state(sid) is not None
    # ...until a revocation is announced, from any node sharing the Redis.
    other = revocation.Revocations(redis_client)
    await other.revoked([sid])
    assert await node.session_state(sid) is None


async def test_suspension_signals_every_session_of_the_user(client, signal):
    from tests.support.accounts import make_admin

    root = await signed_in(client, "root")
    await make_admin("root")
    bob = await signed_in(client, "bob")
    phone = (await login(client, "bob")).json()
    bob_sids = {await _session_id(client, bob["headers"])}
    bob_sids.add(await _session_id(client, {"Authorization": f"Bearer {phone['access_token']}"}))
    res = await client.post(f"/api/v1/admin/users/{bob['id']}/suspend", json={}, headers=root["headers"])
    assert res.status_code == 200
    assert set(await signal.wait()) == bob_sids
