"""Impression reports and click redirects of served ads."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.response import Redirect

from server.ads import schemas
from server.ads.services import TrackingService
from server.deps import AuthUser
from server.openapi import problems

Token = Annotated[str, PathParameter(max_length=512, description="the signed click token of a served ad")]


class TrackingController(Controller):
    path = "/ads"
    tags = ["ads"]

    @post(
        "/impressions",
        status_code=204,
        summary="Report a viewable impression (>= 50 % visible for >= 1 s)",
        responses=problems(400, 401, 422),
    )
    async def impression(
        self,
        data: JSONBody[schemas.ImpressionReport],
        current_user: AuthUser,
        ad_tracking: NamedDependency[TrackingService],
    ) -> None:
        await ad_tracking.impression(current_user.id, data.token)

    @get(
        "/click/{token:str}",
        summary="Follow a served ad's link (302 to the advertiser's page)",
        responses=problems(400, 404),
        status_code=302,
    )
    async def click(self, token: Token, ad_tracking: NamedDependency[TrackingService]) -> Response[None]:
        url = await ad_tracking.click(token)
        return Redirect(url, status_code=302, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
