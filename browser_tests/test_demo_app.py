"""Two people in two browsers: one posts, the other's timeline updates without a reload; a cut socket is
restored and nothing is lost; likes, comments and the notification badge update live."""

from __future__ import annotations

import time

import httpx

from browser_tests.conftest import PASSWORD, register

WAIT = 30_000  # ms, an upper bound for the UI to show a change; never a timing assertion


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/app/")
    page.fill("#login-form input[name=login]", username)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#home:not([hidden])", timeout=WAIT)
    page.wait_for_selector("body[data-realtime=open]", timeout=WAIT)


def timeline_texts(page) -> list[str]:
    return page.locator("#timeline .post .text").all_inner_texts()


def post(page, text: str) -> None:
    page.fill("#compose textarea[name=text]", text)
    page.click("#compose button[type=submit]")
    page.wait_for_selector(f"#timeline .post .text:text-is('{text}')", timeout=WAIT)


def test_two_users_live_timeline_socket_cut_and_restored(server, browser, artifacts):
    register(server, "alice")
    register(server, "bob")
    alice_ctx = browser.new_context(viewport={"width": 900, "height": 900})
    bob_ctx = browser.new_context(viewport={"width": 900, "height": 900})
    alice, bob = alice_ctx.new_page(), bob_ctx.new_page()
    sign_in(alice, server, "alice")
    sign_in(bob, server, "bob")
    bob.fill("#follow-form input[name=username]", "alice")
    bob.click("#follow-form button[type=submit]")
    alice.wait_for_selector("#badge:not([hidden])", timeout=WAIT)  # "bob followed you", live

    # Alice posts; Bob's timeline shows it without a reload.
    navigations = []
    bob.on("framenavigated", lambda frame: navigations.append(frame.url))
    post(alice, "hello from alice")
    bob.wait_for_selector("#timeline .post .text:text-is('hello from alice')", timeout=WAIT)
    alice.screenshot(path=str(artifacts / "1-alice-posted.png"), full_page=True)
    bob.screenshot(path=str(artifacts / "2-bob-sees-it-live.png"), full_page=True)

    # Cut Bob's socket and keep him offline while Alice posts twice; then restore the network.
    bob_ctx.set_offline(True)
    bob.evaluate("window.sfRealtime.drop()")
    bob.wait_for_selector("body[data-realtime=closed]", timeout=WAIT)
    post(alice, "while you were away")
    post(alice, "and one more")
    bob.screenshot(path=str(artifacts / "3-bob-offline.png"), full_page=True)
    bob_ctx.set_offline(False)
    bob.wait_for_selector("body[data-realtime=open]", timeout=WAIT)
    bob.wait_for_selector("#timeline .post .text:text-is('and one more')", timeout=WAIT)
    assert timeline_texts(bob) == ["and one more", "while you were away", "hello from alice"]  # in order, once each
    assert navigations == []  # no reload at any point

    # Bob likes and comments; Alice sees the counts, the comment and her badge change live.
    first = bob.locator("#timeline .post", has_text="hello from alice")
    first.locator("button.like").click()
    first.locator(".comment-form input[name=text]").fill("welcome, alice!")
    first.locator(".comment-form button").click()
    mine = alice.locator("#timeline .post", has_text="hello from alice")
    mine.locator(".like-count:text-is('1')").wait_for(timeout=WAIT)
    mine.locator(".comments li", has_text="welcome, alice!").wait_for(timeout=WAIT)
    mine.locator(".comment-count:text-is('1')").wait_for(timeout=WAIT)
    alice.wait_for_function("Number(document.getElementById('badge').textContent) >= 3", timeout=WAIT)
    alice.click("#bell")
    alice.wait_for_selector("#notification-list li", timeout=WAIT)
    alice.screenshot(path=str(artifacts / "4-alice-likes-comments-notifications.png"), full_page=True)
    bob.screenshot(path=str(artifacts / "5-bob-after-reconnect.png"), full_page=True)
    alice_ctx.close()
    bob_ctx.close()


def test_sign_in_with_two_factor(server, browser, artifacts):
    import pyotp

    register(server, "carol")
    tokens = httpx.post(f"{server}/api/v1/auth/login", json={"login": "carol", "password": PASSWORD}, timeout=30).json()
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    setup = httpx.post(f"{server}/api/v1/auth/2fa/setup", json={"password": PASSWORD}, headers=auth, timeout=30)
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    enable = httpx.post(
        f"{server}/api/v1/auth/2fa/enable", json={"password": PASSWORD, "otp": totp.now()}, headers=auth, timeout=30
    )
    if enable.status_code == 422:  # a server from before 2FA changes took the password
        enable = httpx.post(f"{server}/api/v1/auth/2fa/enable", json={"otp": totp.now()}, headers=auth, timeout=30)
    assert enable.status_code == 200, enable.text

    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{server}/app/")
    page.fill("#login-form input[name=login]", "carol")
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-form input[name=otp]:not([hidden])", timeout=WAIT)
    assert "mfa_required" in page.inner_text("#auth-error")
    page.screenshot(path=str(artifacts / "6-two-factor-asked.png"), full_page=True)
    page.fill("#login-form input[name=otp]", totp.at(time.time() + 30))
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#home:not([hidden])", timeout=WAIT)
    assert page.inner_text("#who") == "@carol"
    ctx.close()
