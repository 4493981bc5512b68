"""The languages Madoguchi speaks, as constants (never bare strings in code).

``ja`` is the knowledge base's own language; ``ja-easy`` is やさしい日本語, a variant of
Japanese with its own translations. Codes are BCP 47 tags, so they can go straight into
an HTML ``lang`` attribute (except ``ja-easy``, which is Japanese to a browser).
"""

from __future__ import annotations

from dataclasses import dataclass

JA = "ja"
JA_EASY = "ja-easy"
EN = "en"
ZH_HANS = "zh-Hans"
KO = "ko"
VI = "vi"
PT_BR = "pt-BR"
FIL = "fil"


@dataclass(frozen=True)
class Language:
    """One supported language."""

    code: str  # as in knowledge/i18n/<code>/ and in replies' custom.language
    name: str  # its own name, shown in language menus
    html_lang: str  # the lang attribute of text in this language
    staff_label: str  # its name for city staff (console, review), in Japanese

    @property
    def is_japanese(self) -> bool:
        return self.html_lang == JA


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language(JA, "日本語", "ja", "日本語"),
        Language(JA_EASY, "やさしい日本語", "ja", "やさしい日本語"),
        Language(EN, "English", "en", "英語"),
        Language(ZH_HANS, "简体中文", "zh-Hans", "中国語（簡体字）"),
        Language(KO, "한국어", "ko", "韓国語"),
        Language(VI, "Tiếng Việt", "vi", "ベトナム語"),
        Language(PT_BR, "Português (Brasil)", "pt-BR", "ポルトガル語（ブラジル）"),
        Language(FIL, "Filipino", "fil", "フィリピノ語"),
    )
}
DEFAULT = JA
# Languages that knowledge/i18n/ holds translations for (Japanese is the source).
TRANSLATED = tuple(code for code in LANGUAGES if code != JA)


def is_supported(code: object) -> bool:
    return isinstance(code, str) and code in LANGUAGES


def html_lang(code: str | None) -> str:
    """The HTML lang attribute for a language code (unknown: Japanese)."""
    return LANGUAGES[code].html_lang if code in LANGUAGES else JA


# Rows written before the language was recorded (hand-offs, tickets, the review log).
UNKNOWN_STAFF_LABEL = "不明"


def supported_or_none(code: object) -> str | None:
    """``code`` when it is a supported language, else None (what the stores keep)."""
    return code if is_supported(code) else None


def staff_label(code: str | None) -> str:
    """The language's name for city staff (「英語」, 「ベトナム語」); 「不明」 when not recorded."""
    return LANGUAGES[code].staff_label if code in LANGUAGES else UNKNOWN_STAFF_LABEL


def is_japanese(code: str | None) -> bool:
    return code in (JA, JA_EASY)
