"""Mask personal data in what a resident typed, before anything stores or logs it.

Called once, at the edge: :func:`bot.channels.common.prepare_text` masks every message
before the ``UserMessage`` reaches Rasa, so the tracker store, the review log, the
hand-off records and every log only ever see masked text.

What is masked (and the placeholder that replaces it):

* e-mail addresses → ［メールアドレス］
* dates of birth: a date in 西暦 or 和暦 after 生年月日／誕生日, or before 生まれ → ［生年月日］
* postal codes (〒123-4567, 123-4567) → ［郵便番号］; with the address after them, and
  street addresses with a house number (…1丁目2番3号, …2番地, 〇〇市…1-2-3) → ［住所］
* 12-digit numbers (マイナンバー), with or without separators → ［マイナンバー］
* phone numbers: 10–11 digits starting with 0 (固定・携帯・050・0120), or +81 → ［電話番号］
* 13–19-digit numbers (credit cards) → ［カード番号］; any other number of 10 or more
  digits → ［番号］

Digits may be full-width (０９０), mathematical (𝟎𝟗𝟎) or of any other script (what
Unicode calls a decimal digit, or what NFKC turns into one), or kanji digits in a row
（〇九〇‐一二三四…）, separated by hyphens of any kind (‐－ー…), spaces, dots,
slashes, underscores, commas or parentheses. E-mail addresses may be spelled out
(``taro.yamada at example dot jp``, ``taro［at］example.jp``, ``taro アットマーク example ドット jp``). The rest of the text is kept exactly, so the FAQ search still
works on 「私の電話番号は［電話番号］です。住民票の取り方は？」. Masking is idempotent:
the placeholders contain nothing that is masked again.

Pure code: regular expressions over a same-length "folded" copy of the text (full-width
ASCII to ASCII, every hyphen to ``-``, each character whose NFKC form is one ASCII
character to that character, every decimal digit to its ASCII digit, kanji digits next to
another kanji digit to ASCII digits), so that positions found in the copy replace the original
characters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable, Iterable

EMAIL = "［メールアドレス］"
DATE_OF_BIRTH = "［生年月日］"
POSTAL_CODE = "［郵便番号］"
ADDRESS = "［住所］"
MY_NUMBER = "［マイナンバー］"
PHONE = "［電話番号］"
CARD = "［カード番号］"
NUMBER = "［番号］"

PLACEHOLDERS = (EMAIL, DATE_OF_BIRTH, POSTAL_CODE, ADDRESS, MY_NUMBER, PHONE, CARD, NUMBER)
PLACEHOLDER_PATTERN = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))

# ----------------------------------------------------------------------------- folding
_FOLD: dict[str, str] = {}
for _i in range(10):
    _FOLD[chr(0xFF10 + _i)] = str(_i)
for _i in range(26):
    _FOLD[chr(0xFF21 + _i)] = chr(0x41 + _i)
    _FOLD[chr(0xFF41 + _i)] = chr(0x61 + _i)
for _c in "‐‑‒–—―−－﹣":
    _FOLD[_c] = "-"
_FOLD.update(
    {"\u3000": " ", "\t": " ", "\u00a0": " ", "＠": "@", "．": ".", "＿": "_", "＋": "+", "（": "(", "）": ")",
     "％": "%", "／": "/", "：": ":"}
)
# Long-vowel marks, box lines and 中黒 that residents type as hyphens (090・1234・5678),
# but only between digits (in words they stay what they are: センター, 固定・携帯).
_DASH_BETWEEN_DIGITS = frozenset("ーｰ─━・･")
_ASCII_DIGITS = frozenset("0123456789")
# Kanji digits count as digits only next to another kanji digit (〇九〇, 一二三四): alone they
# are words (一人, 三鷹市, 千代田一丁目 stay as they are for the address rules).
_KANJI_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}


@lru_cache(maxsize=8192)
def _fold_char(c: str) -> str:
    """One character as the patterns read it: ASCII when it is an ASCII character in disguise."""
    if c in _FOLD:
        return _FOLD[c]
    if c.isascii():
        return c
    digit = unicodedata.decimal(c, None)  # 𝟎, ٣, ३ … any script's decimal digit
    if digit is not None:
        return str(digit)
    nfkc = unicodedata.normalize("NFKC", c)  # ①→1, ﹫→@, ․→.
    return nfkc if len(nfkc) == 1 and nfkc.isascii() and nfkc.isprintable() else c


def _fold(text: str) -> str:
    """A copy of ``text`` of the same length that the patterns below read."""
    chars = [_fold_char(c) for c in text]
    n = len(chars)
    for i, c in enumerate(text):
        if c in _KANJI_DIGITS and ((i > 0 and text[i - 1] in _KANJI_DIGITS) or (i + 1 < n and text[i + 1] in _KANJI_DIGITS)):
            chars[i] = _KANJI_DIGITS[c]
    for i in range(1, n - 1):
        if text[i] in _DASH_BETWEEN_DIGITS and chars[i - 1] in _ASCII_DIGITS and chars[i + 1] in _ASCII_DIGITS:
            chars[i] = "-"
    return "".join(chars)


# ----------------------------------------------------------------------------- patterns
_KANJI_NUM = "[一二三四五六七八九十百〇]"
_N = rf"(?:[1-9][0-9]{{0,4}}|{_KANJI_NUM}{{1,4}})"  # a number in an address
_D = r"[1-9][0-9]{0,4}"  # house numbers never start with 0 (phone numbers do)
# Characters of a place name before the house number (kanji, katakana; no hiragana,
# which usually starts a particle: 私は千代田区… keeps 「私は」).
_PLACE_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆〇ヶケ\u30a1-\u30fa\u30fc]"
_PLACE = rf"{_PLACE_CHAR}{{0,20}}"
_ADMIN = "[都道府県市区町村郡]"
_HOUSE_FULL = rf"(?<![0-9]){_N}丁目 ?{_N}(?:番地?|-)(?:{_N}(?:号|-{_D}号?)?)?"  # 1丁目2番3号, 1丁目2-3
_HOUSE_BAN = rf"(?<![0-9])(?:{_N}番地(?:{_N}号?|の{_N}|-{_D})?|{_N}番{_N}号(?:-{_D})?)"  # 12番地3, 2番3号
_HOUSE_HYPHEN = rf"(?<![0-9-]){_D}-{_D}(?:-{_D})?(?![0-9-])"  # 1-2-3, only after a place with 都道府県市区町村
_ROOM = rf"(?: ?[^\s、。,.!?！？「」()]{{0,20}}?{_D}号室)?"
_STOP = r"[^\s、。,!?！？「」()]"

_ADDRESS_TAIL = rf" ?(?:{_STOP}{{0,40}}?(?:{_HOUSE_FULL}|{_HOUSE_BAN}|{_HOUSE_HYPHEN}){_ROOM}|{_PLACE_CHAR}{{1,30}})"
# 〒 and a postal code, with the address after it if there is one; a bare 123-4567 only
# when an address follows (alone, it is left to the number rule, which sees whole runs).
_POSTAL_ADDRESS_RE = re.compile(
    rf"〒 ?[0-9]{{3}}-?[0-9]{{4}}(?![0-9-])(?P<tail>{_ADDRESS_TAIL})?"
    rf"|(?<![0-9-])[0-9]{{3}}-[0-9]{{4}}(?![0-9-])(?P<tail2> ?(?={_PLACE_CHAR}){_ADDRESS_TAIL})"
)
_ADDRESS_RE = re.compile(
    rf"{_PLACE}(?:{_HOUSE_FULL}|{_HOUSE_BAN}){_ROOM}|{_PLACE}{_ADMIN}{_PLACE}{_HOUSE_HYPHEN}{_ROOM}"
)

_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Spelled out: "taro.yamada at example dot jp", "taro[at]example.jp", "taro アットマーク example ドット jp".
_AT_WORD = r"(?:\s*[\[(<{]\s*(?:at|アット)\s*[\])>}]\s*|\s+at\s+|\s*(?:アットマーク|アット|あっとまーく)\s*)"
_DOT_WORD = r"(?:\s*[\[(<{]\s*(?:dot|ドット)\s*[\])>}]\s*|\s+dot\s+|\s*(?:ドット|どっと)\s*|\.)"
_SPELLED_EMAIL_RE = re.compile(
    rf"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*{_AT_WORD}[A-Za-z0-9-]+(?:{_DOT_WORD}[A-Za-z0-9-]+)*{_DOT_WORD}[A-Za-z]{{2,}}(?![A-Za-z0-9])",
    re.IGNORECASE,
)

_KANJI_SMALL = "[一二三四五六七八九十]{1,3}"
_SEIREKI = r"[0-9]{4} ?[年/.-] ?[0-9]{1,2} ?[月/.-] ?[0-9]{1,2}日?|[0-9]{8}(?![0-9])"
_WAREKI = (
    rf"(?:明治|大正|昭和|平成|令和|[MTSHRmtshr]\.?) ?(?:[0-9]{{1,2}}|元|{_KANJI_SMALL}) ?(?:年|[/.-]) ?"
    rf"(?:[0-9]{{1,2}}|{_KANJI_SMALL}) ?(?:月|[/.-]) ?(?:[0-9]{{1,2}}|{_KANJI_SMALL})日?"
)
_DATE = rf"(?:{_WAREKI}|{_SEIREKI})"
_BIRTH_KEY = "(?:生年月日|誕生日|生まれた日|たんじょうび|せいねんがっぴ)"
_BIRTH_RE = re.compile(
    rf"{_BIRTH_KEY}[^0-9\n。]{{0,8}}?(?P<date>{_DATE})|(?P<date2>{_DATE}) ?生(?:まれ)?"
)

# A run of digits with separators between them (hyphens, dots, spaces, parentheses,
# slashes, underscores, commas: 090/1234/5678, 090_1234_5678, 1234,5678,9012).
_DIGIT_RUN_RE = re.compile(r"\+?\(?[0-9](?:[-. ()/_,]{0,3}[0-9])*")
_NON_DIGITS = re.compile(r"[^0-9]")
_BARE_POSTAL = re.compile(r"\(?[0-9]{3}-[0-9]{4}")

Span = tuple[int, int, str]


# ----------------------------------------------------------------------------- rules
def _email_spans(folded: str) -> Iterable[Span]:
    for m in _EMAIL_RE.finditer(folded):
        yield m.start(), m.end(), EMAIL
    for m in _SPELLED_EMAIL_RE.finditer(folded):
        yield m.start(), m.end(), EMAIL


def _birth_spans(folded: str) -> Iterable[Span]:
    for m in _BIRTH_RE.finditer(folded):
        group = "date" if m.group("date") is not None else "date2"
        yield m.start(group), m.end(group), DATE_OF_BIRTH


def _address_spans(folded: str) -> Iterable[Span]:
    # Digits that belong to a run of 10 or more are a phone, card or マイナンバー: the
    # number rule masks the whole run, so no address may take a piece of it.
    long_runs = [(m.start(), m.end()) for m in _DIGIT_RUN_RE.finditer(folded) if len(_NON_DIGITS.sub("", m.group())) >= 10]

    def clashes(start: int, end: int) -> bool:
        return any(s < end and start < e for s, e in long_runs)

    spans = []
    for m in _POSTAL_ADDRESS_RE.finditer(folded):
        tail_group = "tail" if m.group("tail") is not None else "tail2"
        tail = m.group(tail_group)
        if clashes(m.start(), m.end()):
            if tail_group == "tail" and not clashes(m.start(), m.start(tail_group)):
                spans.append((m.start(), m.start(tail_group), POSTAL_CODE))  # 〒 and its code only
            continue
        spans.append((m.start(), m.end(), ADDRESS if tail and tail.strip() else POSTAL_CODE))
    taken = [(s, e) for s, e, _ in spans]
    for m in _ADDRESS_RE.finditer(folded):
        if clashes(m.start(), m.end()) or any(s < m.end() and m.start() < e for s, e in taken):
            continue
        spans.append((m.start(), m.end(), ADDRESS))
    return spans


def _classify_number(run: str) -> str | None:
    digits = _NON_DIGITS.sub("", run)
    n = len(digits)
    if run.startswith("+") and digits.startswith("81") and 11 <= n <= 12:
        return PHONE
    if n == 12:
        return MY_NUMBER
    if n in (10, 11) and digits[0] == "0":
        return PHONE
    if 13 <= n <= 19:
        return CARD
    if n >= 10:
        return NUMBER
    if _BARE_POSTAL.fullmatch(run):
        return POSTAL_CODE
    return None


def _number_spans(folded: str) -> Iterable[Span]:
    for m in _DIGIT_RUN_RE.finditer(folded):
        start, run = m.start(), m.group()
        if run.startswith("(") and ")" not in run:  # 「電話(090-…)」: keep the bracket
            start, run = start + 1, run[1:]
        if " " in run:
            # Two numbers side by side (「123-4567 090-1234-5678」): mask each by its kind.
            parts = [(p.start(), p.group()) for p in re.finditer(r"[^ ]+", run)]
            kinds = [_classify_number(p) for _, p in parts]
            if len(parts) > 1 and all(k not in (None, NUMBER) for k in kinds):
                for (offset, part), kind in zip(parts, kinds):
                    yield start + offset, start + offset + len(part), kind  # type: ignore[misc]
                continue
        kind = _classify_number(run)
        if kind is not None:
            yield start, start + len(run), kind


# Order matters: e-mail addresses and dates contain digits that the number rule would
# otherwise take; addresses contain postal codes.
_RULES: tuple[Callable[[str], Iterable[Span]], ...] = (_email_spans, _birth_spans, _address_spans, _number_spans)


def _apply(text: str, spans: Iterable[Span]) -> str:
    out, last = [], 0
    for start, end, placeholder in sorted(spans):
        if start < last:  # overlapping: the earlier span already covers it
            continue
        out.append(text[last:start])
        out.append(placeholder)
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_personal_data(text: str) -> str:
    """Replace personal data in ``text`` by placeholders such as ［電話番号］.

    Args:
        text: What a resident typed (already cleaned of control characters).

    Returns:
        The same text with e-mail addresses, dates of birth, addresses and postal codes,
        マイナンバー, phone and card numbers (and any other number of 10 or more digits)
        replaced; everything else unchanged. ``mask_personal_data(mask_personal_data(t))
        == mask_personal_data(t)``.
    """
    if not text:
        return text
    for rule in _RULES:
        folded = _fold(text)
        spans = list(rule(folded))
        if spans:
            text = _apply(text, spans)
    return text


def contains_placeholder(text: str) -> bool:
    """True when ``text`` has a masking placeholder (it was not typed that way)."""
    return bool(PLACEHOLDER_PATTERN.search(text))
