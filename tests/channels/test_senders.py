"""Sender-id forms per channel (bot.channels.senders): what each channel accepts at the edge."""

from __future__ import annotations

import uuid

import pytest

from bot.channels.common import InputRejected
from bot.channels.line import user_id_from_sender
from bot.channels.senders import is_line_user_id, looks_like_personal_data, rest_sender


@pytest.mark.parametrize("sender", ["resident-1", "a", "run-test", "me", "A_b-9", uuid.uuid4().hex, "x" * 128,
                                    "web-" + "ab" * 16, "case-20261201"])
def test_rest_accepts_plain_ids(sender):
    assert rest_sender(sender) == sender


def test_rest_accepts_every_random_hex_id():
    # uuid4().hex is what clients (and this suite) use: digits glued to hex letters are
    # never a phone number, whatever the random draw.
    for _ in range(2000):
        sender = uuid.uuid4().hex
        assert rest_sender(sender) == sender
    assert rest_sender("0901234567ab" + "c" * 20)  # starts with ten digits, glued to a letter


@pytest.mark.parametrize(
    "sender",
    ["p2-att/../p2-victim-X", "../p2-victim", "a/b", "a%2Fb", "a b", "line:U" + "1" * 32, "a.b", "a?b=c", "a#b",
     "-leading-hyphen", "x" * 129, "ａｂｃ", "住民1"],
)
def test_rest_refuses_ids_that_are_not_one_plain_segment(sender):
    with pytest.raises(InputRejected) as err:
        rest_sender(sender)
    assert (err.value.code, err.value.status) == ("invalid_sender", 400)
    assert "英数字" in err.value.message or "128文字以内" in err.value.message


@pytest.mark.parametrize(
    "sender",
    ["taro.yamada@example.jp", "taro@example", "taro＠example.jp", "taro.yamada at example dot jp",
     "090-1234-5678", "09012345678", "tel_090_1234_5678", "resident-0312345678", "123456789018", "1234-5678-9018"],
)
def test_rest_refuses_ids_that_carry_personal_data(sender):
    with pytest.raises(InputRejected) as err:
        rest_sender(sender)
    assert err.value.code == "invalid_sender"
    assert "個人情報" in err.value.message


@pytest.mark.parametrize("sender, expected", [
    ("090-1234-5678", True), ("x_0312345678", True), ("123456789012", True),
    ("1234567890", False),  # ten digits not starting with 0: not a Japanese phone number
    ("ab0901234567890cd", False), ("resident-1", False), ("case-20261201", False),
])
def test_personal_data_in_sender_ids(sender, expected):
    assert looks_like_personal_data(sender) is expected


def test_line_accepts_only_line_user_ids():
    good = "U" + "0123456789abcdef" * 2
    assert is_line_user_id(good)
    for bad in ["U" + "1" * 31, "U" + "1" * 33, "u" + "1" * 32, "U" + "A" * 32, "U" + "1" * 31 + "/", None, 5]:
        assert not is_line_user_id(bad)
    assert user_id_from_sender("line:" + good) == good
    assert user_id_from_sender("line:" + "U1/../" + "1" * 28) is None
    assert user_id_from_sender("resident-1") is None


def test_line_events_with_other_user_ids_are_not_answered():
    from bot.line.events import WebhookRejected, parse_event, parse_webhook_body
    from tests.fakes.line_platform import FakeLinePlatform

    platform = FakeLinePlatform()
    for bad in ["U" + "1" * 31 + "/", "U1/../" + "1" * 28, "Uabc", "U" + "F" * 32]:
        raw = platform.text_event("U" + "5" * 32, "住民票")
        raw["source"]["userId"] = bad
        assert parse_event(raw).source.user_id is None
    with pytest.raises(WebhookRejected) as err:
        parse_webhook_body(b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    assert err.value.code == "invalid_json" and "入れ子" in err.value.message
