"""The ASGI entry point for uvicorn workers: ``server.asgi:app``."""

from litestar._openapi.plugin import OpenAPIPlugin

from channels.gateway import Gateway, serve_directly
from server import gcpolicy
from server.app import create_app
from server.realtime.deps import gateway_of
from server.settings import from_env

# Each uvicorn worker is its own process: this module is its entry, so it reads the settings here, once.
litestar_app = create_app(from_env())


def _gateway() -> Gateway | None:
    return gateway_of(litestar_app)


def _build_openapi() -> None:
    """Build the OpenAPI document now, so that it is frozen with the rest of start-up (server.gcpolicy).

    Litestar builds it on the first ``/schema`` read and keeps it; building it also imports polyfactory and
    faker (for examples). Built after the freeze, that was ~20k objects and ~160k references in the oldest
    collected generation, walked by every later full collection for nothing.
    """
    litestar_app.plugins.get(OpenAPIPlugin).provide_openapi_schema()


# The websocket route is also registered in the app (tests, schema); served, it skips the app's stack.
# Start-up's objects are frozen out of the collector once the lifespan has built them (server.gcpolicy),
# the OpenAPI document with them.
app = gcpolicy.after_startup(serve_directly(litestar_app, "/api/v1/ws", _gateway), _build_openapi)
