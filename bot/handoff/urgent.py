"""Urgent words: messages that get emergency and consultation numbers at once.

Life, abuse, violence and fire cannot wait for an FAQ or a queue. Detection is a plain
word list (configurable in config.yml, component FaqRetriever ``urgent_words``); a false
alarm costs a resident one extra message, a miss can cost much more.
"""

from __future__ import annotations

import re
import unicodedata

DEFAULT_URGENT_WORDS = (
    "虐待", "ぎゃくたい", "自殺", "じさつ", "死にたい", "しにたい", "消えたい", "殺される", "殺す",
    "DV", "ＤＶ", "暴力", "殴られ", "叩かれ", "たたかれ", "ストーカー", "火事", "火災が", "火災です", "燃えている",
    "煙が", "救急", "倒れて", "意識がない", "息をしていない", "けいれん", "大けが", "溺れ", "助けて",
)


def find_urgent(text: str, words: tuple[str, ...] | list[str] = DEFAULT_URGENT_WORDS) -> str | None:
    """The first urgent word found in the text, or None."""
    t = unicodedata.normalize("NFKC", text)
    for w in words:
        w_n = unicodedata.normalize("NFKC", w)
        if re.fullmatch(r"[A-Za-z]+", w_n):
            if re.search(rf"(?<![A-Za-z]){re.escape(w_n)}(?![A-Za-z])", t, re.IGNORECASE):
                return w
        elif w_n in t:
            return w
    return None
