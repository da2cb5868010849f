"""OpenAPI helpers: the documented problem responses of an operation, and the app's schema plugin."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from litestar._openapi.plugin import OpenAPIPlugin
from litestar.openapi import ResponseSpec

from server.errors import Problem

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.openapi.spec import OpenAPI

_DESCRIPTIONS = {
    400: "Bad request (`validation_error`)",
    401: "Not authenticated (`unauthorized`)",
    403: "Not allowed (`forbidden`)",
    402: "Paid content not bought yet (`payment_required`)",
    404: "Not found (`not_found`)",
    409: "Conflict (`conflict`)",
    413: "Body too large (`too_large`)",
    422: "Invalid input (`validation_error`)",
    410: "Gone (`gone`)",
    412: "Precondition failed (`precondition_failed`: tus requests need `Tus-Resumable: 1.0.0`)",
    415: "Unsupported media type",
    460: "Checksum mismatch (`checksum_mismatch`, tus `checksum` extension)",
    429: "Rate limited (`rate_limited`), with `Retry-After`",
    503: "A dependency is down (`unavailable`)",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a handler: each status documented as an RFC 9457 problem."""
    return {
        status: ResponseSpec(
            Problem, description=_DESCRIPTIONS.get(status, "Problem"), media_type="application/problem+json"
        )
        for status in statuses
    }


# Every API operation can answer these whatever its handler documents: malformed or too deeply nested JSON
# (400), a bad or missing bearer token where one is read (401), invalid parameters or body (422), and a
# database or Redis outage (503). Documented once here, so new routes get them without repeating.
DEFAULT_PROBLEMS = (400, 401, 422, 503)


class _DocumentedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, whose schema also has the default problems and the create links."""

    __slots__ = ()

    def _build_openapi(self) -> OpenAPI:
        schema = super()._build_openapi()
        add_default_problems(self.app, schema)
        add_links(schema)
        return schema


def document(app: Litestar) -> None:
    """Give ``app``'s OpenAPI schema the default problem responses and the create links.

    They are added when Litestar builds the schema, on its first read (``/schema/...`` or
    ``app.openapi_schema``), not when the app is built: building the schema costs about as much as
    building the app, and most apps (every test's) never read it. Litestar offers no hook after the
    build and looks its plugin up by exact type, so the plugin it made gets a subclass with the same
    slots as its class instead of being replaced.
    """
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = _DocumentedOpenAPIPlugin


def add_default_problems(
    app: Any, schema: OpenAPI, prefix: str = "/api/v1", statuses: tuple[int, ...] = DEFAULT_PROBLEMS
) -> None:
    """Add the ``statuses`` problem responses to every operation under ``prefix`` that lacks them."""
    from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Reference, Schema

    limited = _rate_limited_operations(app)
    components = schema.components.schemas if schema.components and schema.components.schemas else {}
    problem: Schema | Reference = (
        Reference(ref="#/components/schemas/Problem") if "Problem" in components else Schema(type=None)
    )
    for path, item in (schema.paths or {}).items():
        if not path.startswith(prefix):
            continue
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            extra = (429,) if (path, method.upper()) in limited else ()
            for status in (*statuses, *extra):
                current = responses.get(str(status))
                # Litestar documents its own 400 as application/json; ours is always a problem+json.
                if isinstance(current, OpenAPIResponse) and "application/problem+json" in (current.content or {}):
                    continue
                responses[str(status)] = OpenAPIResponse(
                    description=_DESCRIPTIONS.get(status, "Problem"),
                    content={"application/problem+json": OpenAPIMediaType(schema=problem)},
                )
            operation.responses = responses


def _rate_limited_operations(app: Any) -> set[tuple[str, str]]:
    """``(OpenAPI path, METHOD)`` of the handlers guarded by a per-user write limit (they may answer 429)."""
    out: set[tuple[str, str]] = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            if any(getattr(g, "__name__", "").startswith("write_limit_") for g in handler.resolve_guards()):
                path = re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)
                out.update((path, m) for m in handler.http_methods)
    return out


def add_links(schema: OpenAPI, prefix: str = "/api/v1") -> None:
    """OpenAPI links from each create to what it made: ``POST /x`` (201 with an ``id``) → ``/x/{param}``.

    Clients and generators (schemathesis' stateful phase) follow them: create a post, then read, edit,
    like and delete *that* post rather than random ids.
    """
    from litestar.openapi.spec import Link, Reference

    paths = schema.paths or {}
    for path, item in paths.items():
        create = getattr(item, "post", None)
        if not path.startswith(prefix) or "{" in path or create is None or "201" not in (create.responses or {}):
            continue
        created = create.responses["201"]
        body = (getattr(created, "content", None) or {}).get("application/json")
        if body is None or not isinstance(body.schema, Reference):
            continue  # no object to read an id from (tus creation answers a Location)
        links: dict[str, Any] = {}
        for other, other_item in paths.items():
            m = re.fullmatch(re.escape(path.rstrip("/")) + r"/\{(\w+)\}(/[\w/-]*)?", other)
            if m is None or "{" in (m.group(2) or ""):
                continue
            for method in ("get", "put", "patch", "post", "delete"):
                operation = getattr(other_item, method, None)
                if operation is None or operation.operation_id is None:
                    continue
                links[f"{method.upper()} {other}"] = Link(
                    operation_id=operation.operation_id,
                    parameters={m.group(1): "$response.body#/id"},
                )
        if links:
            created.links = {**(created.links or {}), **links}
