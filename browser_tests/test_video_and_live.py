"""Video and live in the demo app: a creator uploads a clip over tus and watches the progress, then plays it
with hls.js; two people in one live room chat, react, see a tip arrive and the viewer count, and the end."""

from __future__ import annotations

import secrets

import httpx

from browser_tests.conftest import HOOK_SECRET, Stripe, login, register
from browser_tests.test_demo_app import WAIT, sign_in
from tests.support.media import clip

TRANSCODE_WAIT = 300_000  # ms: an upper bound for ffmpeg on a shared, busy machine; never asserted on

RECORD_PROGRESS = """() => {
  const bar = document.getElementById('upload-progress');
  window.seenUploadProgress = [];
  new MutationObserver(() => window.seenUploadProgress.push(Number(bar.value)))
    .observe(bar, { attributes: true, attributeFilter: ['value'] });
}"""


def test_upload_with_progress_then_play_with_hls(server, browser, artifacts, tmp_path):
    source = clip(tmp_path / "holiday.mp4", seconds=6, size="320x240")
    register(server, "vera")
    ctx = browser.new_context(viewport={"width": 900, "height": 1000})
    page = ctx.new_page()
    # Opened as localhost while the API hands out 127.0.0.1 URLs (PUBLIC_URL): the page must stay on its origin.
    sign_in(page, server.replace("127.0.0.1", "localhost"), "vera")

    page.click("#videos-btn")
    page.wait_for_selector("#creator-needed:not([hidden])", timeout=WAIT)  # a plain user cannot upload yet
    page.click("#become-creator")
    page.wait_for_selector("#upload-form:not([hidden])", timeout=WAIT)
    page.fill("#upload-form input[name=title]", "Holiday clip")
    page.set_input_files("#upload-form input[name=file]", str(source))
    page.evaluate(RECORD_PROGRESS)
    page.click("#upload-form button[type=submit]")

    page.wait_for_selector("#upload-status[data-status=processing]", timeout=WAIT)
    page.screenshot(path=str(artifacts / "7-video-uploaded-processing.png"), full_page=True)
    seen = page.evaluate("window.seenUploadProgress")
    assert seen[-1] == 100, seen
    assert any(0 < p < 100 for p in seen), f"no intermediate upload progress was shown: {seen}"
    assert seen == sorted(seen), f"upload progress went backwards: {seen}"

    page.wait_for_selector("#upload-status[data-status=ready]", timeout=TRANSCODE_WAIT)
    assert page.inner_text("#processing-percent") == "100%"
    page.wait_for_selector("#player-card:not([hidden])", timeout=WAIT)
    # hls.js plays it: the video element's clock moves (not just metadata loaded).
    page.wait_for_function("document.getElementById('player').currentTime > 1", timeout=WAIT)
    assert page.evaluate("document.getElementById('player').src").startswith("blob:")  # MSE, i.e. hls.js
    assert "Holiday clip" in page.inner_text("#video-list")
    page.screenshot(path=str(artifacts / "8-video-playing.png"), full_page=True)
    ctx.close()


def _live_stream(base: str, stripe: Stripe, owner: str, title: str) -> str:
    """A creator who can take tips, and their stream made live the way nginx-rtmp's ``on_publish`` does it."""
    register(base, owner)
    auth = login(base, owner)
    assert httpx.post(f"{base}/api/v1/creators/enroll", headers=auth, timeout=30).status_code == 200
    res = httpx.post(f"{base}/api/v1/creators/me/payout-account", headers=auth, timeout=30)
    assert res.status_code == 200, res.text
    status, _ = stripe.post(f"/_test/accounts/{res.json()['account_id']}/onboard")
    assert status == 200
    assert set(stripe.deliver(base)) <= {200}
    res = httpx.post(f"{base}/api/v1/live", json={"title": title, "visibility": "public"}, headers=auth, timeout=30)
    assert res.status_code == 201, res.text
    stream = res.json()
    hook = httpx.post(
        f"{base}/api/v1/live/hooks/publish",
        data={"call": "publish", "name": stream["ingest"]["stream_key"]},
        headers={"X-Live-Hook-Secret": HOOK_SECRET},
        timeout=30,
    )
    assert hook.status_code == 302, hook.text
    return str(stream["id"])


def _tip(base: str, stripe: Stripe, payer: str, recipient: str, amount: int, stream_id: str, message: str) -> None:
    """A tip in the room: created over the API, confirmed as Stripe.js would, Stripe's webhooks delivered."""
    body = {"recipient": recipient, "amount": amount, "currency": "usd", "message": message, "live_id": stream_id}
    headers = {**login(base, payer), "Idempotency-Key": secrets.token_hex(8)}
    res = httpx.post(f"{base}/api/v1/payments/tips", json=body, headers=headers, timeout=30)
    assert res.status_code == 201, res.text
    intent = res.json()["client_secret"].split("_secret_")[0]
    status, _ = stripe.post(f"/v1/payment_intents/{intent}/confirm", payment_method="pm_card_visa")
    assert status == 200
    assert set(stripe.deliver(base)) <= {200}


def test_two_viewers_chat_react_tip_and_count_in_a_live_room(server, stripe, browser, artifacts):
    stream_id = _live_stream(server, stripe, "olga", "Sunday jam")
    register(server, "rhea")
    register(server, "sam")
    rhea_ctx = browser.new_context(viewport={"width": 900, "height": 900})
    sam_ctx = browser.new_context(viewport={"width": 900, "height": 900})
    rhea, sam = rhea_ctx.new_page(), sam_ctx.new_page()
    for page, name in ((rhea, "rhea"), (sam, "sam")):
        sign_in(page, server, name)
        page.click("#live-btn")
        page.click("#stream-list button:text-is('Sunday jam')")
        page.wait_for_selector("#room:not([hidden])", timeout=WAIT)
        assert page.inner_text("#room-status") == "live"

    # Both sockets are in the room (the owner is not counted): each page shows two viewers.
    for page in (rhea, sam):
        page.wait_for_selector("#viewer-count:text-is('2')", timeout=WAIT)

    rhea.fill("#chat-form input[name=text]", "hi sam, great set")
    rhea.click("#chat-form button[type=submit]")
    sam.wait_for_selector("#chat li:has-text('@rhea') .text:text-is('hi sam, great set')", timeout=WAIT)
    sam.fill("#chat-form input[name=text]", "hey rhea!")
    sam.click("#chat-form button[type=submit]")
    rhea.wait_for_selector("#chat li:has-text('@sam') .text:text-is('hey rhea!')", timeout=WAIT)
    assert rhea.locator("#chat li .text").all_inner_texts() == ["hi sam, great set", "hey rhea!"]
    assert sam.locator("#chat li .text").all_inner_texts() == ["hi sam, great set", "hey rhea!"]

    sam.click("#reactions .reaction[data-kind=fire]")
    rhea.wait_for_selector("#reaction-counts:has-text('fire: 1')", timeout=WAIT)

    # Sam tips the streamer; once Stripe confirms it, both rooms show it (never on the client's word).
    _tip(server, stripe, "sam", "olga", 500, stream_id, "love this tune")
    for page in (rhea, sam):
        page.wait_for_selector("#chat li.tip:has-text('@sam'):has-text('tipped $5.00: love this tune')", timeout=WAIT)
    rhea.screenshot(path=str(artifacts / "9-live-room-rhea.png"), full_page=True)
    sam.screenshot(path=str(artifacts / "10-live-room-sam.png"), full_page=True)

    # Sam leaves: Rhea's count drops to one. Then the encoder stops and the room says the stream ended.
    sam.click("#leave-room")
    rhea.wait_for_selector("#viewer-count:text-is('1')", timeout=WAIT)
    done = httpx.post(
        f"{server}/api/v1/live/hooks/publish_done",
        data={"call": "publish_done", "name": stream_id},
        headers={"X-Live-Hook-Secret": HOOK_SECRET},
        timeout=30,
    )
    assert done.status_code == 200, done.text
    rhea.wait_for_selector("#room-status:text-is('ended')", timeout=WAIT)
    rhea.screenshot(path=str(artifacts / "11-live-room-ended.png"), full_page=True)
    rhea_ctx.close()
    sam_ctx.close()
