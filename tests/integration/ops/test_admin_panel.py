"""piccolo-admin at /admin/: Social Flow staff sign in with their account (password, 2FA), plain users get
nothing, tables are read-only, every change is a form that applies the domain's rules and is audited."""

from __future__ import annotations

import pyotp

from models.accounts import AuditEvent, User
from models.social import Report
from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup_via_api

API = "/api/v1"
PASSWORD = "correct horse battery"


def csrf(client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies.get("csrftoken", "")}


async def panel_login(client, username: str, password: str = PASSWORD, **extra: str):
    if not client.cookies.get("csrftoken"):
        await client.get("/admin/")  # the page sets the CSRF cookie the API calls echo
    body = {"username": username, "password": password, **extra}
    return await client.post("/admin/public/login/", json=body, headers=csrf(client))


async def form(client, slug: str, data: dict):
    return await client.post(f"/admin/api/forms/{slug}/", json=data, headers=csrf(client))


async def test_plain_users_get_nothing_and_staff_sign_in_with_their_account(client):
    await signup_via_api(client, "plain")
    await signup_via_api(client, "boss", role="admin")
    page = await client.get("/admin/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    assert (await client.get("/admin/api/tables/")).status_code == 401  # no panel session
    assert (await panel_login(client, "plain")).status_code == 401  # a user, not staff
    assert (await client.get("/admin/api/tables/")).status_code == 401
    no_csrf = await client.post("/admin/public/login/", json={"username": "boss", "password": PASSWORD})
    assert no_csrf.status_code == 403  # piccolo-admin's CSRF protection
    wrong = await panel_login(client, "boss", "nope nope nope")
    assert wrong.status_code == 401

    assert (await panel_login(client, "boss")).status_code == 200
    tables = (await client.get("/admin/api/tables/")).json()
    assert {"users", "posts", "comments", "reports", "audit_events", "payments", "ledger_entries"} <= set(tables)
    assert (await client.get("/admin/api/tables/payments/")).status_code == 200
    forged = await client.post("/admin/api/tables/payments/", json={"amount": 1}, headers=csrf(client))
    assert forged.status_code == 405  # payments are read-only here
    users = (await client.get("/admin/api/tables/users/?__readable=true")).json()["rows"]
    assert {u["username"] for u in users} == {"plain", "boss"}
    assert all(u.get("password_hash") is None and u.get("totp_secret_enc") is None for u in users)  # nulled
    # The panel session is a Social Flow session of its own, and the sign-in is audited.
    events = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.details)
        .where(AuditEvent.action == "login")
        .output(load_json=True)
    )
    assert any(e["details"].get("via") == "admin" for e in events)


async def test_tables_are_read_only_and_forms_apply_rules_and_audit(client):
    boss = await signup_via_api(client, "boss", role="admin")
    carol = await signup_via_api(client, "carol")
    post = await carol.publish("spam spam spam")
    await panel_login(client, "boss")

    edit = await client.patch(f"/admin/api/tables/posts/{post['id']}/", json={"text": "x"}, headers=csrf(client))
    assert edit.status_code == 405
    assert (await client.delete(f"/admin/api/tables/users/{carol.id}/", headers=csrf(client))).status_code == 405

    removed = await form(client, "remove-post", {"id": post["id"], "reason": "spam"})
    assert removed.status_code == 200, removed.text
    assert (await boss.get(f"{API}/posts/{post['id']}")).status_code in (200, 404)
    assert (await carol.get(f"{API}/posts/{post['id']}")).status_code == 404
    restored = await form(client, "restore-post", {"id": post["id"], "reason": "appeal"})
    assert restored.status_code == 200, restored.text
    assert (await carol.get(f"{API}/posts/{post['id']}")).status_code == 200

    async with connect(client, carol.token) as ws:
        res = await form(client, "suspend-user", {"username": "carol", "reason": "spam"})
        assert res.status_code == 200, res.text
        assert await ws.closed() == 4009
    assert (await carol.get(f"{API}/auth/me")).status_code == 401
    res = await form(client, "change-role", {"username": "carol", "role": "moderator"})
    assert res.status_code == 200, res.text
    assert (await User.select(User.role).where(User.username == "carol").first())["role"] == "moderator"

    actions = [
        (r["action"], r["actor"], r["details"].get("change"))
        for r in await AuditEvent.select(AuditEvent.action, AuditEvent.actor, AuditEvent.details)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    ]
    boss_id = int(boss.id)
    assert ("user_suspended", boss_id, None) in actions
    assert ("role_changed", boss_id, None) in actions
    assert ("admin_change", boss_id, "post_restored") in actions
    assert any(a == "post.removed" and actor == boss_id for a, actor, _ in actions)


async def test_comment_and_report_forms_change_only_what_they_name_and_keep_counters(client):
    await signup_via_api(client, "boss", role="admin")
    carol = await signup_via_api(client, "carol")
    dave = await signup_via_api(client, "dave")
    post = await carol.publish("hello")
    made = await dave.post(f"{API}/posts/{post['id']}/comments", json={"text": "rude"})
    assert made.status_code == 201, made.text
    comment = made.json()
    report = await carol.post(
        f"{API}/reports", json={"target_type": "comment", "target_id": comment["id"], "reason": "x"}
    )
    assert report.status_code == 201, report.text
    await panel_login(client, "boss")

    async def comment_count() -> int:
        return (await carol.get(f"{API}/posts/{post['id']}")).json()["comment_count"]

    async def listed() -> list[str]:
        return [c["id"] for c in (await carol.get(f"{API}/posts/{post['id']}/comments")).json()["items"]]

    assert await comment_count() == 1
    assert (await form(client, "remove-comment", {"id": comment["id"]})).status_code == 200
    assert await comment_count() == 0 and await listed() == []
    again = await form(client, "remove-comment", {"id": comment["id"]})
    assert again.status_code == 422 and "no visible comment" in again.json()["custom_form_error"]
    assert await comment_count() == 0  # a second removal moves no counter
    assert (await form(client, "restore-comment", {"id": comment["id"]})).status_code == 200
    assert await comment_count() == 1 and await listed() == [comment["id"]]
    again = await form(client, "restore-comment", {"id": comment["id"]})
    assert again.status_code == 422 and "no removed comment" in again.json()["custom_form_error"]

    closed = await form(client, "close-report", {"id": report.json()["id"], "outcome": "dismissed"})
    assert closed.status_code == 200, closed.text
    row = await Report.select(Report.status, Report.resolved_by, Report.resolved_at).first()
    boss_id = (await User.select(User.id).where(User.username == "boss").first())["id"]
    assert row["status"] == "dismissed" and row["resolved_by"] == boss_id and row["resolved_at"] is not None
    again = await form(client, "close-report", {"id": report.json()["id"], "outcome": "resolved"})
    assert again.status_code == 422 and "no open report" in again.json()["custom_form_error"]
    assert (await Report.select(Report.status).first())["status"] == "dismissed"


async def test_moderators_moderate_but_only_admins_change_roles(client):
    await signup_via_api(client, "mod", role="moderator")
    await signup_via_api(client, "dave")
    await panel_login(client, "mod")
    res = await form(client, "change-role", {"username": "dave", "role": "admin"})
    assert res.status_code == 422 and "only admins" in res.json()["custom_form_error"]
    assert (await User.select(User.role).where(User.username == "dave").first())["role"] == "user"


async def test_two_factor_is_asked_for_and_losing_staff_or_session_ends_panel_access(client):
    from server import security
    from tests.support.settings import of

    boss = await signup_via_api(client, "boss", role="admin")
    secret = pyotp.random_base32()
    await User.update(
        {
            User.totp_secret_enc: security.encrypt_secret(secret, of(client).security.secret_key),
            User.totp_enabled: True,
        }
    ).where(User.username == "boss")
    need = await panel_login(client, "boss")
    assert need.status_code == 401 and "MFA" in need.json()["detail"]
    assert (await panel_login(client, "boss", mfa_code="000000")).status_code == 401
    assert (await panel_login(client, "boss", mfa_code=pyotp.TOTP(secret).now())).status_code == 200
    assert (await client.get("/admin/api/tables/")).status_code == 200

    # Signing the panel's Social Flow session out (here: every session) ends panel access at once.
    sessions = (await boss.get(f"{API}/auth/sessions/")).json()["items"]
    panel = [s for s in sessions if s["user_agent"] == "Social Flow admin panel"]
    assert len(panel) == 1
    assert (await boss.delete(f"{API}/auth/sessions/{panel[0]['id']}")).status_code == 204
    assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_a_demoted_admin_loses_the_panel(client):
    await signup_via_api(client, "boss", role="admin")
    await panel_login(client, "boss")
    assert (await client.get("/admin/api/tables/")).status_code == 200
    await User.update({User.role: "user"}).where(User.username == "boss")
    assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_moderators_review_ad_campaigns_in_the_panel(client):
    from tests.integration.ads.helpers import advertiser, create

    adv = await advertiser(client, "acme")
    await signup_via_api(client, "mod", role="moderator")
    campaign = await create(adv)
    assert campaign["status"] == "in_review"
    await panel_login(client, "mod")
    assert (await client.get("/admin/api/tables/ad_campaigns/")).status_code == 200
    res = await form(client, "review-campaign", {"id": campaign["id"], "decision": "approve"})
    assert res.status_code == 200, res.text
    assert (await adv.get(f"{API}/ads/campaigns/{campaign['id']}")).json()["status"] == "active"
    again = await form(client, "review-campaign", {"id": campaign["id"], "decision": "reject", "reason": "late"})
    assert again.status_code == 422 and "not in review" in again.json()["custom_form_error"]
    changes = (
        await AuditEvent.select(AuditEvent.details).where(AuditEvent.action == "admin_change").output(load_json=True)
    )
    assert [c["details"]["change"] for c in changes] == ["campaign_approve"]


async def test_the_panel_session_cookie_is_secure_when_the_public_url_is_https(client, settings):
    """Behind https (``PUBLIC_URL``) the panel's session cookie carries ``Secure``; plain-http development
    (every other test here) gets it without, or a browser on http could not sign in. (piccolo-api's CSRF
    cookie is never ``Secure``: it is a double-submit token, checked with the Referer on https.)"""
    from tests.support.apps import app_for
    from tests.support.asgi import in_process_client
    from tests.support.settings import derive

    def session_cookies(response) -> list[str]:
        return [c.lower() for c in response.headers.get_list("set-cookie") if c.startswith("id=")]

    await signup_via_api(client, "boss", role="admin")
    async with in_process_client(app_for(derive(settings, public_url="https://social.example"))) as https:
        login = await panel_login(https, "boss")
        assert login.status_code == 200, login.text
        assert session_cookies(login) and all("; secure" in c for c in session_cookies(login))

    login = await panel_login(client, "boss")
    assert login.status_code == 200, login.text
    assert session_cookies(login) and not any("; secure" in c for c in session_cookies(login))
