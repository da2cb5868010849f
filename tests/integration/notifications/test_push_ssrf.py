"""Finding 4: Web Push endpoints are not an SSRF path (registration and send time, DNS rebinding)."""

from __future__ import annotations

from server import events
from tests.integration.notifications.helpers import drain, fire, member, subscription, user


async def _try(client, headers, endpoint):
    sub, _, _ = subscription("https://x.example", "k")
    sub["endpoint"] = endpoint
    return await client.post("/api/v1/push-tokens", json={"platform": "webpush", "token": sub}, headers=headers)


async def test_local_and_private_endpoints_are_refused_at_registration(client, push_env):
    _, h = await user(client, "alice")
    for endpoint in (
        "https://127.0.0.1/wp/1",
        "https://10.1.2.3/wp/1",
        "https://192.168.0.10/wp/1",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/wp/1",
        "https://[fd00::1]/wp/1",
        "https://0.0.0.0/wp/1",
        "https://localhost/wp/1",
        "https://api.localhost/wp/1",
        "https://printer.local/wp/1",
        "https://metadata.google.internal/wp/1",
        "https://intranet/wp/1",
        "https://push.example.net:8443/wp/1",
        "https://push.example.net:22/wp/1",
        "https://2130706433/wp/1",  # 127.0.0.1 as one decimal number
        "https://0x7f.1/wp/1",
    ):
        res = await _try(client, h, endpoint)
        assert res.status_code == 422, (endpoint, res.text)
        assert res.json()["code"] == "validation_error"
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/abc123",
        "https://updates.push.services.mozilla.com/wpush/v2/abc",
        "https://push.example.net:443/wp/1",
        "https://8.8.8.8/wp/1",
        "https://unresolvable-host.invalid-tld-for-tests.example/wp/1",  # no DNS here is no reason to refuse
    ):
        res = await _try(client, h, endpoint)
        assert res.status_code == 201, (endpoint, res.text)


async def test_a_name_resolving_to_loopback_at_send_time_is_never_contacted(app, client, push_env):
    # A registration made before these checks (or a public name later rebound to a private address):
    # at send time the resolved address is checked, so the local service is never contacted.
    http = push_env.http
    alice, h = await user(client, "alice")
    bob = await member("bob")
    sub, _, _ = subscription(http.base.replace("127.0.0.1", "localhost"), "rebound")
    from models.notifications import PushToken
    from server.security import token_hash

    await PushToken.insert(
        PushToken(
            user=int(alice), platform="webpush", token=sub["endpoint"], token_hash=token_hash("x"), keys=sub["keys"]
        )
    )
    await fire(
        client, events.PostPublished(actor_id=int(bob), post_id=77, visibility="public", mentioned_ids=(int(alice),))
    )
    await drain(app)
    assert http.requests == []
    # The allow-listed stand-in itself still works (how tests reach a local push service).
    ok, _, _ = subscription(http.base, "allowed")
    assert (await _try(client, h, ok["endpoint"])).status_code == 201
