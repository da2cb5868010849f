"""An in-process job worker that crashed on a database error starts again and runs what was queued meanwhile."""

from __future__ import annotations

import asyncio

from server import db, jobqueue
from server.notifications.runtime import CONTEXT_KEY
from tests.support.accounts import app_with, signed_in
from tests.support.asgi import in_process_client

FETCH = "procrastinate_fetch_job_v2(character varying[], bigint)"


async def _until(predicate, what: str, seconds: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.1)


async def test_a_crashed_worker_restarts_and_the_export_queued_meanwhile_is_built(clean_db, redis_client, settings):
    # The app runs no worker of its own (NOTIFY_WORKER=off), so the one this test starts is the only one.
    app = app_with(settings, **{"push.worker": "off"})
    async with in_process_client(app) as client:
        alice = await signed_in(client, "alice")
        context = {CONTEXT_KEY: app.state.notifications_runtime, jobqueue.SETTINGS_KEY: app.state.settings}
        # The queue's fetch fails, as it does while the database restarts or when the fetch is a deadlock's victim.
        await db.engine().run_ddl(f"ALTER FUNCTION {FETCH} RENAME TO procrastinate_fetch_job_v2_away")
        worker = jobqueue.start_in_process(app.state.job_queue, context)
        try:
            res = await client.post("/api/v1/users/me/export", headers=alice["headers"])
            assert res.status_code == 202, res.text
            export_id = res.json()["id"]

            async def crashed() -> bool:
                return worker.crashes >= 1

            await _until(crashed, "the worker's fetch never failed")
            await db.engine().run_ddl(
                "ALTER FUNCTION procrastinate_fetch_job_v2_away(character varying[], bigint)"
                " RENAME TO procrastinate_fetch_job_v2"
            )

            async def ready() -> bool:
                res = await client.get(f"/api/v1/users/me/export/{export_id}", headers=alice["headers"])
                assert res.status_code == 200, res.text
                return res.json()["status"] == "ready"

            await _until(ready, "the export was never built: the crashed worker did not come back")
            assert worker.restarts >= 1
        finally:
            await db.engine().run_ddl(
                "DO $$ BEGIN ALTER FUNCTION procrastinate_fetch_job_v2_away(character varying[], bigint)"
                " RENAME TO procrastinate_fetch_job_v2; EXCEPTION WHEN undefined_function THEN NULL; END $$"
            )
            await jobqueue.stop_in_process(worker)
