"""Enrolment in a capability: become a creator or an advertiser."""

from __future__ import annotations

from litestar import Controller, Request, post

from server.accounts.capabilities import enroll
from server.accounts.deps import client_info
from server.accounts.schemas import Me, me_view
from server.deps import AuthUser, RevocationsDep
from server.openapi import problems


class EnrollmentController(Controller):
    tags = ["accounts"]

    @post(
        "/creators/enroll",
        status_code=200,
        summary="Become a creator (upload videos, go live, offer tiers)",
        responses=problems(401, 404),
    )
    async def creator(self, current_user: AuthUser, request: Request, revocations: RevocationsDep) -> Me:
        return me_view(await enroll(revocations, current_user.id, "creator", client_info(request)))

    @post(
        "/advertisers/enroll",
        status_code=200,
        summary="Become an advertiser (run ad campaigns)",
        responses=problems(401, 404),
    )
    async def advertiser(self, current_user: AuthUser, request: Request, revocations: RevocationsDep) -> Me:
        return me_view(await enroll(revocations, current_user.id, "advertiser", client_info(request)))
