"""The in-process job worker stops whenever it is asked to, even while it is still starting."""

from __future__ import annotations

import asyncio
import random

from server import jobqueue
from server.notifications.runtime import CONTEXT_KEY


async def test_in_process_workers_stopped_at_random_points_all_end(client, app):
    # A cancellation that landed while procrastinate's worker was starting (waiting for a psycopg_pool
    # connection, whose waits go through asyncio.wait_for) was swallowed on Python 3.11: the worker ran on
    # with its side tasks and the app's lifespan shutdown hung (the teardown flake). Nine workers share the
    # queue's pool so its waits are contended, as the app's own workers contend at startup; stopped at
    # random points 30 times, every one ends. (Cancelling their tasks got stuck within 3 rounds.)
    context = {CONTEXT_KEY: app.state.notifications_runtime, jobqueue.SETTINGS_KEY: app.state.settings}
    rng = random.Random(5)
    kept_running = 0
    for _ in range(30):
        workers = [jobqueue.start_in_process(app.state.job_queue, context) for _ in range(9)]
        await asyncio.sleep(rng.random() * 0.03)
        stops = [asyncio.ensure_future(jobqueue.stop_in_process(w)) for w in workers]
        _, pending = await asyncio.wait(stops, timeout=10)
        kept_running += len(pending)
        if pending:
            break  # the stuck ones would hold the app's shutdown too: stop counting
    assert kept_running == 0
