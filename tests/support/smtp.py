"""A real local SMTP server (aiosmtpd) that collects what it receives, for mail tests."""

from __future__ import annotations

import asyncio
import email
import queue
import re
import socket
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Collect:
    def __init__(self, inbox: queue.Queue[Message]) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.put(email.message_from_bytes(envelope.content))
        return "250 OK"


class SMTPServer:
    """Runs in its own thread; ``await next_mail()`` returns the next message received."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.port = free_port()
        self.controller = Controller(_Collect(self.inbox), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def next_mail(self, timeout: float = 30) -> Message:
        return await asyncio.to_thread(self.inbox.get, True, timeout)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def token_in(message: Message) -> str:
    """The token a mail carries (the line after the endpoint instructions)."""
    match = re.search(r"#token=([A-Za-z0-9_-]+)", body_of(message))
    assert match, body_of(message)
    return match.group(1)
