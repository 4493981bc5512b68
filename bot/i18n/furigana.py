"""Furigana for Japanese text, from Sudachi's readings, as (text, reading) segments.

The web widget turns the segments into ``<ruby>`` markup (its 「ふりがな」 switch). Only
the kanji of a word get a reading, aligned around its kana (申し込み → 申(もう)し込(こ)み);
numbers, Latin letters, kana-only words and symbols never do, and a word whose reading
cannot be aligned is left without one rather than shown with a wrong one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.nlp.japanese import JapaneseAnalyzer, to_hiragana

SPLIT_MODE = "C"  # long units: compounds are read as a whole (本庁舎 → ほんちょうしゃ)
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ"
_KANJI_RUN = re.compile(f"([{_KANJI}]+)")
_HAS_KANJI = re.compile(f"[{_KANJI}]")
_KANA = re.compile(r"^[\u3041-\u3096\u30a1-\u30fcー]+$")

Segment = tuple[str, str]  # (text, reading); reading "" = shown as is


def _align(surface: str, reading: str) -> list[Segment]:
    """Readings for the kanji runs of one word; [(surface, "")] when they cannot be aligned."""
    if not _HAS_KANJI.search(surface):
        return [(surface, "")]
    reading = to_hiragana(reading)
    if reading == "きごう" and len(surface) == 1:  # Sudachi reads a lone symbol (々, 〆) as 「記号」
        return [(surface, "")]
    if not reading or _HAS_KANJI.search(reading) or not _KANA.match(reading):
        return [(surface, "")]
    parts = [p for p in _KANJI_RUN.split(surface) if p]
    pattern = ""
    for part in parts:
        if _HAS_KANJI.search(part):
            pattern += "(.+?)"
        elif _KANA.match(part):
            pattern += re.escape(to_hiragana(part))
        else:
            return [(surface, "")]  # digits or letters inside the word: their reading is not theirs to show
    match = re.fullmatch(pattern, reading)
    if match is None:
        return [(surface, "")]
    readings = iter(match.groups())
    return [(part, next(readings)) if _HAS_KANJI.search(part) else (part, "") for part in parts]


@lru_cache(maxsize=1)
def _analyzer() -> JapaneseAnalyzer:
    return JapaneseAnalyzer(SPLIT_MODE)


def furigana(text: str, analyzer: JapaneseAnalyzer | None = None) -> list[Segment]:
    """``text`` as segments; joined, the segments' texts give ``text`` back exactly."""
    analyzer = analyzer or _analyzer()
    segments: list[Segment] = []
    pos = 0
    for m in analyzer.morphemes(text):
        if m.start > pos:
            segments.append((text[pos:m.start], ""))
        segments.extend(_align(text[m.start:m.end], m.reading))
        pos = m.end
    if pos < len(text):
        segments.append((text[pos:], ""))
    merged: list[Segment] = []
    for seg in segments:  # plain neighbours joined: fewer nodes, and links stay whole
        if merged and not seg[1] and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + seg[0], "")
        else:
            merged.append(seg)
    return merged


def needs_furigana(text: str) -> bool:
    return bool(_HAS_KANJI.search(text or ""))
