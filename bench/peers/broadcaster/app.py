"""encode/broadcaster on Starlette with its Redis backend: POST /publish -> Redis -> every /ws socket."""

import contextlib
import os

from broadcaster import Broadcast
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute

broadcast = Broadcast(os.environ["REDIS_URL"])


async def publish(request):
    await broadcast.publish(channel="bench", message=(await request.body()).decode())
    return PlainTextResponse("ok")


async def ws(websocket):
    await websocket.accept()
    async with broadcast.subscribe(channel="bench") as subscriber:
        async for event in subscriber:
            await websocket.send_text(event.message)


@contextlib.asynccontextmanager
async def lifespan(app):
    await broadcast.connect()
    yield
    await broadcast.disconnect()


app = Starlette(routes=[Route("/publish", publish, methods=["POST"]), WebSocketRoute("/ws", ws)], lifespan=lifespan)
