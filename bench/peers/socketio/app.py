"""python-socketio with AsyncRedisManager: POST /publish emits to every client through Redis."""

import json
import os

import socketio

manager = socketio.AsyncRedisManager(os.environ["REDIS_URL"])
# Pings as good as off (one an hour), websocket transport only, like every other stack.
sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=manager,
    ping_interval=3600,
    ping_timeout=3600,
    transports=["websocket"],
    cors_allowed_origins="*",
)


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def publish_app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = await read_body(receive)
    if scope["path"] == "/publish":
        await sio.emit("m", json.loads(body))
        status = 200
    else:
        status = 404
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


app = socketio.ASGIApp(sio, other_asgi_app=publish_app)
