"""Email verification and password reset through real mail: a local SMTP server, or .eml files."""

from __future__ import annotations

import pytest

from models.accounts import MailOutbox
from tests.support.accounts import PASSWORD, app_with, login, register, signed_in
from tests.support.smtp import SMTPServer, body_of, token_in

NEW_PASSWORD = "a brand new passphrase 9"


@pytest.fixture
def smtp():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def app(clean_db, redis_client, smtp, settings):
    """The app, sending its mail to the local SMTP server."""
    return app_with(settings, **{"mail.smtp_url": smtp.url})


async def test_registration_mails_a_verification_token_that_works_once(client, smtp):
    alice = await signed_in(client)
    mail = await smtp.next_mail()
    assert mail["To"] == "alice@example.com" and "Confirm" in mail["Subject"]
    token = token_in(mail)
    me = await client.get("/api/v1/auth/me", headers=alice["headers"])
    assert me.json()["email_verified"] is False

    assert (await client.post("/api/v1/auth/verify-email", json={"token": token})).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=alice["headers"])).json()["email_verified"] is True
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 422 and again.json()["code"] == "validation_error"
    # Verified already: asking for another mail is a conflict.
    more = await client.post("/api/v1/auth/verify-email/request", headers=alice["headers"])
    assert more.status_code == 409


async def test_a_new_verification_mail_replaces_the_old_token(client, smtp):
    alice = await signed_in(client)
    first = token_in(await smtp.next_mail())
    assert (await client.post("/api/v1/auth/verify-email/request", headers=alice["headers"])).status_code == 202
    second = token_in(await smtp.next_mail())
    assert first != second
    assert (await client.post("/api/v1/auth/verify-email", json={"token": first})).status_code == 422
    assert (await client.post("/api/v1/auth/verify-email", json={"token": second})).status_code == 204
    assert (await client.post("/api/v1/auth/verify-email/request")).status_code == 401


async def test_password_reset_by_mail_signs_out_everywhere_and_the_token_works_once(client, smtp):
    alice = await signed_in(client)
    await smtp.next_mail()  # the verification mail
    res = await client.post("/api/v1/auth/password-reset/request", json={"email": "ALICE@example.com"})
    assert res.status_code == 202
    mail = await smtp.next_mail()
    assert mail["To"] == "alice@example.com" and "Reset" in mail["Subject"]
    token = token_in(mail)

    # A password the rules refuse does not spend the token.
    weak = await client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": "password123"})
    assert weak.status_code == 422
    ok = await client.post("/api/v1/auth/password-reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert ok.status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=alice["headers"])).status_code == 401
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": alice["refresh_token"]})
    assert refresh.status_code == 401
    assert (await login(client, password=PASSWORD)).status_code == 401
    fresh = await login(client, password=NEW_PASSWORD)
    assert fresh.status_code == 200

    twice = await client.post(
        "/api/v1/auth/password-reset", json={"token": token, "new_password": "yet another passphrase 3"}
    )
    assert twice.status_code == 422 and twice.json()["code"] == "validation_error"
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_password_reset_never_reveals_whether_an_address_exists(client, smtp):
    await register(client)
    await smtp.next_mail()
    known = await client.post("/api/v1/auth/password-reset/request", json={"email": "alice@example.com"})
    unknown = await client.post("/api/v1/auth/password-reset/request", json={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert await MailOutbox.count().where(MailOutbox.to_address == "nobody@example.com") == 0
    assert "Reset" in (await smtp.next_mail())["Subject"]


async def test_bad_reset_and_verification_input_is_4xx(client, smtp):
    for path, body in (
        ("/api/v1/auth/password-reset", {"token": "made-up", "new_password": NEW_PASSWORD}),
        ("/api/v1/auth/password-reset", {"token": "made-up"}),
        ("/api/v1/auth/password-reset", {"token": 5, "new_password": NEW_PASSWORD}),
        ("/api/v1/auth/verify-email", {"token": "made-up"}),
        ("/api/v1/auth/verify-email", {"token": ""}),
        ("/api/v1/auth/password-reset/request", {"email": "not-an-email"}),
        ("/api/v1/auth/password-reset/request", {"email": "a@example.com", "more": 1}),
    ):
        res = await client.post(path, json=body)
        assert res.status_code == 422, (path, body)
        assert res.json()["code"] == "validation_error"


async def test_without_smtp_mail_lands_in_data_dir_as_eml_files(settings, database, clean_db, redis_client):
    """The developer default: each mail is an .eml file under DATA_DIR/mail, token included."""
    from email import message_from_bytes

    from server.mail import Mailer
    from tests.support.asgi import running

    assert settings.mail.smtp_url is None
    import httpx

    app = app_with(settings)
    async with (
        running(app) as asgi,
        httpx.AsyncClient(transport=httpx.ASGITransport(asgi), base_url="http://testserver") as client,
    ):
        assert (await register(client, "frank")).status_code == 201
        # Deliver now instead of waiting for the worker (rows are claimed with SKIP LOCKED: no double send).
        await Mailer(settings).deliver_pending()
    files = sorted((settings.data_dir / "mail").glob("*.eml"))
    mails = [message_from_bytes(path.read_bytes()) for path in files]
    mine = [m for m in mails if m["To"] == "frank@example.com"]
    assert len(mine) == 1 and "Confirm" in mine[0]["Subject"]
    assert token_in(mine[0]) in body_of(mine[0])
    assert all(path.stat().st_mode & 0o077 == 0 for path in files)


async def test_mail_that_fails_to_send_stays_queued_and_is_retried(settings, database, clean_db, smtp):
    """SMTP down: the row keeps its error and is sent on a later round, once."""
    from server.mail import Mailer, enqueue
    from tests.support.smtp import free_port

    down = msgspec_replace_mail(settings, f"smtp://127.0.0.1:{free_port()}")
    await enqueue("grace@example.com", "Hello", "body text")
    assert await Mailer(down).deliver_pending() == 0
    row = await MailOutbox.select().where(MailOutbox.to_address == "grace@example.com").first()
    assert row["sent_at"] is None and row["attempts"] == 1 and row["last_error"]

    assert await Mailer(msgspec_replace_mail(settings, smtp.url)).deliver_pending() == 1
    mail = await smtp.next_mail()
    assert mail["To"] == "grace@example.com" and body_of(mail).strip() == "body text"
    row = await MailOutbox.select().where(MailOutbox.to_address == "grace@example.com").first()
    assert row["sent_at"] is not None and row["attempts"] == 2
    assert await Mailer(msgspec_replace_mail(settings, smtp.url)).deliver_pending() == 0


def msgspec_replace_mail(settings, url):
    from tests.support.settings import derive

    return derive(settings, **{"mail.smtp_url": url})
