from tests.integration.social.helpers import users


async def test_follow_post_home(client):
    alice, bob = await users(client, "alice", "bob")
    res = await bob.follow(alice)
    assert res["state"] == "following"
    post = await alice.publish("hello #World @bob")
    assert post["hashtags"] == ["world"] and post["mentions"][0]["username"] == "bob"
    home = await bob.feed("/api/v1/feeds/home")
    assert [p["id"] for p in home] == [post["id"]]
    prof = (await bob.get("/api/v1/users/alice")).json()
    assert prof["followers_count"] == 1 and prof["relationship"]["following"] is True
