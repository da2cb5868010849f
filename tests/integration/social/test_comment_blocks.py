"""A post's watchers never get a comment from a user they are in a block relation with (either way)."""

from __future__ import annotations

from tests.integration.realtime.helpers import connect
from tests.integration.social.helpers import signup

API = "/api/v1"


async def next_comment(ws, channel: str) -> dict:
    """The next ``comment.created`` or its ``hidden`` placeholder on ``channel`` (post.stats skipped)."""
    while True:
        frame = await ws.event()
        if frame["channel"] == channel and frame["event"] in ("comment.created", "hidden"):
            return frame


async def comment(actor, post_id: str, text: str) -> None:
    assert (await actor.post(f"{API}/posts/{post_id}/comments", json={"text": text})).status_code == 201


async def test_comment_created_skips_watchers_in_a_block_relation_with_its_author(client):
    alice, bob, carol, dave = [await signup(client, n) for n in ("alice", "bob", "carol", "dave")]
    post = await alice.publish("a post everyone may see")
    channel = f"post:{post['id']}"
    assert (await dave.post(f"{API}/users/bob/block")).status_code in (200, 204)  # before dave watches
    async with connect(client, carol.token) as carol_ws, connect(client, dave.token) as dave_ws:
        for ws in (carol_ws, dave_ws):
            assert (await ws.subscribe(channel))["type"] == "subscribed"
        # carol blocks bob while watching: she still watches alice's post, without bob's comments.
        assert (await carol.post(f"{API}/users/bob/block")).status_code in (200, 204)
        await comment(bob, post["id"], "bob here")
        await comment(alice, post["id"], "alice here")
        for ws in (carol_ws, dave_ws):
            hidden, shown = await next_comment(ws, channel), await next_comment(ws, channel)
            assert hidden["event"] == "hidden" and hidden["data"] == {}
            assert shown["event"] == "comment.created" and shown["data"]["text"] == "alice here"

        assert (await carol.delete(f"{API}/users/bob/block")).status_code in (200, 204)
        await comment(bob, post["id"], "bob again")
        back = await next_comment(carol_ws, channel)
        assert back["event"] == "comment.created" and back["data"]["text"] == "bob again"
        assert (await next_comment(dave_ws, channel))["event"] == "hidden"  # dave still blocks bob

    # The comments endpoint agrees.
    texts = [c["text"] for c in (await carol.get(f"{API}/posts/{post['id']}/comments")).json()["items"]]
    assert "bob again" in texts
    texts = [c["text"] for c in (await dave.get(f"{API}/posts/{post['id']}/comments")).json()["items"]]
    assert not any(t.startswith("bob") for t in texts)
