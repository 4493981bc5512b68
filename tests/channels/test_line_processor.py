"""The channel's event handling with a stand-in assistant, against the fake LINE platform.

The Rasa side is replaced by a coroutine that answers like the assistant does; the
full stack with the real Rasa server is in test_line_webhook.py.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.line import ChannelBusy, LineEventProcessor, LinePushOutput
from bot.line.config import LineChannelConfig
from bot.line.client import LineApiError, LineClient
from bot.line.events import parse_event
from bot.line.menus import ERROR_TEXT, GROUP_TEXT, LOCATION_TEXT, NOT_TEXT_TEXT, WELCOME_TEXT
from tests.fakes.line_platform import FakeLinePlatform, check_messages

REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"
USER, OTHER = "U" + "1" * 32, "U" + "2" * 32


class Assistant:
    """Stands in for Rasa: records the UserMessages and answers with reply-contract messages."""

    def __init__(self) -> None:
        self.received = []
        self.answers: dict[str, list[dict]] = {}
        self.delay: dict[str, float] = {}
        self.fail = False

    async def __call__(self, message) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay.get(message.text, 0))
        if self.fail:
            raise RuntimeError("model exploded")
        for m in self.answers.get(message.text, [{"text": f"回答：{message.text}", "custom": {"type": "smalltalk"}}]):
            await message.output_channel.send_response(message.sender_id, dict(m))


@pytest.fixture
def platform():
    return FakeLinePlatform()


@pytest.fixture
async def setup(aiohttp_server, platform):
    server = await aiohttp_server(platform.app())
    made = []

    def make(**overrides):
        creds = {"channel_secret": platform.channel_secret, "access_token": platform.access_token,
                 "api_base_url": str(server.make_url("")).rstrip("/"), "backoff_seconds": 0.01, **overrides}
        config = LineChannelConfig.from_credentials(creds)
        client = LineClient(config.api)
        made.append(client)
        return LineEventProcessor(config, client), Assistant()

    yield make
    for client in made:
        await client.close()


async def run(processor, assistant, *raw_events):
    processor.submit([parse_event(e) for e in raw_events], assistant)
    await processor.drain(timeout=10)


async def test_text_goes_through_prepare_text_to_the_assistant_and_is_replied(setup, platform):
    processor, assistant = setup()
    event = platform.text_event(USER, "  住民票\x00の取り方\n")
    await run(processor, assistant, event)
    [message] = assistant.received
    assert message.text == "住民票 の取り方"  # control characters cleaned, trimmed
    assert message.sender_id == f"line:{USER}" and message.input_channel == "line"
    assert message.message_id == event["webhookEventId"]
    [call] = platform.calls
    assert call.path == REPLY and call.status == 200 and call.json["replyToken"] == event["replyToken"]
    assert call.json["messages"] == [{"type": "text", "text": "回答：住民票 の取り方"}]


async def test_rejected_text_gets_the_reason_and_never_reaches_the_assistant(setup, platform):
    processor, assistant = setup()
    await run(processor, assistant, platform.text_event(USER, "あ" * 2001), platform.text_event(OTHER, "\x00\x01"))
    assert assistant.received == []
    texts = {c.json["messages"][0]["text"] for c in platform.calls}
    assert len(texts) == 2
    assert any(t.startswith("メッセージが長すぎます（2001文字）") for t in texts)
    assert any(t.startswith("メッセージが空です") for t in texts)


async def test_assistant_failure_gets_a_polite_error(setup, platform):
    processor, assistant = setup()
    assistant.fail = True
    await run(processor, assistant, platform.text_event(USER, "こんにちは"))
    assert platform.calls[0].json["messages"] == [{"type": "text", "text": ERROR_TEXT}]


async def test_paused_conversation_sends_nothing(setup, platform):
    processor, assistant = setup()
    assistant.answers["待っています"] = []
    await run(processor, assistant, platform.text_event(USER, "待っています"))
    assert len(assistant.received) == 1 and platform.calls == []


async def test_stale_reply_token_is_not_used_push_is(setup, platform):
    processor, assistant = setup(reply_token_ttl_seconds=30)
    await run(processor, assistant, platform.text_event(USER, "遅れて届いた質問", age=45, redelivery=True))
    [call] = platform.calls
    assert call.path == PUSH and call.json["to"] == USER and "X-Line-Retry-Key" in call.headers


async def test_refused_reply_token_falls_back_to_push(setup, platform):
    processor, assistant = setup()
    platform.expire_reply_tokens()  # LINE says "Invalid reply token" although we think it is fresh
    event = platform.text_event(USER, "質問")
    platform.expire_reply_tokens()
    await run(processor, assistant, event)
    assert [(c.path, c.status) for c in platform.calls] == [(REPLY, 400), (PUSH, 200)]
    assert platform.calls[1].json["messages"] == [{"type": "text", "text": "回答：質問"}]


async def test_more_than_five_messages_reply_five_then_push_the_rest(setup, platform):
    processor, assistant = setup()
    assistant.answers["長い"] = [{"text": "あ" * 12000, "custom": {"type": "staff"}}, {"text": "い" * 11000}]
    await run(processor, assistant, platform.text_event(USER, "長い"))
    assert [(c.path, len(c.json["messages"])) for c in platform.calls] == [(REPLY, 5), (PUSH, 1)]
    sent = [m["text"] for c in platform.calls for m in c.json["messages"]]
    assert "".join(sent) == "あ" * 12000 + "い" * 11000 and platform.problems == []


async def test_one_users_events_are_answered_in_order_others_in_parallel(setup, platform):
    processor, assistant = setup(max_concurrent_events=2)
    assistant.delay = {"一つ目": 0.3, "別の人": 0.0}
    await run(processor, assistant, platform.text_event(USER, "一つ目"), platform.text_event(USER, "二つ目"),
              platform.text_event(OTHER, "別の人"))
    order = [c.json["messages"][0]["text"] for c in platform.calls]
    assert order == ["回答：別の人", "回答：一つ目", "回答：二つ目"]
    assert len(processor._locks) == 0  # per-user locks are dropped when idle


async def test_follow_stickers_images_location_and_menus(setup, platform):
    processor, assistant = setup()
    await run(processor, assistant, platform.follow_event(USER))
    await run(processor, assistant, platform.sticker_event(USER))
    await run(processor, assistant, platform.image_event(USER))
    await run(processor, assistant, platform.location_event(USER))
    await run(processor, assistant, platform.postback_event(USER, "menu:gomi"))
    texts = [c.json["messages"][0]["text"] for c in platform.calls]
    assert texts[:4] == [WELCOME_TEXT, NOT_TEXT_TEXT, NOT_TEXT_TEXT, LOCATION_TEXT]
    assert texts[4].startswith("ごみについて")
    assert assistant.received == []  # none of these reach the assistant (nothing stored)
    assert all(check_messages(c.json["messages"]) == [] for c in platform.calls)


async def test_postback_payload_is_asked_like_text(setup, platform):
    processor, assistant = setup()
    await run(processor, assistant, platform.postback_event(USER, '/choose_faq{"faq_id": "gomi-spray"}'))
    assert assistant.received[0].text == '/choose_faq{"faq_id": "gomi-spray"}'


async def test_groups_rooms_standby_unfollow_and_unknown_events_are_not_answered(setup, platform):
    processor, assistant = setup()
    group = platform.text_event(USER, "グループでの質問")
    group["source"] = {"type": "group", "groupId": "C" + "3" * 32, "userId": USER}
    room = platform.text_event(USER, "ルームでの質問")
    room["source"] = {"type": "room", "roomId": "R" + "4" * 32, "userId": USER}
    standby = {**platform.text_event(USER, "待機中"), "mode": "standby"}
    await run(processor, assistant, group, room, standby, platform.unfollow_event(USER),
              platform.other_event("beacon", USER), platform.other_event("somethingNew", USER))
    assert assistant.received == [] and platform.calls == []
    await run(processor, assistant, platform.join_event("C" + "3" * 32))
    [call] = platform.calls
    assert call.path == REPLY and call.json["messages"] == [{"type": "text", "text": GROUP_TEXT}]


async def test_redelivered_events_are_handled_once(setup, platform):
    processor, assistant = setup()
    event = parse_event(platform.text_event(USER, "一度だけ"))
    assert processor.submit([event, event], assistant) == (1, 1)
    await processor.drain(10)
    assert processor.submit([event], assistant) == (0, 1)
    await processor.drain(10)
    assert len(assistant.received) == 1 and len(platform.calls) == 1


async def test_too_many_waiting_events_make_the_webhook_busy(setup, platform):
    processor, assistant = setup(max_pending_events=2)
    assistant.delay = {"a": 0.2}
    processor.submit([parse_event(platform.text_event(USER, "a"))], assistant)
    with pytest.raises(ChannelBusy):
        processor.submit([parse_event(platform.text_event(USER, "b")), parse_event(platform.text_event(USER, "c"))], assistant)
    await processor.drain(10)


async def test_push_output_channel_for_the_delivery_seam(setup, platform):
    processor, _ = setup()
    output = LinePushOutput(processor.client)
    await output.send_response(f"line:{USER}", {"text": "担当の田中です。", "custom": {"type": "staff", "staff_name": "田中"}})
    await output.send_response("resident-1", {"text": "REST の会話には送りません"})
    [call] = platform.calls
    assert call.path == PUSH and call.json == {"to": USER, "messages": [
        {"type": "text", "text": "担当の田中です。", "sender": {"name": "田中（職員）"}}]}
    platform.fail_next(PUSH, 500, 500, 500, 500)
    with pytest.raises(LineApiError):
        await output.send_response(f"line:{USER}", {"text": "届かない"})
