"""X-Line-Signature verification and webhook body parsing (pure)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.line.events import RecentEventIds, WebhookRejected, parse_event, parse_webhook_body
from bot.line.signature import sign, verify
from tests.fakes.line_platform import FakeLinePlatform

SECRET = "8c570fa6dd201bb328f1c1eac23a96d8"


def test_signature_matches_lines_documented_algorithm():
    # HMAC-SHA256 of the raw body with the channel secret, base64 (computed independently).
    import hashlib
    import hmac

    body = '{"destination":"U1","events":[]}'.encode()
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    assert sign(SECRET, body) == expected
    assert verify(SECRET, body, expected)


@pytest.mark.parametrize(
    "signature",
    [None, "", "not base64 !!", sign("another-secret", b"{}"), sign(SECRET, b"{} "), "A" * 44, "ｓｉｇ"],
)
def test_wrong_missing_or_malformed_signatures_are_refused(signature):
    assert verify(SECRET, b"{}", signature) is False


def test_empty_secret_never_verifies():
    assert verify("", b"{}", sign("", b"{}")) is False


@given(st.binary(max_size=2000), st.binary(min_size=1, max_size=20))
def test_any_change_to_the_body_breaks_the_signature(body, extra):
    signature = sign(SECRET, body)
    assert verify(SECRET, body, signature)
    assert not verify(SECRET, body + extra, signature)


def test_parse_text_event_as_line_documents_it():
    platform = FakeLinePlatform()
    user = "U4af4980629" + "0" * 22
    raw = platform.text_event(user, "粗大ごみの出し方", redelivery=True)
    [event], skipped = parse_webhook_body(platform.body(raw))
    assert skipped == 0
    assert (event.type, event.message_type, event.text) == ("message", "text", "粗大ごみの出し方")
    assert event.source.user_id == user and event.source.is_one_to_one
    assert event.reply_token == raw["replyToken"] and event.webhook_event_id == raw["webhookEventId"]
    assert event.is_redelivery is True and event.timestamp_ms == raw["timestamp"] and not event.is_standby


def test_location_keeps_no_address_or_coordinates():
    platform = FakeLinePlatform()
    event = parse_event(platform.location_event("U" + "1" * 32))
    assert event.message_type == "location"
    kept = json.dumps([str(v) for v in vars(event).values()], ensure_ascii=False)
    # 139.0 is the longitude; random ids may contain the digits "139", so look for "139.0".
    assert "中央9丁目" not in kept and "139.0" not in kept and "35.0" not in kept and "自宅" not in kept
    assert event.text is None


def test_group_postback_and_verify_button_events():
    platform = FakeLinePlatform()
    join = parse_event(platform.join_event("C" + "a" * 32))
    assert join.source.type == "group" and join.source.group_id == "C" + "a" * 32 and not join.source.is_one_to_one
    postback = parse_event(platform.postback_event("U" + "2" * 32, '/choose_faq{"faq_id": "x"}'))
    assert postback.postback_data == '/choose_faq{"faq_id": "x"}'
    # The console's "Verify" button sends a dummy reply token: never use it.
    verify_event = parse_event({**platform.text_event("U" + "3" * 32, "hi"), "replyToken": "0" * 32})
    assert verify_event.reply_token is None


@pytest.mark.parametrize(
    "body, code",
    [(b"", "invalid_json"), (b"{not json", "invalid_json"), (b"\xff\xfe", "invalid_json"), (b"[]", "invalid_body"),
     (b'{"events": {}}', "invalid_body"), (b'{"destination": "U1"}', "invalid_body"), (b"null", "invalid_body")],
)
def test_malformed_bodies_are_rejected_with_a_code(body, code):
    with pytest.raises(WebhookRejected) as exc:
        parse_webhook_body(body)
    assert exc.value.code == code and exc.value.status == 400


def test_elements_that_are_not_events_are_skipped_not_fatal():
    good = FakeLinePlatform().text_event("U" + "4" * 32, "こんにちは")
    events, skipped = parse_webhook_body(json.dumps({"events": [1, "x", {}, {"type": "message"}, {"type": "message", "source": "U"}, good]}).encode())
    assert skipped == 5 and [e.text for e in events] == ["こんにちは"]


def test_ids_with_odd_characters_are_dropped():
    raw = FakeLinePlatform().text_event("U" + "5" * 32, "x")
    raw["source"]["userId"] = "U123\n../../etc"
    assert parse_event(raw).source.user_id is None


def test_recent_event_ids_detects_redelivery_and_stays_bounded():
    ids = RecentEventIds(capacity=3)
    assert ids.add("a") and ids.add("b") and ids.add("c")
    assert not ids.add("a")  # redelivered; also refreshed as recent
    assert ids.add("d")  # forgets the oldest: b
    assert len(ids) == 3 and "b" not in ids and "a" in ids
    assert ids.add("b")
    with pytest.raises(ValueError):
        RecentEventIds(0)
