"""The ASGI entry point for uvicorn workers: ``server.asgi:app``."""

from channels.gateway import Gateway, serve_directly
from server import gcpolicy
from server.app import create_app
from server.realtime.deps import gateway_of
from server.settings import from_env

# Each uvicorn worker is its own process: this module is its entry, so it reads the settings here, once.
litestar_app = create_app(from_env())


def _gateway() -> Gateway | None:
    return gateway_of(litestar_app)


# The websocket route is also registered in the app (tests, schema); served, it skips the app's stack.
# Start-up's objects are frozen out of the collector once the lifespan has built them (server.gcpolicy).
app = gcpolicy.after_startup(serve_directly(litestar_app, "/api/v1/ws", _gateway))
