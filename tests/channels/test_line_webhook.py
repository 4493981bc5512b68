"""The LINE channel in the real stack: `rasa run` with the LINE channel enabled, the action
server, a small trained model, and the fake LINE platform on loopback sending signed
webhook events and recording the reply/push calls the assistant makes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.line.menus import GROUP_TEXT, LOCATION_TEXT, NOT_TEXT_TEXT, WELCOME_TEXT
from bot.runtime.runner import Stack
from tests.fakes.line_platform import UUID_RE, new_user_id, utf16_len
from tests.line_stack import run_stack, serve_platform, tracker

pytestmark = pytest.mark.slow

SECRET = "integration-channel-secret"
TOKEN = "integration-access-token"
REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"

OTHER_CHANNELS = ("bot.channels.rest.MadoguchiRestInput",)  # in credentials.yml before LINE


@dataclasses.dataclass
class LineStack(Stack):
    """The runner's Stack (started with the test's credentials file) and its LINE webhook."""

    @property
    def webhook(self) -> str:
        return f"{self.rasa_url}/webhooks/line/webhook"


@pytest.fixture(scope="module")
def platform():
    yield from serve_platform(SECRET, TOKEN)


@pytest.fixture(scope="module")
def line_stack(platform, fixture_settings, trained_model, tmp_path_factory):
    yield from run_stack(platform, fixture_settings, trained_model, tmp_path_factory.mktemp("line-stack"), OTHER_CHANNELS,
                         LineStack)


@pytest.fixture(autouse=True)
def no_leftover_faults(platform):
    yield
    platform.reply_delay = 0.0
    platform._failures.clear()


def send(stack, platform, *events, **kw):
    return platform.send(stack.webhook, platform.body(*events), **kw)


def replies_for(platform, event) -> list:
    return [c for c in platform.calls_to(REPLY) if (c.json or {}).get("replyToken") == event["replyToken"]]


def wait_reply(platform, event, timeout=60.0):
    """The successful reply (or push) that answered ``event``."""
    user = event["source"].get("userId")

    def found():
        ok = [c for c in replies_for(platform, event) if c.status == 200]
        if ok:
            return ok[-1]
        pushes = [c for c in platform.calls_to(PUSH, 200) if user and (c.json or {}).get("to") == user]
        return pushes[0] if pushes else None

    return platform.wait_for(found, timeout)


def user_events(stack, user):
    return [e for e in tracker(stack, f"line:{user}")["events"] if e["event"] == "user"]


SETTLE_TEXT = "ありがとう"


def settle(stack, platform, user):
    """Send ``user`` one more message and wait for its answer. The channel handles each
    user's events in order (bot/channels/line.py), so every earlier event of ``user`` has
    then been handled: what did not arrive by now never will. Returns the answer."""
    sentinel = platform.text_event(user, SETTLE_TEXT)
    send(stack, platform, sentinel)
    return wait_reply(platform, sentinel)


# ---------------------------------------------------------------------- answering
def test_health(line_stack):
    with urllib.request.urlopen(f"{line_stack.rasa_url}/webhooks/line/", timeout=10) as resp:
        assert json.loads(resp.read()) == {"status": "ok"}


def test_question_is_answered_with_the_reply_token(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "住民票ってどこでもらえるの？")
    status, body, elapsed = send(line_stack, platform, event)
    assert (status, body["started"]) == (200, 1) and elapsed < 1.0
    call = wait_reply(platform, event)
    assert call.path == REPLY
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"
    assert call.headers["Content-Type"].startswith("application/json")
    [message] = call.json["messages"]
    assert message["type"] == "text" and "1通300円" in message["text"]
    assert [i["action"]["data"] for i in message["quickReply"]["items"]] == ["/feedback_positive", "/feedback_negative"]
    assert platform.problems == []
    [uttered] = user_events(line_stack, user)
    assert uttered["text"] == "住民票ってどこでもらえるの？" and uttered["input_channel"] == "line"
    assert uttered["message_id"] == event["webhookEventId"]


def test_clarify_buttons_and_postbacks(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "ごみはどうやって捨てればいい？")
    send(line_stack, platform, event)
    [message] = wait_reply(platform, event).json["messages"]
    actions = [i["action"] for i in message["quickReply"]["items"]]
    choose = [a for a in actions if a["type"] == "postback" and a["data"].startswith("/choose_faq")]
    if choose:  # clarify: the candidates are numbered postback buttons, then 「どれでもない」
        assert message["text"].startswith("もしかして") and actions[-1]["data"] == "/none_of_these"
        assert 2 <= len(choose) <= 3 and all(a["label"].startswith(f"{i}. ") for i, a in enumerate(choose, 1))
        data = choose[0]["data"]
    else:
        data = '/choose_faq{"faq_id": "gomi-spray"}'
    postback = platform.postback_event(user, data)
    send(line_stack, platform, postback)
    answer = wait_reply(platform, postback).json["messages"][0]
    assert answer["type"] == "text" and "quickReply" in answer
    assert user_events(line_stack, user)[-1]["text"] == data


def test_follow_menus_stickers_images_and_location(line_stack, platform):
    user = new_user_id()
    follow, menu = platform.follow_event(user), platform.postback_event(user, "menu:tetsuzuki")
    sticker, image, location = platform.sticker_event(user), platform.image_event(user), platform.location_event(user)
    for event in (follow, menu, sticker, image, location):
        assert send(line_stack, platform, event)[0] == 200
    assert wait_reply(platform, follow).json["messages"][0]["text"] == WELCOME_TEXT
    assert wait_reply(platform, menu).json["messages"][0]["text"].startswith("手続きについて")
    assert wait_reply(platform, sticker).json["messages"][0]["text"] == NOT_TEXT_TEXT
    assert wait_reply(platform, image).json["messages"][0]["text"] == NOT_TEXT_TEXT
    assert wait_reply(platform, location).json["messages"][0]["text"] == LOCATION_TEXT
    # None of these reached the assistant: no address (or anything else) was stored.
    assert user_events(line_stack, user) == []
    assert "中央9丁目" not in json.dumps(tracker(line_stack, f"line:{user}"), ensure_ascii=False)


def test_groups_get_one_notice_and_are_otherwise_ignored(line_stack, platform):
    group, user = "C" + new_user_id()[1:], new_user_id()
    text = platform.text_event(user, "グループで質問します", group_id=group)
    join = platform.join_event(group)
    send(line_stack, platform, text, join)
    call = wait_reply(platform, join)
    assert call.json["messages"] == [{"type": "text", "text": GROUP_TEXT}]
    settle(line_stack, platform, user)
    assert replies_for(platform, text) == []
    assert [e["text"] for e in user_events(line_stack, user)] == [SETTLE_TEXT]


def test_webhook_answers_before_the_work_is_done(line_stack, platform):
    platform.reply_delay = 2.0  # LINE's API is slow today: the webhook must not wait for it
    event = platform.text_event(new_user_id(), "こんにちは")
    status, _, elapsed = send(line_stack, platform, event)
    assert status == 200 and elapsed < 1.0  # had it waited for the reply, it would take over 2 s
    assert wait_reply(platform, event).path == REPLY


def test_stale_reply_token_means_push_with_a_retry_key(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "こんにちは", age=120, redelivery=True)
    send(line_stack, platform, event)
    call = wait_reply(platform, event)
    assert call.path == PUSH and call.json["to"] == user and UUID_RE.match(call.headers["X-Line-Retry-Key"])
    assert replies_for(platform, event) == []


# ---------------------------------------------------------------------- refusing
def test_unsigned_and_forged_requests_are_refused_before_parsing(line_stack, platform):
    user = new_user_id()
    body = platform.body(platform.text_event(user, "署名なし"))
    assert platform.send(line_stack.webhook, body, signature=None)[:2] == (
        401, {"error": "missing_signature", "message": "X-Line-Signature ヘッダーがありません。"})
    forged = platform.sign(body, secret="someone-elses-secret")
    assert platform.send(line_stack.webhook, body, signature=forged)[0] == 403
    other = platform.body(platform.text_event(user, "別の本文"))
    assert platform.send(line_stack.webhook, other, signature=platform.sign(body))[0] == 403  # signature of another body
    tampered = body.replace("署名なし".encode(), "改ざん済".encode())
    assert platform.send(line_stack.webhook, tampered, signature=platform.sign(body))[0] == 403
    assert platform.send(line_stack.webhook, b"{not json", signature="garbage")[1]["error"] == "invalid_signature"
    answer = settle(line_stack, platform, user)
    assert platform.sent_to(user) == [answer]
    assert [e["text"] for e in user_events(line_stack, user)] == [SETTLE_TEXT]


def test_replayed_and_redelivered_events_are_answered_once(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "こんにちは")
    body = platform.body(event)
    first = platform.send(line_stack.webhook, body)
    replay = platform.send(line_stack.webhook, body)  # same body, same valid signature
    redelivered = {**event, "deliveryContext": {"isRedelivery": True}}
    again = send(line_stack, platform, redelivered)
    assert (first[1]["started"], replay[1]["duplicates"], again[1]["duplicates"]) == (1, 1, 1)
    first_answer = wait_reply(platform, event)
    answer = settle(line_stack, platform, user)
    assert platform.sent_to(user) == [first_answer, answer]
    assert [e["text"] for e in user_events(line_stack, user)] == ["こんにちは", SETTLE_TEXT]


@pytest.mark.parametrize(
    "body, status, code",
    [(b"{not json", 400, "invalid_json"), (b"", 400, "invalid_json"), (b"[]", 400, "invalid_body"),
     (b'{"events": "none"}', 400, "invalid_body"), ("{\"events\": [\"\udcff\"]}".encode("utf-8", "surrogatepass"), 400, "invalid_json"),
     (b'{"events": [' + b'{"type": "x"},' * 80_000 + b'{}]}', 413, "payload_too_large")],
    ids=["broken-json", "empty", "array", "events-not-list", "bad-utf8", "huge"],
)
def test_malformed_bodies_get_a_4xx_with_a_reason(line_stack, platform, body, status, code):
    got, data, _ = platform.send(line_stack.webhook, body)
    assert (got, data["error"]) == (status, code) and data["message"]


def test_unknown_event_types_and_junk_elements_are_ignored(line_stack, platform):
    user = new_user_id()
    sentinel = platform.text_event(user, "こんにちは")
    body = json.dumps({"destination": "U0", "events": [
        platform.other_event("beacon", user), platform.other_event("videoPlayComplete", user),
        platform.other_event("brandNewEventType", user), {"type": "message"}, 42, sentinel]}, ensure_ascii=False).encode()
    status, data, _ = platform.send(line_stack.webhook, body)
    assert status == 200 and (data["started"], data["skipped"]) == (4, 2)
    wait_reply(platform, sentinel)  # handled after the events before it (in order per user)
    assert len(platform.sent_to(user)) == 1


# ---------------------------------------------------------------------- the API misbehaves
def test_api_answering_500_then_200_is_retried(line_stack, platform):
    platform.fail_next(REPLY, 500)
    event = platform.text_event(new_user_id(), "こんにちは")
    send(line_stack, platform, event)
    wait_reply(platform, event)
    assert [c.status for c in replies_for(platform, event)] == [500, 200]


def test_rate_limit_429_waits_for_retry_after(line_stack, platform):
    platform.fail_next(REPLY, 429, retry_after=1, body={"message": "The API rate limit has been exceeded. Try again later."})
    event = platform.text_event(new_user_id(), "こんにちは")
    send(line_stack, platform, event)
    wait_reply(platform, event)
    limited, ok = replies_for(platform, event)
    assert (limited.status, ok.status) == (429, 200) and ok.at - limited.at >= 0.95


def test_burst_of_50_events(line_stack, platform):
    users = [new_user_id() for _ in range(50)]
    events = [platform.text_event(u, "住民票ってどこでもらえるの？" if i % 2 else "こんにちは") for i, u in enumerate(users)]
    with ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(lambda e: send(line_stack, platform, e), events))
    assert [r[0] for r in results] == [200] * 50
    assert max(r[2] for r in results) < 2.0  # LINE gives up on a webhook after 2 s
    calls = [wait_reply(platform, e, timeout=180) for e in events]
    assert all(c.path == REPLY and c.status == 200 for c in calls)
    assert {c.json["replyToken"] for c in calls} == {e["replyToken"] for e in events}
    for call, event in zip(calls, events):
        text = call.json["messages"][0]["text"]
        assert ("1通300円" in text) if "住民票" in event["message"]["text"] else text.startswith("こんにちは")
    assert platform.problems == []


# ---------------------------------------------------------------------- delivery seam (staff → resident)
def append_bot_event(stack, sender, text, custom):
    import aiohttp

    from bot.runtime.rasa_api import RasaApi, bot_event

    async def go():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            api = RasaApi(stack.rasa_url, stack.settings.api_token(), session)
            return await api.append_events(sender, [bot_event(text, custom)])

    return asyncio.run(go())


def test_staff_replies_through_the_seam_are_pushed(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "人と話したい")
    send(line_stack, platform, event)
    wait_reply(platform, event)
    append_bot_event(line_stack, f"line:{user}", "市民課の田中です。ご質問を確認しました。", {"type": "staff", "staff_name": "田中"})
    [push] = [c for c in platform.calls_to(PUSH, 200) if c.json["to"] == user]
    assert push.json["messages"] == [{"type": "text", "text": "市民課の田中です。ご質問を確認しました。", "sender": {"name": "田中（職員）"}}]
    assert UUID_RE.match(push.headers["X-Line-Retry-Key"])


def test_long_and_linked_messages_through_the_seam_respect_limits(line_stack, platform):
    user = new_user_id()
    event = platform.text_event(user, "こんにちは")
    send(line_stack, platform, event)
    wait_reply(platform, event)
    long_text = ("長いご案内です。" * 100 + "\n") * 33  # 26,433 characters → 6 messages → 2 pushes
    append_bot_event(line_stack, f"line:{user}", long_text, {"type": "staff", "staff_name": "佐藤"})
    pushes = [c for c in platform.calls_to(PUSH, 200) if c.json["to"] == user]
    assert [len(c.json["messages"]) for c in pushes] == [5, 1]
    texts = [m["text"] for c in pushes for m in c.json["messages"]]
    assert all(utf16_len(t) <= 5000 for t in texts) and "".join(texts) == long_text.strip()

    url = "https://www.city.sample.example.jp/gomi/sodai"
    append_bot_event(line_stack, f"line:{user}", f"粗大ごみは予約制です。\n詳しくは: {url}",
                     {"type": "answer", "faq_id": "gomi-sodai", "question": "粗大ごみの出し方を教えてください。", "url": url})
    flex = [c for c in platform.calls_to(PUSH, 200) if c.json["to"] == user][-1].json["messages"][0]
    assert flex["type"] == "flex" and flex["contents"]["footer"]["contents"][0]["action"]["uri"] == url
    assert platform.problems == []


# ---------------------------------------------------------------------- languages
def test_a_vietnamese_conversation_on_line_through_the_language_menu(line_stack, platform):
    user = new_user_id()
    menu = platform.postback_event(user, "menu:language")
    send(line_stack, platform, menu)
    [shown] = wait_reply(platform, menu).json["messages"]
    choices = {i["action"]["label"]: i["action"]["data"] for i in shown["quickReply"]["items"]}
    assert choices["Tiếng Việt"] == '/set_language{"language": "vi"}' and "やさしい日本語" in choices

    chosen = platform.postback_event(user, choices["Tiếng Việt"])
    send(line_stack, platform, chosen)
    [confirmed] = wait_reply(platform, chosen).json["messages"]
    assert confirmed["text"] == "Từ bây giờ chúng tôi sẽ trả lời bằng tiếng Việt."

    # A Japanese question after the choice: the Vietnamese translation, Vietnamese buttons.
    question = platform.text_event(user, "住民票ってどこでもらえるの？")
    send(line_stack, platform, question)
    [answer] = wait_reply(platform, question).json["messages"]
    assert answer["text"].startswith("Bạn có thể lấy tại quầy Phòng Thị dân") and "300 yên một bản" in answer["text"]
    assert [i["action"]["label"] for i in answer["quickReply"]["items"]] == ["Hữu ích", "Không hữu ích"]

    human = platform.postback_event(user, "/request_human")
    send(line_stack, platform, human)
    [queued] = wait_reply(platform, human).json["messages"]
    assert queued["text"].startswith("Đang kết nối bạn với nhân viên")
    assert [i["action"]["label"] for i in queued["quickReply"]["items"]] == ["Dừng"]
    assert platform.problems == []
