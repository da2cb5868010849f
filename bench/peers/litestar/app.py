"""Litestar's ChannelsPlugin with RedisChannelsPubSubBackend: POST /publish -> Redis -> every /ws/bench socket."""

import os

from litestar import Litestar, Request, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis

channels = ChannelsPlugin(
    backend=RedisChannelsPubSubBackend(redis=Redis.from_url(os.environ["REDIS_URL"])),
    channels=["bench"],
    create_ws_route_handlers=True,
    ws_handler_base_path="/ws",
)


@post("/publish", status_code=200)
async def publish(request: Request) -> str:
    channels.publish(await request.body(), "bench")
    return "ok"


app = Litestar([publish], plugins=[channels])
