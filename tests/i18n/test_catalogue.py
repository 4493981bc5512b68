"""The catalogue: every language has every key of ja.yml with the same placeholders."""

from __future__ import annotations

import pytest

from bot.i18n.catalogue import Catalogue, catalogue, placeholders
from bot.i18n.languages import LANGUAGES


def test_every_language_has_a_catalogue():
    assert set(catalogue().messages) == set(LANGUAGES)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_same_keys_and_placeholders_as_japanese(language):
    ja, other = catalogue().messages["ja"], catalogue().messages[language]
    assert set(other) == set(ja)
    for key, template in ja.items():
        assert placeholders(other[key]) == placeholders(template), f"{language}: {key}"
        assert other[key].strip(), f"{language}: {key} is empty"


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"ja"}))
def test_translated_texts_differ_from_japanese(language):
    ja, other = catalogue().messages["ja"], catalogue().messages[language]
    same = [k for k in ja if other[k] == ja[k] and not k.startswith(("contact.", "date.", "clarify.none"))]
    # やさしい日本語 keeps plain words that are already easy (「やめる」).
    allowed = {"button.cancel", "widget.you", "widget.bot", "widget.phone", "widget.feedbackYes", "widget.feedbackNo",
               "widget.queueAhead", "widget.easyJapanese", "widget.furigana", "widget.language"} if language == "ja-easy" else set()
    assert set(same) <= allowed, same


def test_weekday_lists_have_seven_days():
    for language, messages in catalogue().messages.items():
        assert len(messages["date.weekdays"].split(",")) == 7, language


def test_missing_key_falls_back_to_japanese():
    c = Catalogue({"ja": {"a": "日本語 {x}"}, "vi": {}})
    assert c.text("vi", "a", x=1) == "日本語 1"
    with pytest.raises(KeyError, match="no text 'b'"):
        c.text("vi", "b")
