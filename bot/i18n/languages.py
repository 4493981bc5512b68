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

    @property
    def is_japanese(self) -> bool:
        return self.html_lang == JA


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language(JA, "日本語", "ja"),
        Language(JA_EASY, "やさしい日本語", "ja"),
        Language(EN, "English", "en"),
        Language(ZH_HANS, "简体中文", "zh-Hans"),
        Language(KO, "한국어", "ko"),
        Language(VI, "Tiếng Việt", "vi"),
        Language(PT_BR, "Português (Brasil)", "pt-BR"),
        Language(FIL, "Filipino", "fil"),
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


def is_japanese(code: str | None) -> bool:
    return code in (JA, JA_EASY)
