"""One Redis connection that concurrent callers share for short read pipelines, without a pool checkout each.

Redis answers a connection's commands in the order they were sent, so callers that each write their
commands in one piece can share one connection: a queue of (reply count, future) in send order pairs each
caller with its replies, read by one reader task. The home feed sends one such pipeline per request; through
redis-py's ``Pipeline.execute`` (pool checkout and release under the blocking pool's condition, retry
wrapper, metrics hooks, response callbacks) that cost ~20 % of a read's CPU (py-spy, ``bench.feed_cpu``).

Replies are raw (ints, bytes, lists); an error reply comes back as a ``ResponseError`` in its place, and
``execute`` raises the first one. Any other failure (connection lost, a caller cancelled or timed out while
its replies were due) closes the connection and fails every caller still waiting with ``ConnectionError``,
so no reply is ever handed to the wrong caller; the next call opens a new connection. Not for a cluster
(its keys live on several shards) nor for blocking commands or pub/sub.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError

REDIS_ERRORS = (RedisError, OSError, TimeoutError)
"""Redis unreachable, reset or stalled: what a reader that can do without Redis for one request catches."""

log = structlog.get_logger(__name__)


class RedisLane:
    """A shared connection made from ``pool``'s settings (address, database, credentials); not one of its own."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._conn: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._waiting: deque[tuple[int, asyncio.Future[list[Any]]]] = deque()
        self._send = asyncio.Lock()  # the queue's order is the order on the wire
        self._closed = False

    @property
    def pending(self) -> int:
        """Callers whose commands were sent and whose replies have not all come back."""
        return len(self._waiting)

    async def execute(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send ``commands`` (each ``(name, *args)``) in one write; their raw replies, in order."""
        if not commands:
            return []
        return await self._execute(None, commands, len(commands))

    async def execute_packed(self, packed: bytes | list[bytes], count: int) -> list[Any]:
        """Send ``packed``, ``count`` commands already in RESP (``pack``), in one write; their raw replies.

        For a caller whose arguments are mostly the same from call to call (the ads selection's campaign keys
        and arguments): it keeps them as RESP bytes instead of having redis-py encode every argument again.
        """
        return await self._execute(packed, None, count)

    async def _execute(
        self, packed: bytes | list[bytes] | None, commands: list[tuple[Any, ...]] | None, count: int
    ) -> list[Any]:
        done: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        async with self._send:
            conn = self._conn if self._conn is not None else await self._open()
            self._waiting.append((count, done))
            try:
                data = packed if packed is not None else conn.pack_commands(commands)
                await conn.send_packed_command(data, check_health=False)
            except BaseException as exc:
                self._drop(conn, exc)
                raise
        try:
            replies = await done
        except asyncio.CancelledError:
            # Its replies may still come: nothing may read them for the next caller.
            self._drop(conn, asyncio.CancelledError())
            raise
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies

    async def close(self) -> None:
        """Close the connection and stop the reader; a later ``execute`` fails."""
        self._closed = True
        reader = self._reader
        closing = self._drop(self._conn, RedisConnectionError("closed")) if self._conn is not None else None
        for task in (reader, closing):
            if task is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await task

    async def _open(self) -> Any:
        if self._closed:
            raise RedisConnectionError("closed")
        conn = self._pool.make_connection()
        await conn.connect()
        self._conn = conn
        self._reader = asyncio.create_task(self._read(conn), name="redis-lane-reader")
        return conn

    async def _read(self, conn: Any) -> None:
        try:
            while True:
                first = await self._reply(conn)
                if not self._waiting:
                    raise RedisConnectionError("a reply that no command asked for")
                count, done = self._waiting[0]
                replies = [first]
                for _ in range(count - 1):
                    replies.append(await self._reply(conn))
                self._waiting.popleft()
                if not done.done():
                    done.set_result(replies)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if conn is self._conn:
                log.warning("redis_lane_lost", error=type(exc).__name__)
            self._drop(conn, exc)

    @staticmethod
    async def _reply(conn: Any) -> Any:
        try:
            return await conn.read_response()
        except ResponseError as exc:  # an error reply: the connection is still in step
            return exc

    def _drop(self, conn: Any, exc: BaseException) -> asyncio.Task[Any] | None:
        """Forget ``conn`` (if still current), fail whoever waits on it and close it in the background."""
        if conn is not self._conn:
            return None
        self._conn = None
        waiting, self._waiting = self._waiting, deque()
        for _, done in waiting:
            if not done.done():
                done.set_exception(RedisConnectionError(f"redis lane closed: {type(exc).__name__}"))
        reader, self._reader = self._reader, None
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
        task = asyncio.get_running_loop().create_task(conn.disconnect(nowait=True))
        task.add_done_callback(_ignore)
        return task


def bulk(arg: bytes) -> bytes:
    """``arg`` as a RESP bulk string (one argument of a command in ``execute_packed``)."""
    return b"$%d\r\n%b\r\n" % (len(arg), arg)


def _ignore(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failed close of a dropped connection is not worth a warning
