"""Furigana from Sudachi's readings: kanji only, aligned around kana; never on numbers or letters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from bot.i18n.furigana import _align, furigana


def test_readings_only_over_kanji_aligned_around_okurigana():
    assert _align("申し込み", "モウシコミ") == [("申", "もう"), ("し", ""), ("込", "こ"), ("み", "")]
    assert _align("本庁舎", "ホンチョウシャ") == [("本庁舎", "ほんちょうしゃ")]
    assert _align("取れ", "トレ") == [("取", "と"), ("れ", "")]


@pytest.mark.parametrize("surface, reading", [("ごみ", "ゴミ"), ("マイナンバー", "マイナンバー"), ("PIN", "ピン"),
                                              ("300", "サンビャク"), ("1通", "イッツウ"), ("々", "キゴウ")])
def test_no_reading_for_kana_letters_numbers_and_symbols(surface, reading):
    assert _align(surface, reading) == [(surface, "")]


def test_unalignable_reading_is_left_out_rather_than_wrong():
    assert _align("取れ", "トル") == [("取れ", "")]


def test_a_whole_answer():
    segments = furigana("本庁舎1階の市民課で取れます。手数料は1通300円です。詳しくは: https://www.example.jp/a?b=1")
    assert segments == [
        ("本庁舎", "ほんちょうしゃ"), ("1", ""), ("階", "かい"), ("の", ""), ("市民", "しみん"), ("課", "か"), ("で", ""),
        ("取", "と"), ("れます。", ""), ("手数料", "てすうりょう"), ("は1", ""), ("通", "つう"), ("300", ""), ("円", "えん"),
        ("です。", ""), ("詳", "くわ"), ("しくは: https://www.example.jp/a?b=1", "")]


def test_latin_and_kana_words_stay_plain():
    assert furigana("マイナンバーカードの PIN を忘れました") == [
        ("マイナンバーカードの PIN を", ""), ("忘", "わす"), ("れました", "")]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="住民票の写しは1通300円です。ごみマイナンバーABCＡＢＣ１２３ 　\n申し込み取れます々〆ヶ", max_size=40))
def test_segments_give_the_text_back_and_never_annotate_digits_or_letters(text):
    segments = furigana(text)
    assert "".join(s for s, _ in segments) == text
    for surface, reading in segments:
        if reading:
            assert not any(ch.isdigit() or ch.isascii() for ch in surface)
            assert all("\u3041" <= ch <= "\u3096" or ch == "ー" for ch in reading)
