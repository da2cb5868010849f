"""Outgoing mail: queued in ``MailOutbox`` inside the caller's transaction, sent by a worker.

The worker sends over SMTP when ``SMTP_URL`` is set (``aiosmtplib``), otherwise it writes each
message as an ``.eml`` file under ``DATA_DIR/mail/`` that a developer can open. Rows are claimed
with ``FOR UPDATE SKIP LOCKED`` so several nodes never send the same mail twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import structlog

from models.accounts import MailOutbox
from server import db, queries
from server.settings import MailSettings, Settings

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8
_IDLE_SECONDS = 15.0


async def enqueue(to_address: str, subject: str, body: str) -> None:
    """Queue one plain-text mail; call inside the transaction that makes it true."""
    await MailOutbox.insert(MailOutbox(to_address=to_address, subject=subject[:300], body=body))


def build_message(settings: MailSettings, row: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = row["to_address"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = make_msgid(idstring=str(row["id"]), domain="social-flow")
    message.set_content(row["body"])
    return message


class Mailer:
    """Delivers queued mail: now when kicked, and every few seconds for retries."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.mail_dir = settings.data_dir / "mail"
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def kick(self) -> None:
        """Deliver soon (call after the transaction that queued mail committed)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mailer")

    async def stop(self) -> None:
        """Finish the round in progress, then stop (never cancelled mid-transaction: that leaks a connection)."""
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 20)
            except TimeoutError:
                self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _IDLE_SECONDS)
            self._wake.clear()
            if self._stopping:
                return
            try:
                while not self._stopping and await self.deliver_pending() > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail_delivery_failed")

    async def deliver_pending(self, batch: int = 20) -> int:
        """Send up to ``batch`` queued mails; return how many were attempted."""
        async with db.transaction():
            rows = [dict(r) for r in await queries.claim_pending_mail(MAX_ATTEMPTS, batch)]
            failed = 0
            for row in rows:
                try:
                    await self.send(build_message(self.settings.mail, row), row["id"])
                except Exception as exc:
                    failed += 1
                    log.warning("mail_send_failed", mail_id=row["id"], error=type(exc).__name__)
                    await MailOutbox.update(
                        {MailOutbox.attempts: MailOutbox.attempts + 1, MailOutbox.last_error: str(exc)[:500]}
                    ).where(MailOutbox.id == row["id"])
                else:
                    await MailOutbox.update(
                        {MailOutbox.sent_at: datetime.now(UTC), MailOutbox.attempts: MailOutbox.attempts + 1}
                    ).where(MailOutbox.id == row["id"])
                    log.info("mail_sent", mail_id=row["id"], smtp=bool(self.settings.mail.smtp_url))
        # Rows that failed stay queued: end this round so they are retried on the next tick.
        return 0 if failed else len(rows)

    async def send(self, message: EmailMessage, mail_id: int) -> None:
        url = self.settings.mail.smtp_url
        if url:
            await aiosmtplib.send(message, **smtp_options(url))
        else:
            await asyncio.to_thread(self._write_file, message, mail_id)

    def _write_file(self, message: EmailMessage, mail_id: int) -> Path:
        self.mail_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.mail_dir / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{mail_id}.eml"
        # The mail carries single-use tokens: readable by the server's user only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(message.as_bytes())
        return path


def smtp_options(url: str) -> dict[str, Any]:
    """``smtp://user:pass@host:port`` (STARTTLS when offered) or ``smtps://`` (implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    implicit_tls = parts.scheme == "smtps"
    return {
        "hostname": parts.hostname or "localhost",
        "port": parts.port or (465 if implicit_tls else 25),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_tls": implicit_tls,
        "timeout": 15,
    }
