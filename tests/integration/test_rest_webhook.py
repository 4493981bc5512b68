"""REST round trips against the real Rasa server and action server with a small trained model."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.slow


def post_raw(stack, body: bytes, content_type="application/json"):
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read().decode())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode())


def say(stack, text, sender=None):
    status, body = post_raw(stack, json.dumps({"sender": sender or uuid.uuid4().hex, "message": text}).encode())
    assert status == 200, body
    return body


def test_answer_carries_contract(live_stack):
    [msg] = say(live_stack, "住民票ってどこでもらえるの？")
    c = msg["custom"]
    assert c["type"] == "answer" and c["faq_id"] == "juminhyo-get"
    assert 0 < c["confidence"] <= 1
    assert c["candidates"][0] == {"faq_id": "juminhyo-get", "question": "住民票の写しはどこで取れますか。", "score": c["candidates"][0]["score"]}
    assert c["department"]["name"] == "市民課"
    assert "1通300円" in msg["text"] and msg["text"].endswith("電話 0000-11-1111）")


@pytest.mark.parametrize("text", ["今日の天気は？", "市長の好きな食べ物は？", "株価を教えて", "私の給付金はいつ振り込まれますか"])
def test_off_topic_and_personal_cases_get_no_faq_answer(live_stack, text):
    [msg] = say(live_stack, text)
    assert msg["custom"]["type"] in ("cannot_answer", "clarify")
    assert msg["custom"]["faq_id"] is None
    if msg["custom"]["type"] == "cannot_answer":
        assert "お問い合わせください" in msg["text"]
        assert msg["buttons"][0]["payload"] == "/request_human"


def test_clarify_then_choose_a_candidate(live_stack):
    sender = uuid.uuid4().hex
    # Two FAQs are asked with 捨てる (粗大ごみ, スプレー缶): nothing tells them apart.
    [msg] = say(live_stack, "ごみはどうやって捨てればいい？", sender)
    assert msg["custom"]["type"] == "clarify"
    assert 2 <= len(msg["custom"]["candidates"]) <= 3
    choice = msg["buttons"][0]
    assert choice["payload"].startswith("/choose_faq")
    [answer] = say(live_stack, choice["payload"], sender)
    assert answer["custom"]["type"] == "answer"
    assert answer["custom"]["faq_id"] == msg["custom"]["candidates"][0]["faq_id"]
    [answer] = say(live_stack, '/choose_faq{"faq_id": "gomi-spray"}', sender)
    assert answer["custom"]["faq_id"] == "gomi-spray"


def test_choose_unknown_faq_is_handled(live_stack):
    [msg] = say(live_stack, '/choose_faq{"faq_id": "does-not-exist"}')
    assert msg["custom"]["type"] == "cannot_answer"


@pytest.mark.parametrize(
    "text, kind",
    [("こんにちは", "smalltalk"), ("ありがとうございました", "smalltalk"), ("人と話したい", "handoff"),
     ("役に立たなかった", "feedback"), ("😀", "unclear"), ("？？", "unclear")],
)
def test_smalltalk_and_unclear(live_stack, text, kind):
    msgs = say(live_stack, text)
    assert msgs and all(m["custom"]["type"] == kind for m in msgs), msgs


@pytest.mark.parametrize(
    "body, status, error",
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (json.dumps({"message": "住民票"}).encode(), 400, "missing_sender"),
        (json.dumps({"sender": "a", "message": ""}).encode(), 400, "empty_message"),
        (json.dumps({"sender": "a", "message": "   \n\t "}).encode(), 400, "empty_message"),
        (json.dumps({"sender": "a", "message": 42}).encode(), 400, "invalid_message"),
        (json.dumps({"sender": "a", "message": "あ" * 10000}).encode(), 413, "message_too_long"),
        (b"", 400, "invalid_json"),
        (b'{"sender": "a", "message": ' + b"[" * 1000 + b"]" * 1000 + b"}", 400, "invalid_json"),
        (b'{"sender": "a", "message": "\\ud800"}', 400, "invalid_message"),
        (json.dumps({"sender": "p2-att/../p2-victim-X", "message": "人と話したい"}).encode(), 400, "invalid_sender"),
        (json.dumps({"sender": "taro.yamada@example.jp", "message": "住民票"}).encode(), 400, "invalid_sender"),
        (json.dumps({"sender": "090-1234-5678", "message": "住民票"}).encode(), 400, "invalid_sender"),
    ],
)
def test_bad_input_gets_clear_4xx(live_stack, body, status, error):
    got_status, got = post_raw(live_stack, body)
    assert (got_status, got["error"]) == (status, error)
    assert got["message"]


def test_control_characters_are_cleaned(live_stack):
    [msg] = say(live_stack, "住民票\x00\x07の\x1b取り方")
    assert msg["custom"]["type"] in ("answer", "clarify")


def test_concurrent_residents_and_server_keeps_serving(live_stack):
    texts = ["住民票", "粗大ごみを出したい", "今日の天気は？", "国保に入りたい", "😀", "スプレー缶"] * 4
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda t: say(live_stack, t), texts))
    assert all(r and r[0]["custom"]["type"] for r in results)
    [msg] = say(live_stack, "住民票ってどこでもらえるの？")
    assert msg["custom"]["faq_id"] == "juminhyo-get"


def test_handoff_queue_and_cancel(live_stack):
    sender = uuid.uuid4().hex
    say(live_stack, "粗大ごみの出し方を教えて", sender)
    [msg] = say(live_stack, "人と話したい", sender)
    assert msg["custom"]["type"] == "handoff" and msg["custom"]["status"] == "queued"
    assert msg["custom"]["department"]["id"] == "gomi"
    [msg] = say(live_stack, "/handoff_cancel", sender)
    assert msg["custom"]["status"] == "cancelled"


def test_leave_a_message_creates_a_ticket(live_stack):
    sender = uuid.uuid4().hex
    [ask] = say(live_stack, "/leave_message", sender)
    assert ask["custom"]["status"] == "ask_ticket_question"
    [done] = say(live_stack, "住民税を分けて払う相談をしたいです", sender)
    assert done["custom"]["status"] == "ticket_created" and done["custom"]["ticket_id"]
    [after] = say(live_stack, "住民票ってどこでもらえるの？", sender)
    assert after["custom"]["type"] == "answer"


def test_urgent_words_get_numbers_first(live_stack):
    msgs = say(live_stack, "子どもが虐待されているかもしれません")
    assert msgs[0]["custom"]["status"] == "emergency"
    assert "119番" in msgs[0]["text"] or "110番" in msgs[0]["text"]


def test_urgent_word_in_an_everyday_question_gets_numbers_then_the_answer(live_stack):
    msgs = say(live_stack, "火事で焼けたソファーを捨てたい。粗大ごみの出し方を教えてください")
    assert msgs[0]["custom"]["status"] == "emergency"
    assert msgs[1]["custom"]["type"] == "answer" and msgs[1]["custom"]["faq_id"] == "gomi-sodai-apply"
