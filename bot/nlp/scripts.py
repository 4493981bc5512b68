"""Which writing system a text is in: kana, han (kanji / hanzi), hangul, or latin.

Pure and cheap; used by language detection (bot/i18n/detect.py) and by the FAQ index,
whose word signals only mean something for text in the scripts its questions are
written in (bot/knowledge/index.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

SCRIPTS = ("kana", "han", "hangul", "latin")


def script_counts(text: str) -> dict[str, int]:
    """Letters of each script in ``text`` (digits, symbols and spaces not counted)."""
    counts = dict.fromkeys(SCRIPTS, 0)
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0xFF66 <= code <= 0xFF9D:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["han"] += 1
        elif 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif ch.isalpha():
            counts["latin"] += 1
    return counts


def japanese_share(text: str) -> Optional[float]:
    """The share of ``text``'s letters that are kana or kanji (None: no letters at all)."""
    counts = script_counts(text)
    total = sum(counts.values())
    return (counts["kana"] + counts["han"]) / total if total else None


def main_scripts(texts: Iterable[str], min_share: float = 0.05) -> frozenset[str]:
    """The scripts that at least ``min_share`` of ``texts`` are mostly written in (kana and
    han count as one: Japanese)."""
    mostly: Counter = Counter()
    n = 0
    for text in texts:
        n += 1
        counts = script_counts(text)
        counts["kana"] += counts.pop("han")
        top = max(counts.items(), key=lambda kv: kv[1])
        if top[1]:
            mostly[top[0]] += 1
    return frozenset(s for s, c in mostly.items() if n and c / n >= min_share)
