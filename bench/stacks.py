"""The stacks under test: how to start each one, where its sockets connect, how to publish to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.venvs import PEERS

#: Everything served by uvicorn runs it the same way: uvloop, httptools, the websockets sans-I/O protocol
#: (uvicorn's "auto", which Social Flow's own `serve` gets), compression off, pings off.
UVICORN_FLAGS = [
    "--host",
    "127.0.0.1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--ws",
    "websockets-sansio",
    "--ws-per-message-deflate",
    "false",
    "--ws-ping-interval",
    "0",
    "--no-access-log",
    "--log-level",
    "warning",
]

SERVING = ["uvicorn", "uvloop", "httptools", "websockets"]


@dataclass
class Stack:
    """One stack: a peer app in its own virtualenv, or Social Flow (``peer`` None)."""

    key: str
    label: str
    peer: str | None
    ws_path: str
    publish: dict[str, Any]
    packages: list[str]
    through_redis: bool = True
    app: str = "app:app"
    uvicorn: bool = True
    extra_flags: list[str] = field(default_factory=list)
    scripts: list[list[tuple[str, str]]] = field(default_factory=list)
    #: "python" (a virtualenv from requirements.txt) or "node" (``npm ci`` from package-lock.json).
    runtime: str = "python"

    def argv(self, port: int) -> list[str]:
        """The command line after the interpreter."""
        assert self.peer is not None
        app_dir = str(PEERS / self.peer)
        if self.runtime == "node":
            return [str(Path(app_dir) / self.app)]
        if not self.uvicorn:
            return [str(Path(app_dir) / "app.py")]
        return ["-m", "uvicorn", self.app, "--app-dir", app_dir, "--port", str(port), *UVICORN_FLAGS, *self.extra_flags]


HTTP_PUBLISH = {"kind": "http", "path": "/publish"}

PEER_STACKS = [
    Stack(
        key="ws_ceiling",
        label="websockets broadcast() (ceiling, no Redis)",
        peer="ws_ceiling",
        ws_path="/ws",
        publish={"kind": "ws", "path": "/publish"},
        packages=["websockets", "uvloop"],
        through_redis=False,
        uvicorn=False,
    ),
    Stack(
        key="socketio",
        label="python-socketio + AsyncRedisManager",
        peer="socketio",
        ws_path="/socket.io/?EIO=4&transport=websocket",
        publish=HTTP_PUBLISH,
        packages=["python-socketio", "python-engineio", "redis", *SERVING],
        # engine.io open packet, then connect to the default namespace.
        scripts=[[("expect", '0{"sid"'), ("send", "40"), ("expect", "40{")]],
    ),
    Stack(
        key="node_ws",
        label="Node ws + one ioredis subscriber (Mastodon streaming style)",
        peer="node",
        ws_path="/ws",
        publish=HTTP_PUBLISH,
        packages=["ws", "ioredis"],
        app="ws_app.js",
        runtime="node",
    ),
    Stack(
        key="node_socketio",
        label="Node socket.io 4 + @socket.io/redis-adapter",
        peer="node",
        ws_path="/socket.io/?EIO=4&transport=websocket",
        publish=HTTP_PUBLISH,
        packages=["socket.io", "@socket.io/redis-adapter", "@socket.io/redis-emitter", "ioredis"],
        app="socketio_app.js",
        runtime="node",
        scripts=[[("expect", '0{"sid"'), ("send", "40"), ("expect", "40{")]],
    ),
    Stack(
        key="django_channels",
        label="Django Channels + RedisPubSubChannelLayer",
        peer="django_channels",
        ws_path="/ws",
        publish=HTTP_PUBLISH,
        packages=["channels", "channels-redis", "django", "redis", *SERVING],
        extra_flags=["--lifespan", "off"],
    ),
    Stack(
        key="broadcaster",
        label="broadcaster (Redis) on Starlette",
        peer="broadcaster",
        ws_path="/ws",
        publish=HTTP_PUBLISH,
        packages=["broadcaster", "starlette", "redis", *SERVING],
    ),
    Stack(
        key="litestar_channels",
        label="Litestar ChannelsPlugin + Redis pub/sub",
        peer="litestar",
        ws_path="/ws/bench",
        publish=HTTP_PUBLISH,
        packages=["litestar", "redis", *SERVING],
    ),
]

SOCIAL_FLOW_KEY = "social_flow"
ALL_KEYS = [s.key for s in PEER_STACKS] + [SOCIAL_FLOW_KEY]
