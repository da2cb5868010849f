"""Ads never take a feed down: with Redis unreachable the public feed answers without ads, and the home feed
(its timeline lives in Redis) answers 503 ``unavailable`` with Retry-After, which clients retry; never a 500."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from server.settings import RedisSettings
from tests.integration.ads.helpers import WEB, advertiser, live, moderator, viewer_with_posts
from tests.support.apps import app_for
from tests.support.asgi import in_process_client
from tests.support.settings import derive
from tests.support.tcp_proxy import CuttableProxy


async def test_feeds_answer_without_ads_while_redis_is_unreachable(clean_db: None, settings: Any) -> None:
    redis = urlsplit(settings.redis.url)
    async with CuttableProxy(redis.hostname or "127.0.0.1", redis.port).running() as proxy:
        via_proxy = redis._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        app = app_for(derive(settings, redis=RedisSettings(url=via_proxy)))
        async with in_process_client(app) as client:
            adv = await advertiser(client, "acme")
            await live(adv, await moderator(client), bid_cpm=2_000)
            reader = await viewer_with_posts(client, "reader", posts=10)
            for _ in range(50):  # the snapshot reloads after the approval
                page = await client.get("/api/v1/feeds/public", headers={**reader.headers, **WEB})
                if page.json()["ads"]:
                    break
            assert page.status_code == 200 and page.json()["ads"], page.text

            proxy.cut()
            page = await client.get("/api/v1/feeds/public", headers={**reader.headers, **WEB})
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) == 10 and page.json()["ads"] == []
            page = await client.get("/api/v1/feeds/home", headers={**reader.headers, **WEB})
            assert page.status_code == 503, page.text
            assert page.json()["code"] == "unavailable" and page.headers["retry-after"] == "2"

            proxy.restore()
            page = await client.get("/api/v1/feeds/home", headers={**reader.headers, **WEB})
            assert page.status_code == 200, page.text
            assert len(page.json()["items"]) == 10 and page.json()["ads"]
