"""Creator and platform analytics on edge inputs: never a 500 (schemathesis found one)."""

from __future__ import annotations

from typing import Any

from tests.integration.payments.helpers import creator
from tests.integration.social.helpers import signup
from tests.support.stripe.server import StripeStandin


async def test_analytics_edge_inputs_answer_200_or_a_problem(client: Any, stripe: StripeStandin) -> None:
    alice = await creator(client, stripe, "alice")
    fresh = await signup(client, "fresh")
    assert (await fresh.post("/api/v1/creators/enroll")).status_code == 200  # a creator with no Connect account
    admin = await signup(client, "root", role="admin")
    params = [
        "",
        "?currency=usd",
        "?currency=USD",
        "?currency=xyz",
        "?currency=usd%0A",
        "?currency=%00%00%00",
        "?currency=a%00b",
        "?currency=%C3%A9%C3%A9%C3%A9",
        "?currency=" + "u" * 300,
        "?currency=",
        "?currency=usd&currency=eur",
        "?currency[]=usd",
    ]
    for user, path in [
        (alice, "/api/v1/creators/me/analytics"),
        (fresh, "/api/v1/creators/me/analytics"),
        (admin, "/api/v1/admin/payments/analytics"),
    ]:
        for q in params:
            res = await user.get(path + q)
            assert res.status_code in (200, 422), (path, q, res.status_code, res.text)
            if res.status_code == 422:
                assert res.headers["content-type"].startswith("application/problem+json")
