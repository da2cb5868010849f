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
    ACTORS,
    ALLOWED,
    DENIED,
    EXEMPT,
    HIDDEN,
    MATRIX,
    OK,
    PENDING,
    REFUSED,
    Case,
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


def test_every_object_route_has_a_matrix_entry():
    import os

    from server.app import create_app
    from server.settings import get_settings

    os.environ.setdefault("SECRET_KEY", "route-table-only")
    get_settings.cache_clear()
    routes = route_table(create_app())
    missing = sorted(routes - MATRIX.keys() - EXEMPT.keys() - PENDING.keys())
    assert missing == [], f"add these routes to tests/integration/security/bola_matrix.py: {missing}"
    stale = sorted((MATRIX.keys() | EXEMPT.keys() | PENDING.keys()) - routes)
    assert stale == [], f"matrix entries for routes that no longer exist: {stale}"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG")
    return out.getvalue()


class World:
    """olivia owns the objects; sam is a stranger, bart is blocked by olivia, fran follows olivia."""

    async def build(self, client: Any, target: str) -> None:
        self.client = client
        self.owner = await signup(client, "olivia")
        self.stranger = await signup(client, "sam")
        self.blocked = await signup(client, "bart")
        self.follower = await signup(client, "fran")
        await self.follower.follow(self.owner)
        assert (await self.owner.post(f"{API}/users/bart/block")).status_code in (200, 204)
        self.id = await self._object(target)

    async def _object(self, target: str) -> str:
        o = self.owner
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
            from server.accounts.services import AccountService, ClientInfo
            from server.settings import get_settings
            from server.social import sql

            row = await sql.fetchrow("SELECT * FROM users WHERE id = $1", int(o.id))
            issued = await AccountService(get_settings()).open_session(dict(row), ClientInfo(ip="127.0.0.1"))
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

    async def _payments(self, target: str) -> str:
        """Rows as Stripe's webhooks would have left them (no Stripe call is needed to check access)."""
        from models.ids import new_id
        from server.social import sql

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
async def app(clean_db, redis_client, monkeypatch):
    """Payments on, pointed at a Stripe that is not there: access checks need no Stripe call."""
    from server.app import create_app
    from server.settings import get_settings

    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_bola")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_bola")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")
    get_settings.cache_clear()
    return create_app()


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_bola_matrix(client, route):
    case: Case = MATRIX[route]
    world = World()
    await world.build(client, case.target)
    method, template = route.split(" ", 1)
    path = re.sub(r"\{\w+\}", world.id, template)
    wrong = {}
    for actor_name in ACTORS:
        actor: Actor = getattr(world, actor_name)
        kwargs: dict[str, Any] = {"headers": actor.headers}
        if case.body is not None:
            kwargs["json"] = case.body
        if case.query:
            kwargs["params"] = case.query
        res = await client.request(method, path, **kwargs)
        if (res.status_code >= 500 and res.status_code != 503) or not _matches(
            case.expect(actor_name), res.status_code
        ):
            wrong[actor_name] = (case.expect(actor_name), res.status_code, res.text[:200])
    assert wrong == {}, f"{route} on {case.target}: {wrong}"
