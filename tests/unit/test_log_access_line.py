"""uvicorn's access lines take ``JSONFormatter``'s short path and read exactly as the structlog chain writes them."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from server import logging as app_logging


@pytest.fixture
def formatters() -> Iterator[tuple[logging.Formatter, logging.Formatter]]:
    """The app's formatter and structlog's own ProcessorFormatter with the same chain; logging is put back after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    app_logging.configure()
    fast = root.handlers[0].formatter
    assert isinstance(fast, app_logging.JSONFormatter)
    chain = structlog.stdlib.ProcessorFormatter(foreign_pre_chain=fast.foreign_pre_chain, processors=fast.processors)
    yield fast, chain
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()


def _record(name: str, exc: bool = False) -> logging.LogRecord:
    args = ("127.0.0.1:5000", "GET", "/api/v1/feeds/home?limit=20&q=é", "1.1", 200)
    info = None
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            import sys

            info = sys.exc_info()
    return logging.LogRecord(name, logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, info)


def _without_time(line: str) -> tuple[list[str], dict[str, object]]:
    event = json.loads(line)
    assert event.pop("timestamp").endswith("Z")
    return list(event), event


def test_an_access_line_reads_as_the_chain_writes_it(formatters: tuple[logging.Formatter, logging.Formatter]) -> None:
    fast, chain = formatters
    structlog.contextvars.bind_contextvars(request_id="r1234567", token="not-for-logs")
    record = _record(app_logging.ACCESS_LOGGER)
    got, want = fast.format(record), chain.format(record)
    assert _without_time(got) == _without_time(want)
    event = json.loads(got)
    assert event["request_id"] == "r1234567" and event["token"] == "[redacted]"
    assert event["event"] == '127.0.0.1:5000 - "GET /api/v1/feeds/home?limit=20&q=é HTTP/1.1" 200'
    assert (event["level"], event["logger"]) == ("info", "uvicorn.access")


def test_other_lines_and_failures_still_take_the_chain(
    formatters: tuple[logging.Formatter, logging.Formatter],
) -> None:
    fast, chain = formatters
    for record in (_record("uvicorn.error"), _record(app_logging.ACCESS_LOGGER, exc=True)):
        got, want = fast.format(record), chain.format(record)
        assert _without_time(got) == _without_time(want)


def test_the_access_logger_writes_the_same_line_to_the_handler(
    formatters: tuple[logging.Formatter, logging.Formatter],
) -> None:
    """uvicorn's ``access_logger.info`` call: the direct write and the ``logging`` path give the same line."""
    import io

    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    logger = logging.getLogger(app_logging.ACCESS_LOGGER)
    assert isinstance(logger, app_logging.AccessLogger)
    structlog.contextvars.bind_contextvars(request_id="r1234567")
    args = ("127.0.0.1:5000", "GET", "/healthz", "1.1", 200)
    direct, routed = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    others = root.handlers[1:]  # pytest's own capture handlers: the app's handler alone takes the direct write
    root.handlers[:] = [handler]
    try:
        handler.setStream(direct)
        logger.info('%s - "%s %s HTTP/%s" %d', *args)
        handler.setStream(routed)
        seen: list[logging.LogRecord] = []
        handler.addFilter(lambda record: seen.append(record) or True)  # a filter sends the line through logging
        logger.info('%s - "%s %s HTTP/%s" %d', *args)
        handler.filters.clear()
    finally:
        root.handlers[1:] = others
    assert len(seen) == 1
    (one,), (two,) = direct.getvalue().splitlines(), routed.getvalue().splitlines()
    assert _without_time(one) == _without_time(two)
    event = json.loads(one)
    assert event["event"] == '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200' and event["request_id"] == "r1234567"
