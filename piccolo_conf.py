"""Piccolo configuration: one engine, from ``DATABASE_URL``.

The CLI (``python -m server``) starts an embedded PostgreSQL and sets ``DATABASE_URL`` before this
module is imported, so every process (uvicorn workers included) reads the same variable.
"""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(
    config={"dsn": os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/socialflow"},
    # Pool sizes are applied when the app starts its pool (server.db).
    log_queries=False,
)

APP_REGISTRY = AppRegistry(apps=["models.piccolo_app"])
