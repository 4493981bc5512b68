"""The web channel's pure parts: push hub, settings, sender ids, the push output channel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.channels.common import InputRejected
from bot.channels.web import (
    PushHub,
    StreamLimitReached,
    WebChannelConfig,
    WebInput,
    WebPushOutputChannel,
    web_sender,
)
from bot.errors import ConfigError

SENDER = "web-" + "0123456789abcdef" * 2
OTHER = "web-" + "f" * 32


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def msg(text: str) -> dict:
    return {"recipient_id": SENDER, "text": text, "custom": {"type": "staff", "staff_name": "田中"}}


# --------------------------------------------------------------------------- sender ids
def test_widget_sender_ids_are_accepted():
    assert web_sender(SENDER) == SENDER
    assert web_sender(f"  {SENDER} ") == SENDER


@pytest.mark.parametrize(
    "value, code",
    [
        (None, "missing_sender"),
        ("", "missing_sender"),
        (42, "missing_sender"),
        ("resident-1", "invalid_sender"),  # a REST-style, guessable id
        ("web-" + "0" * 31, "invalid_sender"),
        ("web-" + "A" * 32, "invalid_sender"),
        ("web-" + "0" * 16 + "\n" + "0" * 15, "invalid_sender"),
        ("web-" + "0" * 33, "invalid_sender"),
    ],
)
def test_other_sender_ids_are_rejected_with_a_clear_message(value, code):
    with pytest.raises(InputRejected) as err:
        web_sender(value)
    assert err.value.code == code and err.value.status == 400
    assert "sender" in err.value.message


# --------------------------------------------------------------------------- hub
async def test_publish_reaches_only_the_streams_of_that_conversation():
    hub = PushHub(clock=FakeClock())
    a1, a2, b = hub.subscribe(SENDER), hub.subscribe(SENDER), hub.subscribe(OTHER)
    event = hub.publish(SENDER, msg("こんにちは"))
    assert a1.queue.get_nowait() is event and a2.queue.get_nowait() is event
    assert b.queue.empty()
    assert event.id == hub.last_id
    assert event.sse() == f'id: {event.id}\ndata: {{"recipient_id": "{SENDER}", "text": "こんにちは", "custom": {{"type": "staff", "staff_name": "田中"}}}}\n\n'


async def test_event_ids_grow_and_start_from_the_clock():
    clock = FakeClock(1_700_000_000.0)
    hub = PushHub(clock=clock)
    assert hub.last_id == 1_700_000_000_000
    ids = [hub.publish(SENDER, msg(str(i))).id for i in range(3)]
    assert ids == [1_700_000_000_001, 1_700_000_000_002, 1_700_000_000_003]
    # A restarted process starts above the ids it handed out before.
    clock.now += 5
    assert PushHub(clock=clock).last_id > ids[-1]


async def test_replay_gives_what_a_reconnecting_browser_missed():
    hub = PushHub(clock=FakeClock())
    start = hub.last_id
    first = hub.publish(SENDER, msg("1"))
    second = hub.publish(SENDER, msg("2"))
    hub.publish(OTHER, msg("not yours"))
    assert hub.replay(SENDER, start) == [first, second]
    assert hub.replay(SENDER, first.id) == [second]
    assert hub.replay(SENDER, second.id) == []
    assert hub.replay(SENDER, None) == []  # a browser without an id gets nothing old
    assert hub.replay("web-" + "1" * 32, start) == []


async def test_replay_keeps_messages_only_for_a_while():
    clock = FakeClock()
    hub = PushHub(clock=clock, replay_seconds=60)
    start = hub.last_id
    old = hub.publish(SENDER, msg("old"))
    clock.now += 61
    new = hub.publish(SENDER, msg("new"))
    assert hub.replay(SENDER, start) == [new]
    clock.now += 61
    assert hub.replay(SENDER, start) == []
    assert old.id < new.id


async def test_replay_buffer_is_bounded_per_conversation_and_in_conversations():
    hub = PushHub(clock=FakeClock(), replay_per_sender=3, max_buffered_senders=2)
    start = hub.last_id
    events = [hub.publish(SENDER, msg(str(i))) for i in range(5)]
    assert hub.replay(SENDER, start) == events[-3:]
    hub.publish(OTHER, msg("b"))
    third = "web-" + "2" * 32
    hub.publish(third, msg("c"))  # the least recently used conversation goes
    assert hub.replay(SENDER, start) == []
    assert len(hub.replay(OTHER, start)) == 1 and len(hub.replay(third, start)) == 1


async def test_stream_limits():
    hub = PushHub(clock=FakeClock(), max_streams=3, max_streams_per_sender=2)
    a = hub.subscribe(SENDER)
    hub.subscribe(SENDER)
    with pytest.raises(StreamLimitReached):
        hub.subscribe(SENDER)
    hub.subscribe(OTHER)
    with pytest.raises(StreamLimitReached):
        hub.subscribe("web-" + "3" * 32)
    hub.unsubscribe(a)
    hub.unsubscribe(a)  # twice is harmless
    assert hub.stream_count(SENDER) == 1 and hub.stream_count() == 2
    hub.subscribe(SENDER)


async def test_a_stalled_stream_is_marked_and_publishing_never_blocks():
    hub = PushHub(clock=FakeClock(), queue_size=2)
    sub = hub.subscribe(SENDER)
    for i in range(5):
        hub.publish(SENDER, msg(str(i)))
    assert sub.overflowed and sub.queue.qsize() == 2


# --------------------------------------------------------------------------- output channel
async def test_push_channel_keeps_text_buttons_and_custom_together():
    channel = WebInput(WebChannelConfig())
    sub = channel.hub.subscribe(SENDER)
    out = channel.get_output_channel()
    assert isinstance(out, WebPushOutputChannel) and out.name() == "web"
    # What Rasa passes for a BotUttered event appended through its HTTP API.
    await out.send_response(
        SENDER,
        {"text": "担当者におつなぎしています。", "elements": None, "quick_replies": None,
         "buttons": [{"title": "キャンセル", "payload": "/cancel"}], "attachment": None, "image": None,
         "custom": {"type": "handoff", "status": "queued", "queue_position": 2}},
    )
    event = await asyncio.wait_for(sub.queue.get(), 1)
    assert event.message == {
        "recipient_id": SENDER,
        "text": "担当者におつなぎしています。",
        "buttons": [{"title": "キャンセル", "payload": "/cancel"}],
        "custom": {"type": "handoff", "status": "queued", "queue_position": 2,
                   "ruby": [["担当者", "たんとうしゃ"], ["におつなぎしています。", ""]]},
    }
    assert out.messages == []  # nothing piles up in the long-lived channel


def test_every_output_channel_shares_the_channel_hub():
    channel = WebInput()
    assert channel.get_output_channel()._hub is channel.hub is channel.get_output_channel()._hub


# --------------------------------------------------------------------------- settings
def test_settings_from_credentials():
    assert WebInput.from_credentials(None).config == WebChannelConfig()
    config = WebChannelConfig.from_credentials({"heartbeat_seconds": "5", "retry_ms": 1000, "web_dir": "/srv/web"})
    assert config.heartbeat_seconds == 5.0 and config.retry_ms == 1000 and config.web_dir == Path("/srv/web")
    assert WebChannelConfig.from_credentials({"retry_ms": None}).retry_ms == 3000


@pytest.mark.parametrize(
    "credentials, words",
    [
        ({"heartbeat": 5}, ["no setting 'heartbeat'", "heartbeat_seconds"]),
        ({"retry_ms": "soon"}, ["retry_ms must be a number", "'soon'"]),
        ({"max_streams": 0}, ["max_streams must be greater than 0"]),
    ],
)
def test_bad_settings_name_the_setting_and_the_fix(credentials, words):
    with pytest.raises(ConfigError) as err:
        WebChannelConfig.from_credentials(credentials)
    for word in words:
        assert word in str(err.value)
    assert err.value.hint
