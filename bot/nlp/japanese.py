"""Japanese text analysis with SudachiPy: morphemes with exact offsets and index terms.

Pure library code: no Rasa imports. The Rasa tokenizer component and the FAQ index both
use :class:`JapaneseAnalyzer`, so training, live answers and `bot rank` see the same terms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from bot.errors import ConfigError

SPLIT_MODES = ("A", "B", "C")

# Sudachi raises on inputs over 49,149 bytes; we analyse long texts in chunks well below.
_MAX_CHUNK_CHARS = 4000
_CHUNK_BREAK = re.compile(r"[。．.!！?？\n]")

# Parts of speech whose words carry the meaning of a question.
CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞", "代名詞", "接尾辞", "副詞"})
# Parts of speech that are never tokens of their own (no text to show or match).
_SKIP_POS = frozenset({"空白"})

# Words that appear in almost every question and say nothing about its topic.
STOP_TERMS = frozenset(
    """
    する 為る ある 有る いる 居る なる 成る できる 出来る 教える 知る 分かる 解る 判る
    思う 言う いう 良い いい よい くださる 下さる 頂く いただく 願う 欲しい ほしい
    れる られる せる させる 致す いたす 申す おる 居る 下さい ください
    こと 事 もの 物 の ん ため 為 よう 様 とき 時 方 かた ほう ところ 所 件 感じ
    これ それ あれ この その あの 私 わたし 僕 自分 うち 今 今日 すみません 済む
    コト モノ ノ ン タメ ヨウ トキ ホウ カタ トコロ ケン スミマセン ドウ ドウヤッテ
    """.split()
)

_HIRA_TO_KATA = {code: code + 0x60 for code in range(ord("ぁ"), ord("ゖ") + 1)}
_KATA_TO_HIRA = {kata: hira for hira, kata in _HIRA_TO_KATA.items()}
_KANA_ONLY = re.compile(r"^[\u3041-\u3096\u30a1-\u30fcー]+$")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]")
_HAS_WORD_CHAR = re.compile(r"[\w\u3040-\u30ff\u3400-\u9fff]", re.UNICODE)


def to_katakana(text: str) -> str:
    """Hiragana to katakana; other characters unchanged."""
    return text.translate(_HIRA_TO_KATA)


def to_hiragana(text: str) -> str:
    """Katakana to hiragana; other characters unchanged."""
    return text.translate(_KATA_TO_HIRA)


def clean_text(text: str) -> str:
    """Replace control characters (except tab/newline) by spaces; keeps the length."""
    return _CONTROL.sub(" ", text)


def has_meaningful_text(text: str) -> bool:
    """True when the text has at least one letter, digit, kana or kanji."""
    return bool(_HAS_WORD_CHAR.search(unicodedata.normalize("NFKC", text)))


@dataclass(frozen=True)
class Morpheme:
    """One word as Sudachi sees it, with offsets into the original text."""

    surface: str
    start: int
    end: int
    normalized: str
    reading: str
    pos: str

    @property
    def is_content(self) -> bool:
        return self.pos in CONTENT_POS


@lru_cache(maxsize=4)
def _sudachi_tokenizer(split_mode: str, dict_name: str):  # pragma: no cover - trivial
    from sudachipy import dictionary, tokenizer

    mode = getattr(tokenizer.Tokenizer.SplitMode, split_mode)
    sudachi_dict = dictionary.Dictionary(dict=dict_name)
    create = getattr(sudachi_dict, "tokenizer", None) or sudachi_dict.create
    return create(mode)


def _chunks(text: str) -> Iterable[tuple[int, str]]:
    """Split text into pieces Sudachi accepts, preferably after sentence ends."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _MAX_CHUNK_CHARS)
        if end < len(text):
            breaks = [m.end() for m in _CHUNK_BREAK.finditer(text, start + 1, end)]
            if breaks:
                end = breaks[-1]
        yield start, text[start:end]
        start = end


@lru_cache(maxsize=4096)
def _cached_morphemes(split_mode: str, dict_name: str, text: str) -> tuple[Morpheme, ...]:
    return tuple(JapaneseAnalyzer(split_mode, dict_name)._analyse(text))


class JapaneseAnalyzer:
    """Tokenizes Japanese with SudachiPy and derives normalised index terms.

    Args:
        split_mode: Sudachi split mode "A" (short units), "B" or "C" (long units).
        dict_name: Sudachi system dictionary ("core" = sudachidict-core).
    """

    def __init__(self, split_mode: str = "A", dict_name: str = "core") -> None:
        if split_mode not in SPLIT_MODES:
            raise ConfigError(
                f"split_mode must be one of {', '.join(SPLIT_MODES)}; got {split_mode!r}",
                hint="use A (short units, best for search), B or C",
            )
        self.split_mode = split_mode
        self.dict_name = dict_name

    def morphemes(self, text: str) -> list[Morpheme]:
        """Morphemes of ``text``; offsets index into ``text`` itself.

        Whitespace and zero-width morphemes (Sudachi expands ㍿ into two) are dropped.
        Short texts are cached: the tokenizer component and the FAQ retriever analyse
        the same message, and residents ask the same short questions again and again.
        """
        if not text:
            return []
        if len(text) <= 200:
            return list(_cached_morphemes(self.split_mode, self.dict_name, text))
        return self._analyse(text)

    def _analyse(self, text: str) -> list[Morpheme]:
        tokenizer = _sudachi_tokenizer(self.split_mode, self.dict_name)
        cleaned = clean_text(text)
        result: list[Morpheme] = []
        for offset, chunk in _chunks(cleaned):
            for m in tokenizer.tokenize(chunk):
                begin, end = m.begin(), m.end()
                pos = m.part_of_speech()[0]
                if end <= begin or pos in _SKIP_POS:
                    continue
                surface = text[offset + begin : offset + end]
                if not surface.strip():
                    continue
                result.append(
                    Morpheme(
                        surface=surface,
                        start=offset + begin,
                        end=offset + end,
                        normalized=m.normalized_form(),
                        reading=m.reading_form(),
                        pos=pos,
                    )
                )
        return result

    @staticmethod
    def term(m: Morpheme) -> str:
        """The index term of a morpheme: Sudachi's normalised form, kana unified.

        Kana-only words are compared by reading (ごみ = ゴミ); everything is NFKC and
        lower-cased so that full-width and half-width forms meet.
        """
        form = unicodedata.normalize("NFKC", m.normalized or m.surface).lower()
        if _KANA_ONLY.match(form):
            form = to_katakana(form)
        return form

    def content_terms(self, text: str) -> list[str]:
        """Normalised content words of ``text``, stop words removed, in order."""
        terms = []
        for m in self.morphemes(text):
            if not m.is_content:
                continue
            t = self.term(m)
            if t and t not in STOP_TERMS and has_meaningful_text(t):
                terms.append(t)
        return terms

    def reading(self, text: str) -> str:
        """The text as one katakana reading string, symbols removed (じゅうみんひょう = 住民票)."""
        parts = []
        for m in self.morphemes(text):
            if m.pos == "補助記号":
                continue
            r = m.reading if m.reading and m.reading != "キゴウ" else m.surface
            parts.append(to_katakana(unicodedata.normalize("NFKC", r).lower()))
        return "".join(parts)

    def analyse(self, text: str) -> tuple[list[str], str]:
        """Content terms and reading in one Sudachi pass (the hot path of search)."""
        terms: list[str] = []
        parts: list[str] = []
        for m in self.morphemes(text):
            if m.pos == "補助記号":
                continue
            r = m.reading if m.reading and m.reading != "キゴウ" else m.surface
            parts.append(to_katakana(unicodedata.normalize("NFKC", r).lower()))
            if m.is_content:
                t = self.term(m)
                if t and t not in STOP_TERMS and has_meaningful_text(t):
                    terms.append(t)
        return terms, "".join(parts)
