"""Reply contract → LINE messages, within LINE's limits (checked by the fake platform's rules)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.line.messages import (
    MAX_TEXT_CHARS,
    batches,
    flex_answer,
    from_bot_messages,
    line_length,
    safe_uri,
    split_text,
    truncate,
)
from tests.fakes.line_platform import check_message, check_messages

CLARIFY = {
    "text": "もしかして、次のどれかですか？ 当てはまるものを選んでください。",
    "buttons": [
        {"title": "粗大ごみの出し方を教えてください。", "payload": '/choose_faq{"faq_id": "gomi-sodai"}'},
        {"title": "ごみの収集日はどうやって調べればよいですか。", "payload": '/choose_faq{"faq_id": "gomi-calendar"}'},
        {"title": "どれでもない", "payload": "/none_of_these"},
    ],
    "custom": {"type": "clarify", "faq_id": None, "confidence": 0.3,
               "candidates": [{"faq_id": "gomi-sodai", "question": "粗大ごみの出し方を教えてください。", "score": 0.3},
                              {"faq_id": "gomi-calendar", "question": "ごみの収集日はどうやって調べればよいですか。", "score": 0.28}]},
}


def answer(text="市民課の窓口で取れます。\nお問い合わせ：市民課（電話 0000-00-1111）", url=None):
    if url:
        text += f"\n詳しくは: {url}"
    return {"text": text, "custom": {"type": "answer", "faq_id": "juminhyo-where", "confidence": 0.8, "candidates": [],
                                     "question": "住民票の写しはどこで取れますか。", "url": url}}


def valid(messages):
    assert check_messages(messages) == [], check_messages(messages)
    return messages


def test_clarify_candidates_become_quick_reply_postbacks_and_are_listed_in_full():
    [msg] = valid(from_bot_messages([CLARIFY]))
    assert msg["text"].splitlines()[1:] == ["1. 粗大ごみの出し方を教えてください。", "2. ごみの収集日はどうやって調べればよいですか。"]
    actions = [i["action"] for i in msg["quickReply"]["items"]]
    assert [a["data"] for a in actions] == [b["payload"] for b in CLARIFY["buttons"]]
    assert actions[0]["label"] == "1. 粗大ごみの出し方を教えてください。"  # exactly 20: kept whole
    assert actions[1]["label"] == "2. ごみの収集日はどうやって調べれば…" and line_length(actions[1]["label"]) == 20
    assert actions[0]["displayText"] == "粗大ごみの出し方を教えてください。"
    assert actions[2] == {"type": "postback", "label": "どれでもない", "data": "/none_of_these", "displayText": "どれでもない"}


def test_answer_without_url_is_text_with_feedback_buttons():
    [msg] = valid(from_bot_messages([answer()]))
    assert msg["type"] == "text" and msg["text"].startswith("市民課の窓口で取れます。")
    assert [i["action"]["data"] for i in msg["quickReply"]["items"]] == ["/feedback_positive", "/feedback_negative"]


def test_answer_with_url_becomes_a_flex_bubble_with_a_link_button():
    url = "https://www.city.sample.example.jp/juminhyo"
    [msg] = valid(from_bot_messages([answer(url=url)]))
    assert msg["type"] == "flex"
    body = msg["contents"]["body"]["contents"]
    assert body[0]["text"] == "住民票の写しはどこで取れますか。"
    assert url not in body[1]["text"] and body[1]["text"].startswith("市民課の窓口で取れます。")
    assert msg["contents"]["footer"]["contents"][0]["action"] == {"type": "uri", "label": "詳しく見る", "uri": url}
    assert msg["altText"].startswith("市民課の窓口で取れます。")
    assert "quickReply" in msg


def test_long_answer_with_url_falls_back_to_text_and_a_buttons_template():
    url = "https://www.city.sample.example.jp/long"
    messages = valid(from_bot_messages([answer(text="説明です。" * 1200, url=url)]))
    assert [m["type"] for m in messages] == ["text", "text", "template"]
    assert messages[-1]["template"]["actions"][0]["uri"] == url
    assert "quickReply" in messages[-1] and "quickReply" not in messages[0]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://x", "https://a b", "", None, 3, "https://x/" + "a" * 1000])
def test_unsafe_urls_give_plain_text(url):
    assert safe_uri(url) is None
    msg = answer()
    msg["custom"]["url"] = url
    assert [m["type"] for m in valid(from_bot_messages([msg]))] == ["text"]


def test_long_text_is_split_within_limits_and_sent_in_calls_of_five():
    text = ("とても長い回答です。" * 60 + "\n") * 50  # 30,550 characters
    messages = from_bot_messages([{"text": text, "custom": {"type": "staff", "staff_name": "田中"}}])
    assert len(messages) == 7
    assert all(line_length(m["text"]) <= MAX_TEXT_CHARS for m in messages)
    assert "".join(m["text"] for m in messages) == text.strip()
    calls = batches(messages)
    assert [len(c) for c in calls] == [5, 2]
    for call in calls:
        valid(call)
    assert all(m["sender"] == {"name": "田中（職員）"} for m in messages)


def test_buttons_of_every_message_end_up_on_the_last_one():
    msgs = [{"text": "担当者におつなぎします。", "buttons": [{"title": "担当者と話したい", "payload": "/request_human"}], "custom": {"type": "cannot_answer"}},
            {"text": "ほかにご質問はありますか。", "custom": {"type": "smalltalk"}}]
    out = valid(from_bot_messages(msgs))
    assert "quickReply" not in out[0]
    assert out[1]["quickReply"]["items"][0]["action"]["data"] == "/request_human"


def test_at_most_thirteen_quick_replies_and_bad_payloads_are_dropped():
    buttons = [{"title": f"選択肢{i}", "payload": f"/x{i}"} for i in range(20)]
    buttons += [{"title": "長すぎ", "payload": "/" + "x" * 300}, {"title": "", "payload": "/y"}, {"title": "z", "payload": None}]
    [msg] = valid(from_bot_messages([{"text": "選んでください", "buttons": buttons}]))
    assert len(msg["quickReply"]["items"]) == 13


def test_messages_without_text_or_buttons_are_skipped():
    assert from_bot_messages([{"custom": {"type": "answer"}}, {"text": "  "}]) == []


def test_flex_refuses_oversized_answers():
    assert flex_answer("q", "あ" * 2001, "https://x.example/") is None


def test_truncate_counts_utf16_units():
    assert truncate("😀" * 15, 20) == "😀" * 9 + "…"
    assert line_length(truncate("😀" * 15, 20)) <= 20
    assert truncate("短い", 20) == "短い"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("あいう。、\n 😀abc！？")), max_size=600), st.integers(min_value=2, max_value=80))
def test_split_text_keeps_everything_and_respects_the_limit(text, limit):
    pieces = split_text(text, limit)
    assert "".join(pieces) == text
    assert all(p and line_length(p) <= limit for p in pieces)


def test_split_text_prefers_sentence_and_line_ends():
    text = "一文目です。" * 10 + "\n" + "二段落目です。" * 10
    pieces = split_text(text, 70)
    assert pieces[0].endswith("\n") and pieces[1].startswith("二段落目")
    assert all(p.endswith(("。", "\n")) for p in pieces)


def test_fake_platform_rules_catch_violations():
    # The fake's checks are independent of the builder: make sure they bite.
    assert check_message({"type": "text", "text": "あ" * 5001}, "m")
    assert check_message({"type": "text", "text": "x", "quickReply": {"items": [
        {"type": "action", "action": {"type": "postback", "label": "あ" * 21, "data": "d"}}]}}, "m")
    assert check_messages([{"type": "text", "text": "x"}] * 6)
