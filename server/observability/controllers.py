"""``GET /metrics``: Prometheus text format behind ``METRICS_TOKEN`` (unset = 404)."""

from __future__ import annotations

import hmac
import os

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from server.errors import NotFound, Unauthorized
from server.observability.deps import dependencies
from server.observability.sampler import Sampler
from server.settings import Settings


def _registry() -> CollectorRegistry:
    """This process's registry, or (``WORKERS`` > 1) every worker's values read from the shared directory."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False
    dependencies = dependencies

    @get("/")
    async def metrics(
        self, request: Request, settings: NamedDependency[Settings], metrics_sampler: NamedDependency[Sampler | None]
    ) -> Response[bytes]:
        token = settings.observability.metrics_token
        if token is None:
            raise NotFound("metrics are off (set METRICS_TOKEN)")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise Unauthorized("a valid metrics bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        if metrics_sampler is not None:
            await metrics_sampler.sample()  # this process's figures are fresh at scrape time
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)
