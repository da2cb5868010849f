"""The ASGI entry point for uvicorn workers: ``server.asgi:app``."""

from channels.gateway import expose_raw_send
from server.app import create_app

# The websocket gateway writes event frames with uvicorn's send, past Litestar's per-message wrappers.
app = expose_raw_send(create_app())
