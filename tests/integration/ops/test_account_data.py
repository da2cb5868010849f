"""Account export (a zip of JSON plus media behind a signed 24 h link) and deletion with a 30-day grace."""

from __future__ import annotations

import io
import json
import time
import zipfile
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup_via_api, users

API = "/api/v1"
PASSWORD = "correct horse battery"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


async def test_export_builds_a_zip_reports_progress_and_notifies_with_a_signed_link(client):
    alice, bob = await users(client, "alice", "bob")
    await alice.publish("my first post #export")
    bob_post = await bob.publish("bob speaks")
    await alice.post(f"{API}/posts/{bob_post['id']}/comments", json={"text": "hi bob"})
    await alice.follow(bob)
    avatar = await alice.put(f"{API}/users/me/avatar", files={"data": ("me.png", _png(), "image/png")})
    assert avatar.status_code == 200, avatar.text
    async with connect(client, alice.token) as ws:
        assert (await ws.subscribe(f"user:{alice.id}"))["type"] == "subscribed"
        res = await alice.post(f"{API}/users/me/export")
        assert res.status_code == 202, res.text
        job = res.json()
        assert job["status"] == "pending" and job["download_url"] is None
        again = await alice.post(f"{API}/users/me/export")  # a second click joins the open export
        assert again.status_code == 202 and again.json()["id"] == job["id"]

        percents, notification = [], None
        while notification is None:
            frame = await ws.event()
            if frame["event"] == "export.progress":
                percents.append(frame["data"]["percent"])
            elif frame["event"] == "notification.created":
                notification = frame["data"]
    assert percents == sorted(percents) and percents[-1] == 100 and len(percents) > 3
    assert notification["type"] == "data_export_ready"
    link = notification["extra"]["download_url"]
    assert (await bob.get(f"{API}/users/me/export/{job['id']}")).status_code == 404  # not bob's
    status = (await alice.get(f"{API}/users/me/export/{job['id']}")).json()
    assert status["status"] == "ready" and status["progress"] == 100 and status["download_url"] == link

    parts = urlsplit(link)
    query = parse_qs(parts.query)
    assert "token" not in query and set(query) == {"expires", "session", "signature"}
    res = await client.get(f"{parts.path}?{parts.query}")  # no Authorization: the signature is the key
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    assert res.headers["cache-control"] == "no-store"
    zf = zipfile.ZipFile(io.BytesIO(res.content))
    names = set(zf.namelist())
    assert {"profile.json", "posts.json", "comments.json", "following.json", "README.txt"} <= names
    profile = json.loads(zf.read("profile.json"))
    assert profile["username"] == "alice" and "password_hash" not in profile and "totp_secret_enc" not in profile
    assert [p["text"] for p in json.loads(zf.read("posts.json"))] == ["my first post #export"]
    assert [c["text"] for c in json.loads(zf.read("comments.json"))] == ["hi bob"]
    assert [f["username"] for f in json.loads(zf.read("following.json"))] == ["bob"]
    media = [n for n in names if n.startswith("media/avatars/")]
    assert len(media) == 1 and zf.read(media[0])[:4] in (b"\x89PNG", b"RIFF", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")

    expires, session, sig = query["expires"][0], query["session"][0], query["signature"][0]
    forged = sig[:-1] + ("0" if sig[-1] != "0" else "1")
    bad = await client.get(f"{parts.path}?expires={expires}&session={session}&signature={forged}")
    assert bad.status_code == 404
    longer = await client.get(f"{parts.path}?expires={int(expires) + 3600}&session={session}&signature={sig}")
    assert longer.status_code == 404  # extending the expiry breaks the signature
    expired_sig = await client.get(f"{parts.path}?expires=1000&session={session}&signature={sig}")
    assert expired_sig.status_code == 404
    for other in ("0", str(int(session) + 1), str(1 << 63), "-1"):  # another session breaks it, never a 500
        moved = await client.get(f"{parts.path}?expires={expires}&session={other}&signature={sig}")
        assert moved.status_code == 404 and moved.json()["code"] == "not_found", other
    unbound = await client.get(f"{parts.path}?expires={expires}&signature={sig}")  # the old link format
    assert unbound.status_code == 404


async def _ready_export(client, actor) -> tuple[str, str]:
    """``(export id, download link)`` of a finished export requested by ``actor``'s session."""
    async with connect(client, actor.token) as ws:
        assert (await ws.subscribe(f"user:{actor.id}"))["type"] == "subscribed"
        res = await actor.post(f"{API}/users/me/export")
        assert res.status_code == 202, res.text
        while True:
            frame = await ws.event()
            if frame["event"] == "notification.created" and frame["data"]["type"] == "data_export_ready":
                return res.json()["id"], frame["data"]["extra"]["download_url"]


async def _fetch(client, link: str):
    parts = urlsplit(link)
    return await client.get(f"{parts.path}?{parts.query}")  # no Authorization: the link alone


async def _login(client, password: str = PASSWORD) -> dict:
    res = await client.post(f"{API}/auth/login", json={"login": "alice", "password": password})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def _gone(res) -> bool:
    return (
        res.status_code == 404
        and res.headers["content-type"].startswith("application/problem+json")
        and res.json()["code"] == "not_found"
    )


async def test_an_export_link_dies_with_its_session_its_password_and_its_account(client):
    """A download link is not a credential that outlives a sign-out, a password change or a deletion request:
    before, any of them left it working for its full 24 h."""
    alice = await signup_via_api(client, "alice")
    export_id, link_a = await _ready_export(client, alice)  # bound to session A (alice.token)
    b, c = await _login(client), await _login(client)
    link_b = (await client.get(f"{API}/users/me/export/{export_id}", headers=b)).json()["download_url"]
    link_c = (await client.get(f"{API}/users/me/export/{export_id}", headers=c)).json()["download_url"]
    assert len({link_a, link_b, link_c}) == 3  # one link per session
    for link in (link_a, link_b, link_c):
        assert (await _fetch(client, link)).status_code == 200

    assert (await client.post(f"{API}/auth/logout", headers=b)).status_code == 204
    assert _gone(await _fetch(client, link_b))  # signed out: that session's link is void
    assert (await _fetch(client, link_a)).status_code == 200  # the others are not

    new_password = "a different horse battery staple"
    res = await alice.post(f"{API}/auth/password", json={"current_password": PASSWORD, "new_password": new_password})
    assert res.status_code == 204, res.text
    assert _gone(await _fetch(client, link_a))  # the session that changed it: the password is not the same
    assert _gone(await _fetch(client, link_c))  # signed out by the change
    fresh = (await alice.get(f"{API}/users/me/export/{export_id}")).json()["download_url"]
    assert (await _fetch(client, fresh)).status_code == 200  # asking again gives a working link

    res = await client.request("DELETE", f"{API}/users/me", json={"password": new_password}, headers=alice.headers)
    assert res.status_code == 202, res.text
    assert _gone(await _fetch(client, fresh))


async def test_export_needs_a_signed_in_user(client):
    assert (await client.post(f"{API}/users/me/export")).status_code == 401


async def test_delete_account_needs_the_password_then_ends_sessions_and_sockets_at_once(client):
    alice = await signup_via_api(client, "alice")
    wrong = await client.request("DELETE", f"{API}/users/me", json={"password": "not it at all"}, headers=alice.headers)
    assert wrong.status_code == 401 and wrong.json()["code"] == "unauthorized"
    assert (await client.request("DELETE", f"{API}/users/me", json={})).status_code == 401  # no token
    async with connect(client, alice.token) as ws:
        res = await client.request("DELETE", f"{API}/users/me", json={"password": PASSWORD}, headers=alice.headers)
        assert res.status_code == 202, res.text
        body = res.json()
        assert body["status"] == "scheduled" and body["purge_after"] > body["requested_at"]
        assert await ws.closed() == 4009
    assert (await alice.get(f"{API}/auth/me")).status_code == 401
    assert (await client.get(f"{API}/users/alice")).status_code == 404  # suspended: gone from view

    # Logging in within the grace period cancels the deletion.
    back = await client.post(f"{API}/auth/login", json={"login": "alice", "password": PASSWORD})
    assert back.status_code == 200, back.text
    headers = {"Authorization": f"Bearer {back.json()['access_token']}"}
    assert (await client.get(f"{API}/auth/me", headers=headers)).status_code == 200
    assert (await client.get(f"{API}/users/alice")).status_code == 200


async def test_a_moderators_suspension_is_not_lifted_by_logging_in(client):
    alice = await signup_via_api(client, "alice")
    from models.accounts import User

    await User.update({User.suspended_at: User.created_at}).where(User.username == "alice")
    res = await client.post(f"{API}/auth/login", json={"login": "alice", "password": PASSWORD})
    assert res.status_code == 403
    assert alice  # the account still exists, still suspended


async def test_purge_after_the_grace_period_deletes_and_anonymizes(client):
    from models.account_data import AccountDeletion
    from server.account_data.deletion import purge_due
    from tests.support.settings import of

    alice = await signup_via_api(client, "alice")
    (bob,) = await users(client, "bob")
    await alice.follow(bob)
    await bob.follow(alice)
    own = await alice.publish("alice's own post")
    bob_post = await bob.publish("bob's post")
    await alice.post(f"{API}/posts/{bob_post['id']}/like")
    comment = await alice.post(f"{API}/posts/{bob_post['id']}/comments", json={"text": "a reply others read"})
    assert comment.status_code == 201
    res = await client.request("DELETE", f"{API}/users/me", json={"password": PASSWORD}, headers=alice.headers)
    assert res.status_code == 202

    assert await purge_due(of(client)) == 0  # still inside the 30 days
    await AccountDeletion.update({AccountDeletion.purge_after: AccountDeletion.requested_at}).where(
        AccountDeletion.user == int(alice.id)
    )
    assert await purge_due(of(client)) == 1

    assert (await client.post(f"{API}/auth/login", json={"login": "alice", "password": PASSWORD})).status_code == 401
    assert (await bob.get(f"{API}/posts/{own['id']}")).status_code == 404
    bob_view = (await bob.get(f"{API}/posts/{bob_post['id']}")).json()
    assert bob_view["like_count"] == 0 and bob_view["comment_count"] == 1
    comments = (await bob.get(f"{API}/posts/{bob_post['id']}/comments")).json()["items"]
    assert [(c["text"], c["author"]["username"]) for c in comments] == [("a reply others read", "deleted")]
    profile = (await bob.get(f"{API}/users/bob")).json()
    assert profile["followers_count"] == 0 and profile["following_count"] == 0
    # The username is free again.
    again = await client.post(
        f"{API}/auth/register", json={"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    )
    assert again.status_code == 201


async def test_malformed_export_links_are_404_and_refusals_from_one_ip_are_rate_limited(
    clean_db, redis_client, settings
):
    """The download route is unauthenticated: a link we could never have made (a signature that is not 64 hex
    digits, an expiry past the 24 h links get) is the same 404 as a forged one, and refused links from one IP end
    in 429 ``rate_limited`` (before, anyone could ask without end, each answer after a database lookup)."""
    from server.settings import Limit
    from tests.support.accounts import app_with
    from tests.support.asgi import in_process_client

    app = app_with(settings, **{"rate_limits.export_download_ip": Limit(6, 600)})
    async with in_process_client(app) as client:
        far = int(time.time()) + 30 * 86400  # within the signature's shape, past any link we give
        malformed = [
            f"{API}/exports/1/download?expires={far}&session=1&signature={'a' * 64}",
            f"{API}/exports/1/download?expires={int(time.time()) + 600}&session=1&signature=zz",
            f"{API}/exports/1/download?expires={int(time.time()) + 600}&session=1&signature={'A' * 64}",
            f"{API}/exports/1/download?expires={int(time.time()) + 600}&session=1&signature={'a' * 300}",
            f"{API}/exports/x/download?expires={int(time.time()) + 600}&session=1&signature={'a' * 64}",
            f"{API}/exports/1/download?expires={int(time.time()) + 600}&session=1&signature={'a' * 64}",  # no such
        ]
        for url in malformed:
            assert _gone(await client.get(url)), url
        limited = await client.get(malformed[-1])
        assert limited.status_code == 429, limited.text
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert limited.json()["code"] == "rate_limited" and 1 <= int(limited.headers["retry-after"]) <= 600
