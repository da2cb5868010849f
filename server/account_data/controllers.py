"""``/users/me/export``, ``DELETE /users/me`` and the signed export download."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter
from litestar.response import File

from server.account_data import deletion, export
from server.account_data.schemas import DeletionRequest, DeletionView, ExportView
from server.accounts.deps import client_info
from server.deps import AuthUser, LimiterDep, RevocationsDep
from server.errors import NotFound
from server.openapi import problems
from server.params import parse_id
from server.settings import Settings


class AccountDataController(Controller):
    path = "/users/me"
    tags = ["account data"]

    @post(
        "/export",
        status_code=202,
        summary="Export everything the caller stored (a zip of JSON plus media, built by a job)",
        description="Progress arrives as `export.progress {id, percent}` on `user:{id}`; the end as a "
        "`data_export_ready` notification whose `extra.download_url` is valid 24 h, and only while the "
        "session that asked stays signed in and the password is unchanged.",
        responses=problems(401),
    )
    async def request_export(self, current_user: AuthUser, settings: NamedDependency[Settings]) -> ExportView:
        return await export.request_export(current_user.id, current_user.session_id, settings)

    @get(
        "/export/{export_id:str}",
        summary="One of the caller's exports",
        description="Once ready, `download_url` is a fresh link for the caller's own session.",
        responses=problems(401, 404),
    )
    async def get_export(
        self,
        export_id: Annotated[str, Parameter(description="The export's id")],
        current_user: AuthUser,
        settings: NamedDependency[Settings],
    ) -> ExportView:
        eid = parse_id(export_id, "no such export")
        return await export.get_export(current_user.id, current_user.session_id, eid, settings)

    @delete(
        "/",
        status_code=202,
        summary="Delete the caller's account: suspended and signed out now, purged after 30 days",
        description="Logging in again within the 30 days cancels the deletion.",
        responses=problems(401, 422, 429),
    )
    async def delete_account(
        self,
        data: JSONBody[DeletionRequest],
        current_user: AuthUser,
        settings: NamedDependency[Settings],
        request: Request,
        limiter: LimiterDep,
        revocations: RevocationsDep,
    ) -> DeletionView:
        client = client_info(request)
        return await deletion.request_deletion(current_user.id, data.password, client, limiter, settings, revocations)


class ExportDownloadController(Controller):
    path = "/exports"
    tags = ["account data"]

    @get(
        "/{export_id:str}/download",
        summary="Download an export through its signed link (valid 24 h, voided by a sign-out or password change)",
        responses=problems(404, 422, 429),
        media_type="application/zip",
    )
    async def download(
        self,
        export_id: Annotated[str, Parameter(description="The export's id")],
        expires: Annotated[int, Parameter(description="Link expiry, Unix seconds")],
        signature: Annotated[str, Parameter(description="HMAC of the link (64 hex digits)")],
        settings: NamedDependency[Settings],
        request: Request,
        limiter: LimiterDep,
        session: Annotated[int, Parameter(description="The session the link was issued to (an id, not a token)")] = 0,
    ) -> File:
        # Unauthenticated: refused links count per IP (a full window refuses every link, good ones too), so the
        # route cannot be used to guess signatures or to make the database answer without end.
        key, limit = f"export-download:ip:{client_info(request).ip}", settings.rate_limits.export_download_ip
        await limiter.check(key, limit)
        try:
            eid = parse_id(export_id, "no such export")
            path, name = await export.open_download(eid, expires, session, signature, settings)
        except NotFound:
            await limiter.record(key, limit)
            raise
        # no-store: the zip is the account's whole data, for no cache (a CDN, a shared browser) to keep.
        return File(path=path, filename=name, media_type="application/zip", headers={"Cache-Control": "no-store"})
