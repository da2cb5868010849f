"""BOLA matrix generated from the route table: stranger, blocked, follower and owner on every object route.

The expectations live in ``bola_matrix.py`` (with how to add a route). A route with a path parameter that
is neither in the matrix nor exempt fails ``test_every_object_route_has_a_matrix_entry``.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from tests.integration.notifications.helpers import subscription
from tests.integration.security.bola_matrix import (
    ALLOWED,
    DENIED,
    EXEMPT,
    HIDDEN,
    MATRIX,
    OK,
    REFUSED,
    TARGETS,
    Case,
    cases,
    size,
)
from tests.integration.social.helpers import Actor, signup

pytestmark = pytest.mark.suite  # `make suites` (in .ci/run), not `make test`

API = "/api/v1"


def route_table(app: Any) -> set[str]:
    """``"METHOD /path/{param}"`` for every HTTP route with a path parameter."""
    out = set()
    for route in app.routes:
        methods = getattr(route, "methods", None)
        if not methods or "{" not in route.path:
            continue
        path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
        out.update(f"{m} {path}" for m in methods - {"OPTIONS", "HEAD"})
    return out


def test_every_object_route_has_a_matrix_entry(settings):
    # Building the app imports piccolo_conf (whose engine reads DATABASE_URL at import); the apps and the
    # ``database`` fixture point that engine at their settings' database (server.db.bind), so the order no
    # longer matters. ``settings`` is the session's all the same.
    from server.app import create_app

    routes = route_table(create_app(settings))
    missing = sorted(routes - MATRIX.keys() - EXEMPT.keys())
    assert missing == [], f"add these routes to tests/integration/security/bola_matrix.py: {missing}"
    stale = sorted((MATRIX.keys() | EXEMPT.keys()) - routes)
    assert stale == [], f"matrix entries for routes that no longer exist: {stale}"
    unknown = sorted({c.target for entry in MATRIX.values() for c in cases(entry)} - TARGETS.keys())
    assert unknown == [], f"describe these targets in TARGETS: {unknown}"
    print(f"BOLA matrix: {len(MATRIX)} routes, {size()} route x object x caller checks")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


def _rank(case: Case) -> int:
    """Objects whose making changes olivia's account (private, suspended) come last in a route's test."""
    return 2 if case.target.endswith("@suspended") else 1 if case.target.endswith("@private") else 0


class World:
    """olivia owns the objects; sam is a stranger, bart is blocked by olivia, fran follows olivia, and
    suzy (when a case asks) pays for olivia's subscribers-only content without following her."""

    async def build(self, client: Any, app: Any, targets: list[Case]) -> None:
        self.client, self.app = client, app
        self.owner = await signup(client, "olivia")
        self.stranger = await signup(client, "sam")
        self.blocked = await signup(client, "bart")
        self.follower = await signup(client, "fran")
        self.moderator = await signup(client, "mona", role="moderator")
        await self.follower.follow(self.owner)
        assert (await self.owner.post(f"{API}/users/bart/block")).status_code in (200, 204)
        if any(c.target.startswith(("video:", "stream:")) for c in targets):
            assert (await self.owner.post(f"{API}/creators/enroll")).status_code == 200
        if any(c.subscriber is not None for c in targets):
            self.subscriber = await self._subscriber()
        self.params: dict[str, str] = {}

    async def make(self, target: str) -> str:
        """Make the object; ``self.params`` holds the other path values that go with it."""
        self.params = {}
        base, _, account = target.partition("@")
        oid = await self._object(base)
        if account == "private":
            assert (await self.owner.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
        elif account == "suspended":  # by an admin, the way a moderation decision does it (sessions end)
            assert (await self.owner.patch(f"{API}/users/me", json={"is_private": False})).status_code == 200
            admin = await signup(self.client, "adam", role="admin")
            res = await admin.post(f"{API}/admin/users/{self.owner.id}/suspend", json={"reason": "abuse"})
            assert res.status_code == 200, res.text
        return oid

    async def _object(self, target: str) -> str:
        o = self.owner
        if target.startswith("video:"):
            return await self._video(target.split(":")[1])
        if target.startswith("stream:"):
            _, status, visibility = target.split(":")
            return await self._stream(status, visibility)
        if target.startswith("post:"):
            return str((await o.publish(f"a {target} post", target.split(":")[1]))["id"])
        if target == "comment":
            post = await o.publish("for followers", "followers")
            res = await o.post(f"{API}/posts/{post['id']}/comments", json={"text": "mine"})
            assert res.status_code == 201, res.text
            return str(res.json()["id"])
        if target == "user":
            return "olivia"
        if target == "user:private":
            assert (await o.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
            return "olivia"
        if target == "user_id":
            return o.id
        if target == "session":
            from server import sql
            from server.accounts.services import AccountService, ClientInfo
            from tests.support.settings import of

            row = await sql.fetchrow("SELECT * FROM users WHERE id = $1", int(o.id))
            issued = await AccountService(of(o.client)).open_session(dict(row), ClientInfo(ip="127.0.0.1"))
            return str(issued.session_id)
        if target == "push_token":
            sub, _, _ = subscription("https://push.example.net", "olivia")
            res = await o.post(f"{API}/push-tokens", json={"platform": "webpush", "token": sub})
            assert res.status_code == 201, res.text
            return str(res.json()["id"])
        if target == "follow_request":
            assert (await o.patch(f"{API}/users/me", json={"is_private": True})).status_code == 200
            ria = await signup(self.client, "ria")
            assert (await ria.post(f"{API}/users/olivia/follow")).json()["state"] == "requested"
            return "ria"
        if target == "tag":
            await o.publish("#bolatag in public")
            return "bolatag"
        if target == "image:followers":
            up = await o.post(f"{API}/posts/media", files={"data": ("a.png", _png(), "image/png")})
            media = up.json()
            res = await o.post(
                f"{API}/posts", json={"text": "pic", "visibility": "followers", "media_ids": [media["id"]]}
            )
            assert res.status_code == 201, res.text
            return media["url"].split("?")[0].rsplit("/", 1)[-1]
        if target in ("payment", "subscription", "tiers"):
            return await self._payments(target)
        if target == "campaign":
            from tests.integration.ads.helpers import body

            assert (await o.post(f"{API}/advertisers/enroll")).status_code == 200
            res = await o.post(f"{API}/ads/campaigns", json=body())
            assert res.status_code == 201, res.text
            return str(res.json()["id"])
        if target == "export":
            res = await o.post(f"{API}/users/me/export")
            assert res.status_code == 202, res.text
            return str(res.json()["id"])
        raise AssertionError(f"no such target {target!r}: add it to World._object")

    async def _subscriber(self) -> Actor:
        """suzy, with an active subscription to olivia's tier (as ``invoice.paid`` leaves it)."""
        from models.ids import new_id
        from server import sql

        suzy = await signup(self.client, "suzy")
        tier, sid = new_id(), new_id()
        await sql.execute(
            "INSERT INTO subscription_tiers (id, creator, name, description, amount, currency, interval, product_id, "
            "price_id, idem_key, created_at) VALUES ($1, $2, 'fans', '', 500, 'usd', 'month', 'prod_o', $3, $4, now())",
            tier,
            int(self.owner.id),
            f"price_{tier}",
            f"idem_{tier}",
        )
        await sql.execute(
            "INSERT INTO fan_subscriptions (id, subscriber, creator, tier, subscription_id, item_id, status, "
            "cancel_at_period_end, access_until, started_notified, idem_key, created_at) VALUES ($1, $2, $3, $4, $5, "
            "'', 'active', false, now() + interval '30 days', true, $6, now())",
            sid,
            int(suzy.id),
            int(self.owner.id),
            tier,
            f"sub_{sid}",
            f"idem_s_{sid}",
        )
        return suzy

    async def _video(self, kind: str) -> str:
        """A video made through the API; "ready" as processing leaves it (a stored master playlist)."""
        import tempfile
        from pathlib import Path

        from server import sql
        from server.video import signing

        visibility = kind if kind in ("public", "unlisted", "followers", "subscribers", "private") else "public"
        res = await self.owner.post(f"{API}/videos", json={"title": f"a {kind} video", "visibility": visibility})
        assert res.status_code == 201, res.text
        vid = int(res.json()["id"])
        rt = self.app.state["video"]
        if kind == "upload":
            headers = {**self.owner.headers, "Tus-Resumable": "1.0.0", "Upload-Length": "64"}
            res = await self.client.post(f"{API}/uploads/{vid}", headers=headers)
            assert res.status_code == 201, res.text
        if kind not in ("uploading", "upload"):
            await sql.execute(
                "UPDATE videos SET status = 'ready', duration = 10, width = 640, height = 360, "
                'renditions = \'[{"height": 360, "width": 640, "bandwidth": 800000}]\'::jsonb, '
                "moderation = $2, published_at = now() WHERE id = $1",
                vid,
                "pending" if kind == "pending" else "approved",
            )
            with tempfile.TemporaryDirectory() as folder:
                (Path(folder) / "master.m3u8").write_text("#EXTM3U\n#EXT-X-VERSION:3\n")
                await rt.storage.put_dir(str(vid), Path(folder))
        self.params["signed"] = signing.sign_for(rt.secret_key, vid, int(self.owner.id), 600)[0]
        self.params["foreign"] = signing.sign_for(rt.secret_key, vid + 1, int(self.owner.id), 600)[0]
        return str(vid)

    async def _stream(self, status: str, visibility: str) -> str:
        """A stream made through the API, put in ``status`` as the media server's hooks leave it; fran chatted."""
        from models.ids import new_id
        from server import sql

        res = await self.owner.post(f"{API}/live", json={"title": f"a {status} stream", "visibility": visibility})
        assert res.status_code == 201, res.text
        sid = int(res.json()["id"])
        await sql.execute(
            "UPDATE live_streams SET status = $2::text, "
            "started_at = CASE WHEN $2::text = 'idle' THEN NULL ELSE now() END, "
            "ended_at = CASE WHEN $2::text = 'ended' THEN now() END WHERE id = $1",
            sid,
            status,
        )
        mid = new_id()
        await sql.execute(
            "INSERT INTO live_chat_messages (id, stream, author, kind, text, created_at) "
            "VALUES ($1, $2, $3, 'chat', 'hello', now())",
            mid,
            sid,
            int(self.follower.id),
        )
        self.params["message_id"] = str(mid)
        return str(sid)

    async def _payments(self, target: str) -> str:
        """Rows as Stripe's webhooks would have left them (no Stripe call is needed to check access)."""
        from models.ids import new_id
        from server import sql

        o = self.owner
        rita = await signup(self.client, "rita", role="creator")
        if target == "tiers":
            await sql.execute("UPDATE users SET role = 'creator' WHERE id = $1", int(o.id))
            creator = int(o.id)
        else:
            creator = int(rita.id)
        tier = new_id()
        await sql.execute(
            "INSERT INTO subscription_tiers (id, creator, name, description, amount, currency, interval, product_id, "
            "price_id, idem_key, created_at) VALUES ($1, $2, 'gold', '', 500, 'usd', 'month', 'prod_x', $3, $4, now())",
            tier,
            creator,
            f"price_{tier}",
            f"idem_{tier}",
        )
        if target == "tiers":
            return "olivia"
        if target == "payment":
            pid = new_id()
            await sql.execute(
                "INSERT INTO payments (id, kind, payer, recipient, amount, currency, fee, status, intent_id, "
                "client_secret, idem_key, message, refunded, disputed, created_at) VALUES ($1, 'tip', $2, $3, 500, "
                "'usd', 50, 'succeeded', $4, 'secret', $5, '', 0, false, now())",
                pid,
                int(o.id),
                int(rita.id),
                f"pi_{pid}",
                f"idem_{pid}",
            )
            return str(pid)
        sid = new_id()
        await sql.execute(
            "INSERT INTO fan_subscriptions (id, subscriber, creator, tier, subscription_id, item_id, status, "
            "cancel_at_period_end, started_notified, idem_key, created_at) VALUES ($1, $2, $3, $4, $5, '', 'active', "
            "false, false, $6, now())",
            sid,
            int(o.id),
            int(rita.id),
            tier,
            f"sub_{sid}",
            f"idem_s_{sid}",
        )
        return str(sid)


def _matches(outcome: str, status: int) -> bool:
    if outcome == OK:
        return 200 <= status < 300
    if outcome == HIDDEN:
        return status == 404
    if outcome == DENIED:
        return status in (403, 404)
    if outcome == REFUSED:
        return 400 <= status < 500
    if outcome == ALLOWED:
        return status not in (403, 404) and status != 500
    raise AssertionError(outcome)


@pytest.fixture
async def app(clean_db, redis_client, settings):
    """Payments on, pointed at a Stripe that is not there: access checks need no Stripe call."""
    from tests.support.apps import app_for
    from tests.support.settings import derive

    stripe = {"payments.secret_key": "sk_test_bola", "payments.webhook_secret": "whsec_bola"}
    return app_for(derive(settings, **stripe, **{"payments.api_base": "http://127.0.0.1:9"}))


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_bola_matrix(app, client, route):
    """Every caller on every object kind of the route gets what the matrix says (one world per route)."""
    method, template = route.split(" ", 1)
    ordered = sorted(cases(MATRIX[route]), key=_rank)
    world = World()
    await world.build(client, app, ordered)
    wrong = {}
    for case in ordered:
        oid = await world.make(case.target)
        values = {**world.params, **{k: v.format(**world.params) for k, v in case.params.items()}}
        path = re.sub(r"\{(\w+)\}", lambda m, v=values, o=oid: v.get(m.group(1), o), template)
        owner_deleted = False
        for actor_name in case.actors():
            if actor_name == "moderator" and method == "DELETE" and case.moderator == OK and owner_deleted:
                # the owner already deleted it: the moderator deletes a second one made the same way
                oid = await world.make(case.target)
                values = {**world.params, **{k: v.format(**world.params) for k, v in case.params.items()}}
                path = re.sub(r"\{(\w+)\}", lambda m, v=values, o=oid: v.get(m.group(1), o), template)
            actor: Actor = getattr(world, actor_name)
            kwargs: dict[str, Any] = {"headers": {**actor.headers, **case.headers}}
            if case.body is not None:
                kwargs["json"] = case.body
            if case.content is not None:
                kwargs["content"] = case.content
            if case.query:
                kwargs["params"] = case.query
            res = await client.request(method, path, **kwargs)
            if actor_name == "owner":
                owner_deleted = 200 <= res.status_code < 300
            if (res.status_code >= 500 and res.status_code != 503) or not _matches(
                case.expect(actor_name), res.status_code
            ):
                wrong[f"{case.target} {actor_name}"] = (case.expect(actor_name), res.status_code, res.text[:160])
    assert wrong == {}, f"{route}: {wrong}"
