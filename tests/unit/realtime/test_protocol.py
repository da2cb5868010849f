"""Protocol v1 frames and channel names, without I/O."""

from __future__ import annotations

import json

import pytest

from channels import names, protocol
from server.realtime import kinds


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "auth", "id": 1, "token": "t"},
        {"type": "subscribe", "id": 2, "channel": "timeline:public", "since": {"offset": 17, "epoch": "ab12"}},
        {"type": "subscribe", "channel": "hashtag:cats"},
        {"type": "unsubscribe", "id": 3, "channel": "user:1"},
        {"type": "publish", "id": 4, "channel": "live:9", "event": "chat.message", "data": {"t": "hi"}},
        {"type": "ping", "id": 5},
        {"type": "presence", "id": 6, "channel": "live:9"},
    ],
)
def test_client_frames_round_trip(frame):
    decoded = protocol.decode(json.dumps(frame))
    assert json.loads(protocol.encode(decoded)) == frame


def test_server_frames_have_the_contract_shape():
    event = protocol.encode_event("user:1", 18, "e1", "notification.created", b'{"id":"5"}')
    assert json.loads(event) == {
        "type": "event", "channel": "user:1", "offset": 18, "epoch": "e1",
        "event": "notification.created", "data": {"id": "5"},
    }  # fmt: skip
    sub = protocol.Subscribed(channel="user:1", offset=18, epoch="e1", recovered=False, publications=[], id=2)
    assert json.loads(protocol.encode(sub)) == {
        "type": "subscribed", "id": 2, "channel": "user:1", "offset": 18, "epoch": "e1",
        "recovered": False, "publications": [],
    }  # fmt: skip
    assert json.loads(protocol.encode(protocol.Pong(id=5))) == {"type": "pong", "id": 5}
    assert isinstance(protocol.decode_server(event), protocol.Event)


@pytest.mark.parametrize(
    ("text", "frame_id"),
    [
        ("", None),
        ("{", None),
        ("null", None),
        ('{"type": "nope", "id": 4}', 4),
        ('{"type": "auth", "id": 4}', 4),
        ('{"type": "auth", "id": "4", "token": "t"}', None),
        ('{"type": "subscribe", "id": 4, "channel": "x", "since": {"offset": 1}}', 4),
        ('{"type": "ping", "id": 4, "surprise": 1}', 4),
    ],
)
def test_bad_frames_raise_with_the_id_when_readable(text, frame_id):
    with pytest.raises(protocol.BadFrame) as err:
        protocol.decode(text)
    assert err.value.id == frame_id


@pytest.mark.parametrize(
    ("name", "kind", "arg"),
    [
        ("user:12", "user", "12"),
        ("timeline:home:12", "timeline:home", "12"),
        ("timeline:public", "timeline:public", ""),
        ("hashtag:cats_2", "hashtag", "cats_2"),
        ("hashtag:café", "hashtag", "café"),
        ("post:7203", "post", "7203"),
        ("live:1", "live", "1"),
    ],
)
def test_channel_names_parse(name, kind, arg):
    channel = kinds.VOCABULARY.parse(name)
    assert (channel.kind, channel.arg, channel.name) == (kind, arg, name)


@pytest.mark.parametrize(
    "name",
    ["", "user", "user:", "user:abc", "user:01", "user:-1", "timeline:home", "timeline:public:1", "timeline:x:1",
     "hashtag:Cats", "hashtag:a b", "hashtag:", "post:1:2", "x" * 300, "other:1", "user:1\n"],
)  # fmt: skip
def test_names_outside_the_vocabulary_are_refused(name):
    with pytest.raises(names.InvalidChannel):
        kinds.VOCABULARY.parse(name)


def test_builders_match_the_parser():
    assert kinds.user(5) == "user:5" and kinds.home("5") == "timeline:home:5"
    assert kinds.hashtag("Cats") == "hashtag:cats" and kinds.public() == "timeline:public"
    assert kinds.post(9) == "post:9" and kinds.live(3) == "live:3"
    assert names.valid_event("post.created") and not names.valid_event("Post Created")
