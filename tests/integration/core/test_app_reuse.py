"""One app object served twice with ``renew_runtime`` between (what the suite does test after test) starts
the second time as a new app would: nothing the first lifespan learned is still believed."""

from __future__ import annotations

import pytest

from tests.support.accounts import bearer, login, register, signed_in
from tests.support.asgi import in_process_client


async def test_a_renewed_app_forgets_what_its_last_runtime_knew(app, redis_client, clean_db):
    from server import db
    from server.app import renew_runtime

    async with in_process_client(app) as first:
        alice = await signed_in(first, "alice")
        assert (await first.get("/api/v1/auth/me", headers=alice["headers"])).status_code == 200
        with pytest.raises(RuntimeError):
            renew_runtime(app)  # not while its lifespan runs
        old = app.state.access_tokens

    # What the suite does between tests: empty the database and Redis, then a new runtime.
    await db.engine().run_ddl('TRUNCATE "users" RESTART IDENTITY CASCADE')
    await redis_client.flushdb()
    renew_runtime(app)
    assert app.state.access_tokens is not old

    async with in_process_client(app) as second:
        # The first lifespan's verified-token cache would have let this token in: its session is gone.
        res = await second.get("/api/v1/auth/me", headers=alice["headers"])
        assert res.status_code == 401, res.text
        assert res.headers["content-type"].startswith("application/problem+json")
        # The name is free again, and the new account signs in on the renewed app.
        assert (await register(second, "alice")).status_code == 201
        tokens = (await login(second, "alice")).json()
        assert (await second.get("/api/v1/auth/me", headers=bearer(tokens))).json()["username"] == "alice"
