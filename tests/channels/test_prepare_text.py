"""prepare_text() removes invisible format characters (zero-width spaces and the like)
before it validates and masks: a message of only these is empty, and they cannot hide
personal data from masking."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.common import InputRejected, prepare_text, remove_format_chars
from bot.privacy.masking import EMAIL, MY_NUMBER, PHONE

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # ZWSP, ZWNJ, ZWJ, word joiner, BOM


@pytest.mark.parametrize("text", [
    *ZERO_WIDTH,
    "".join(ZERO_WIDTH),
    "\u200b" * 500,
    " \u200b\u3000\u200d\n\ufeff\t",  # mixed with spaces, an ideographic space, newline, tab
    "\u00ad\u200e\u202e\u2061",  # soft hyphen, bidi marks, an invisible operator: also format characters
], ids=["zwsp", "zwnj", "zwj", "word-joiner", "bom", "all-five", "500-zwsp", "with-spaces", "other-format"])
def test_a_message_of_only_invisible_characters_is_empty(text):
    with pytest.raises(InputRejected) as rejected:
        prepare_text(text)
    assert (rejected.value.code, rejected.value.status) == ("empty_message", 400)
    assert rejected.value.message == "メッセージが空です。質問を入力してください。"


@pytest.mark.parametrize("text, expected", [
    ("住民票\u200bの取り方", "住民票の取り方"),
    ("\ufeff粗大ごみの出し方\u2060", "粗大ごみの出し方"),
    ("\u200b  ごみ  \u200b", "ごみ"),  # removed first, so the spaces around are stripped too
    ("か\u200b\u3099", "が"),  # removed before NFC: the voiced mark joins its kana
    ("👨\u200d👩\u200d👧", "👨👩👧"),  # an emoji sequence loses its joiners, not its emoji
])
def test_invisible_characters_are_removed_from_text(text, expected):
    assert prepare_text(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("電話は090\u200b4821\u200b7395です", f"電話は{PHONE}です"),
    ("マイナンバーは７３０１\u2060５５８２\ufeff９４６３", f"マイナンバーは{MY_NUMBER}"),
    ("0\u200c3\u200d5\u200b6\u200b1\u200b2\u200b8\u200b4\u200b7\u200b9", PHONE),
    ("sakura\u200b.tanabe@exam\u200dple.org", EMAIL),
    ("番号は1234\u00ad5678\u00ad9012", f"番号は{MY_NUMBER}"),  # soft hyphens
    ("090・4821・7395に電話ください", f"{PHONE}に電話ください"),  # 中黒 between digits is a separator
])
def test_invisible_characters_cannot_hide_personal_data(text, expected):
    assert prepare_text(text) == expected


def test_middle_dots_between_words_are_kept():
    assert prepare_text("固定・携帯どちらでも") == "固定・携帯どちらでも"


def test_the_length_limit_counts_visible_characters():
    assert prepare_text("あ" * 2000 + "\u200b" * 100) == "あ" * 2000
    with pytest.raises(InputRejected) as rejected:
        prepare_text("あ" * 2001 + "\u200b")
    assert (rejected.value.code, rejected.value.status) == ("message_too_long", 413)
    assert "2001文字" in rejected.value.message


def test_exactly_the_format_characters_are_removed():
    """The hard-coded class in common.py is Unicode's category Cf, no more and no less."""
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    format_chars = {c for c in everything if unicodedata.category(c) == "Cf"}
    assert set(ZERO_WIDTH) <= format_chars
    kept = remove_format_chars(everything)
    assert not format_chars & set(kept), "a Cf character is missing from _FORMAT_CHARS in bot/channels/common.py"
    assert len(kept) == len(everything) - len(format_chars), "_FORMAT_CHARS removes a character that is not Cf"


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60) | st.sampled_from(
    ["090-4821-7395", "マイナンバー 4827 1956 3042", "住民票の取り方", "〒197-0824 東京都架空市見本町3丁目14番15号", ""])


@given(_TEXT, st.lists(st.tuples(st.integers(0, 60), st.sampled_from(ZERO_WIDTH)), max_size=10))
def test_inserting_zero_width_characters_changes_nothing(text, insertions):
    noisy = text
    for position, char in insertions:
        position = min(position, len(noisy))
        noisy = noisy[:position] + char + noisy[position:]

    def outcome(value):
        try:
            return prepare_text(value)
        except InputRejected as rejected:
            return rejected.code

    assert outcome(noisy) == outcome(text)
