"""Enrolling as a creator or advertiser: roles, capabilities, and how moderators and admins keep theirs."""

from __future__ import annotations

from tests.support.accounts import make_admin, signed_in


async def _me(client, who):
    return (await client.get("/api/v1/auth/me", headers=who["headers"])).json()


async def test_a_user_becomes_creator_then_also_advertiser_and_role_keeps_the_first(client):
    alice = await signed_in(client, "alice")
    assert (await _me(client, alice))["capabilities"] == []

    res = await client.post("/api/v1/creators/enroll", headers=alice["headers"])
    assert res.status_code == 200, res.text
    assert res.json()["role"] == "creator"
    assert res.json()["capabilities"] == ["creator"]
    assert res.json()["username"] == "alice"

    res = await client.post("/api/v1/advertisers/enroll", headers=alice["headers"])
    assert res.status_code == 200, res.text
    me = await _me(client, alice)
    assert me["role"] == "creator"
    assert me["capabilities"] == ["creator", "advertiser"]

    # Enrolling again changes nothing.
    again = await client.post("/api/v1/creators/enroll", headers=alice["headers"])
    assert again.status_code == 200
    assert (await _me(client, alice))["capabilities"] == ["creator", "advertiser"]


async def test_an_advertiser_first_keeps_advertiser_as_role(client):
    bob = await signed_in(client, "bob")
    await client.post("/api/v1/advertisers/enroll", headers=bob["headers"])
    await client.post("/api/v1/creators/enroll", headers=bob["headers"])
    me = await _me(client, bob)
    assert (me["role"], me["capabilities"]) == ("advertiser", ["advertiser", "creator"])


async def test_moderators_and_admins_keep_their_role(client):
    root = await signed_in(client, "root")
    await make_admin("root")
    mod = await signed_in(client, "mod")
    await client.put(f"/api/v1/admin/users/{mod['id']}/role", json={"role": "moderator"}, headers=root["headers"])

    for who, role in ((root, "admin"), (mod, "moderator")):
        res = await client.post("/api/v1/creators/enroll", headers=who["headers"])
        assert res.status_code == 200, res.text
        me = await _me(client, who)
        assert (me["role"], me["capabilities"]) == (role, ["creator"])


async def test_enrolment_needs_a_token_and_is_audited(client):
    assert (await client.post("/api/v1/creators/enroll")).status_code == 401
    res = await client.post("/api/v1/advertisers/enroll", headers={"Authorization": "Bearer nope"})
    assert res.status_code == 401
    assert res.headers["content-type"].startswith("application/problem+json")

    root = await signed_in(client, "root")
    await make_admin("root")
    carol = await signed_in(client, "carol")
    await client.post("/api/v1/creators/enroll", headers=carol["headers"])
    log = (await client.get("/api/v1/admin/audit?action=capability_enrolled", headers=root["headers"])).json()
    assert [(e["user_id"], e["details"]["capability"]) for e in log["items"]] == [(carol["id"], "creator")]


async def test_an_admin_made_creator_has_the_capability(client):
    root = await signed_in(client, "root")
    await make_admin("root")
    dave = await signed_in(client, "dave")
    res = await client.put(f"/api/v1/admin/users/{dave['id']}/role", json={"role": "creator"}, headers=root["headers"])
    assert res.status_code == 200, res.text
    assert (await _me(client, dave))["capabilities"] == ["creator"]
