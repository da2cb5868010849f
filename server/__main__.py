"""The command line: ``python -m server serve|migrate|worker|create-admin``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import msgspec

from server.settings import Settings, from_env


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _with_database(settings: Settings, run: Callable[[Settings], int]) -> int:
    """Run ``run`` with settings that name a database: the given one, or an embedded PostgreSQL we start and stop."""
    from server.embedded import EmbeddedPostgres

    # uvicorn re-raises the SIGTERM it handled once it has shut down; with the default handler the process
    # would die there without running the ``finally`` below, leaving the embedded PostgreSQL behind.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    embedded = None
    if not settings.database.url:
        embedded = EmbeddedPostgres(settings.data_dir)
        url = embedded.start()
        # uvicorn's worker processes read their own settings from the environment (server.asgi).
        os.environ["DATABASE_URL"] = url
        settings = settings.replace(database=msgspec.structs.replace(settings.database, url=url))
    try:
        return run(settings)
    finally:
        if embedded is not None:
            embedded.stop()


def _migrate(settings: Settings) -> int:
    from server import db

    asyncio.run(db.migrate(settings.database))
    return 0


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    return _with_database(settings, _migrate)


def _multiprocess_metrics(data_dir: Path) -> None:
    """Workers write metric values to one fresh directory and ``/metrics`` sums them (prometheus-client's
    multiprocess mode). It must be set before any worker imports prometheus_client."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    folder = data_dir / f"prometheus-{os.getpid()}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


# OWASP's password storage cheat sheet: argon2id with at least 19 MiB, 2 passes and one lane (or an
# equivalent trade of memory for passes); below it, say so at start, once.
OWASP_MIN_ARGON2 = (2, 19 * 1024)


def _warn_weak_password_hashing(settings: Settings) -> None:
    cost = settings.security.password_hashing
    passes, memory_kib = OWASP_MIN_ARGON2
    if cost.time_cost < passes or cost.memory_kib < memory_kib:
        logging.getLogger("server").warning(
            "PASSWORD_HASH_COST %s,%s,%s is below OWASP's argon2id minimum (%s passes, %s KiB): fit for tests only",
            cost.time_cost,
            cost.memory_kib,
            cost.parallelism,
            passes,
            memory_kib,
        )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from server.logging import configure

    configure()
    workers = args.workers or settings.http.workers
    if workers > 1 and not settings.redis.url:
        print(
            "WORKERS > 1 requires REDIS_URL: processes share fan-out, presence and limits through Redis.",
            file=sys.stderr,
        )
        return 2

    if workers > 1:
        _multiprocess_metrics(settings.data_dir)
    _warn_weak_password_hashing(settings)

    def serve(settings: Settings) -> int:
        _migrate(settings)
        uvicorn.run(
            "server.asgi:app",
            host=settings.http.host,
            port=settings.http.port,
            workers=workers,
            log_config=None,
            # Proxy headers only from FORWARDED_ALLOW_IPS: uvicorn's default trusts loopback, so anything
            # local could pick its own client IP (and dodge per-IP limits) with X-Forwarded-For.
            proxy_headers=bool(settings.http.forwarded_allow_ips),
            forwarded_allow_ips=list(settings.http.forwarded_allow_ips),
            ws_max_size=64 * 1024,
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            ws_per_message_deflate=False,
            ws=os.environ.get("UVICORN_WS", "channels.wire:GatewayProtocol"),
            timeout_graceful_shutdown=10,
            timeout_keep_alive=settings.http.keepalive_seconds,
        )
        return 0

    return _with_database(settings, serve)


def cmd_worker(_: argparse.Namespace, settings: Settings) -> int:
    """Run the notification job worker in this process (for ``NOTIFY_WORKER=off`` servers)."""
    from server.logging import configure

    configure()

    async def work(settings: Settings) -> None:
        from server import jobqueue
        from server.runtime import Runtime

        runtime = Runtime(settings)  # the app's objects, through the app's factory
        async with runtime.working():
            await jobqueue.run_worker(runtime.queue, runtime.job_context(), wait=True, signals=True)

    def run(settings: Settings) -> int:
        _migrate(settings)
        try:
            asyncio.run(work(settings))
        except KeyboardInterrupt:
            pass
        return 0

    return _with_database(settings, run)


def cmd_video_worker(_: argparse.Namespace, settings: Settings) -> int:
    """Run the video processing worker in this process (for ``VIDEO_WORKER=off`` servers)."""
    from server.logging import configure

    configure()

    async def work(settings: Settings) -> None:
        from server.runtime import Runtime
        from server.video import jobs

        runtime = Runtime(settings)  # the app's objects, through the app's factory
        async with runtime.working():
            await jobs.run_worker(runtime.queue, runtime.video, wait=True, signals=True)

    def run(settings: Settings) -> int:
        _migrate(settings)
        try:
            asyncio.run(work(settings))
        except KeyboardInterrupt:
            pass
        return 0

    return _with_database(settings, run)


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from server.accounts.admin_cli import create_admin
    from server.errors import DomainError

    def run(settings: Settings) -> int:
        _migrate(settings)
        try:
            return asyncio.run(create_admin(settings, args.username, args.email, args.password))
        except DomainError as exc:
            print(f"create-admin: {exc.detail}", file=sys.stderr)
            return 1

    return _with_database(settings, run)


def cmd_seed(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from server.social.seed import seed

    def run(settings: Settings) -> int:
        _migrate(settings)
        started = time.time()
        counts = asyncio.run(
            seed(
                str(settings.database.url),
                users=args.users,
                posts=args.posts,
                likes=args.likes,
                comments=args.comments,
                celebrity_followers=args.celebrity_followers,
                follows_per_user=args.follows_per_user,
                reset=args.reset,
            )
        )
        print(f"seeded {counts} in {time.time() - started:.1f}s (password of every user: 'seed password 1')")
        return 0

    return _with_database(settings, run)


def cmd_ledger_check(_: argparse.Namespace, settings: Settings) -> int:
    from server.payments.cli import ledger_check

    def run(settings: Settings) -> int:
        _migrate(settings)  # also points the engine at settings.database (server.db.bind)
        return asyncio.run(ledger_check())

    return _with_database(settings, run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server", description="Social Flow server")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="apply migrations and serve HTTP + websockets")
    serve.add_argument("--workers", type=int, default=0)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("worker", help="run the notification delivery worker").set_defaults(func=cmd_worker)
    sub.add_parser("video-worker", help="run the video processing worker").set_defaults(func=cmd_video_worker)
    admin = sub.add_parser("create-admin", help="create the first admin (password from $ADMIN_PASSWORD or a prompt)")
    admin.add_argument("username")
    admin.add_argument("email")
    admin.add_argument("--password", default=None)
    admin.set_defaults(func=cmd_create_admin)
    seed = sub.add_parser("seed", help="load a realistic data set (COPY) for demos and benchmarks")
    seed.add_argument("--users", type=int, default=120_000)
    seed.add_argument("--posts", type=int, default=1_000_000)
    seed.add_argument("--likes", type=int, default=2_000_000)
    seed.add_argument("--comments", type=int, default=200_000)
    seed.add_argument("--celebrity-followers", type=int, default=100_000)
    seed.add_argument("--follows-per-user", type=int, default=20)
    seed.add_argument("--reset", action="store_true", help="wipe users and social tables first")
    seed.set_defaults(func=cmd_seed)
    sub.add_parser("ledger-check", help="check that every ledger transaction balances").set_defaults(
        func=cmd_ledger_check
    )
    args = parser.parse_args(argv)
    # The one place the command line reads its configuration; every command receives these settings.
    return int(args.func(args, from_env()) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
