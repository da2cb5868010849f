"""The ASGI entry point for uvicorn workers: ``server.asgi:app``."""

from channels.gateway import Gateway, serve_directly
from server.app import create_app

litestar_app = create_app()


def _gateway() -> Gateway | None:
    return litestar_app.state.realtime.gateway  # type: ignore[no-any-return]  # built by create_app


# The websocket route is also registered in the app (tests, schema); served, it skips the app's stack.
app = serve_directly(litestar_app, "/api/v1/ws", _gateway)
