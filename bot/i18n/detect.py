"""Which language a resident writes in, per message and per conversation.

Two steps, both pure:

* :func:`detect` looks at one message. The script decides what it can (kana is Japanese,
  Hangul is Korean, Chinese-only characters with Chinese function words are Chinese);
  Latin-script text goes to Lingua (PyPI ``lingua-language-detector``, its models ship
  inside the wheel: nothing is downloaded), restricted to the Latin-script languages we
  serve. A message too short or too mixed to tell (「OK」, 「ありがとう」, 「3」, a
  payload) is *unclear* and carries no weight.
* :func:`conversation_language` replays a conversation: an explicit choice wins and
  stays until the next choice; otherwise the first clear message sets the language and
  only a *clear* message in another language switches it. Japanese text keeps
  やさしい日本語 (it is Japanese too).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional

from bot.i18n.languages import DEFAULT, EN, FIL, JA, JA_EASY, KO, PT_BR, VI, ZH_HANS, is_supported
from bot.nlp.scripts import script_counts

# A message needs this many letters (not digits or symbols) before it can switch the language.
MIN_LETTERS_TO_SWITCH = 8
MIN_WORDS_TO_SWITCH = 2  # Latin script: "OK thanks" is not enough … see MIN_LETTERS_TO_SWITCH
MIN_CJK_TO_SWITCH = 5  # kana / hanzi / Hangul characters
MIN_CONFIDENCE = 0.6  # Lingua's confidence for the best Latin-script language
# Words residents of every language write that say nothing about their language.
NEUTRAL_WORDS = frozenset("ok okay yes no hi hello thanks thank you bye please sorry".split())
# Characters that (almost) only Chinese uses among texts without kana: function words.
CHINESE_MARKERS = frozenset("的吗么呢怎哪什您你我们这吧没给请谢")
# Courtesies that say "still here" rather than "switch to my language" (they never switch).
COURTESIES = frozenset("""ありがとう ありがとうございます ありがとうございました すみません はい いいえ こんにちは どうも
    よろしく よろしくお願いします 谢谢 你好 好的 감사합니다 고맙습니다 네 안녕하세요 cảm ơn vâng obrigado obrigada
    salamat""".split())
# Letters only Vietnamese uses among our languages (ơ, ư, đ and the stacked tone marks).
VIETNAMESE_LETTERS = frozenset("ơưđăạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
# Function words: two of one language and fewer of any other is a clear sign (Lingua is
# unsure about short questions with a Japanese word in them: "Where can I get a juminhyo").
FUNCTION_WORDS = {
    EN: frozenset("the is are can i my how what where when do does to of for get want need it this your".split()),
    PT_BR: frozenset("o os as de do da que como onde posso eu meu minha para um uma é não quero preciso".split()),
    FIL: frozenset("ang ng sa ko po ako paano saan mga ba ano kailan gusto ito".split()),
}
# Placeholders of masked personal data (［電話番号］) are ours, not the resident's.
_MASKED = re.compile(r"［[^］]{1,12}］")


@dataclass(frozen=True)
class Detection:
    """One message's language: ``language`` None = cannot tell; ``clear`` = enough to switch."""

    language: Optional[str]
    clear: bool = False


UNCLEAR = Detection(None, False)


@functools.lru_cache(maxsize=1)
def _latin_detector():
    """Lingua, for the Latin-script languages only (built on first use, not at import)."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.VIETNAMESE, Language.PORTUGUESE, Language.TAGALOG
    ).build()


_LINGUA_CODES = {"ENGLISH": EN, "VIETNAMESE": VI, "PORTUGUESE": PT_BR, "TAGALOG": FIL}


def _latin(text: str) -> tuple[Optional[str], float]:
    values = _latin_detector().compute_language_confidence_values(text)
    if not values:
        return None, 0.0
    return _LINGUA_CODES.get(values[0].language.name), float(values[0].value)


@functools.lru_cache(maxsize=4096)
def detect(text: str) -> Detection:
    """The language of one message (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", _MASKED.sub(" ", text or "")).strip()
    if not text or text.startswith("/"):  # empty, or a button's payload
        return UNCLEAR
    bare = re.sub(r"[\s!?.,。、！？〜ー~]+$", "", text).lower()
    if bare in COURTESIES or bare.replace(" ", "") in COURTESIES:
        return Detection(_courtesy_language(bare), False)
    counts = script_counts(text)
    cjk = counts["kana"] + counts["han"] + counts["hangul"]
    letters = cjk + counts["latin"]
    if letters == 0:
        return UNCLEAR
    # Mostly East Asian script (a Latin word or two inside is code-switching).
    if cjk * 2 >= letters and cjk:
        clear = cjk >= MIN_CJK_TO_SWITCH
        if counts["hangul"] >= max(counts["kana"], 1) and counts["hangul"] * 2 >= cjk:
            return Detection(KO, clear)
        if counts["kana"]:
            return Detection(JA, clear)
        # Han characters only: Chinese only with its function words (「住民票」 is Japanese too)
        # or with a character no Japanese text can hold (费, 证, 护: simplified forms).
        if any(ch in CHINESE_MARKERS or _not_japanese_han(ch) for ch in text):
            return Detection(ZH_HANS, clear)
        return UNCLEAR
    # Mostly Latin script: Japanese terms inside (「Tôi muốn lấy 住民票」) are left to the encoder.
    latin_text = " ".join(re.findall(r"[^\W\d_]+", "".join(ch if not _is_cjk(ch) else " " for ch in text)))
    words = [w for w in latin_text.lower().split() if w]
    meaningful = [w for w in words if w not in NEUTRAL_WORDS]
    if not meaningful:
        return UNCLEAR
    long_enough = len(words) >= MIN_WORDS_TO_SWITCH and sum(len(w) for w in meaningful) >= MIN_LETTERS_TO_SWITCH
    if any(ch in VIETNAMESE_LETTERS for ch in latin_text.lower()):
        return Detection(VI, long_enough)
    hits = {lang: sum(w in vocab for w in words) for lang, vocab in FUNCTION_WORDS.items()}
    best = max(hits, key=hits.get)
    if hits[best] >= 2 and all(n < hits[best] for lang, n in hits.items() if lang != best):
        return Detection(best, long_enough and len(words) >= 3)
    language, confidence = _latin(latin_text)
    if language is None or confidence < MIN_CONFIDENCE / 2:
        return UNCLEAR
    return Detection(language, long_enough and confidence >= MIN_CONFIDENCE)


def _courtesy_language(bare: str) -> Optional[str]:
    """The language of a courtesy (it may set a conversation's first language, not switch it)."""
    counts = script_counts(bare)
    if counts["hangul"]:
        return KO
    if counts["kana"]:
        return JA
    if counts["han"]:
        return ZH_HANS
    if bare in ("cảm ơn", "vâng"):
        return VI
    if bare.startswith("obrigad"):
        return PT_BR
    return FIL if bare == "salamat" else None


def _not_japanese_han(ch: str) -> bool:
    """A Han character outside Japan's everyday character set (cp932: JIS X 0208 and the
    vendor extensions Japanese PCs and phones type): a simplified Chinese form."""
    if not 0x3400 <= ord(ch) <= 0x9FFF:
        return False
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return True
    return False


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x3400 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7A3 or 0xFF66 <= code <= 0xFF9D


@dataclass(frozen=True)
class Turn:
    """One resident message of a conversation: its text, and a language chosen explicitly."""

    text: str = ""
    chosen: Optional[str] = None


def next_language(current: Optional[str], locked: bool, turn: Turn) -> tuple[Optional[str], bool]:
    """The conversation's language (and whether it was chosen) after one more message."""
    if turn.chosen is not None and is_supported(turn.chosen):
        return turn.chosen, True
    if locked:
        return current, True
    found = detect(turn.text)
    if found.language is None:
        return current, False
    if current is None:
        # The first message that says anything sets the language, even a short one ("Xin chào").
        return found.language, False
    same = found.language == current or (found.language == JA and current == JA_EASY)
    if same or not found.clear:
        return current, False
    return found.language, False


def conversation_language(turns: Iterable[Turn], default: str = DEFAULT) -> str:
    """The language to answer in after these messages (oldest first)."""
    current: Optional[str] = None
    locked = False
    for turn in turns:
        current, locked = next_language(current, locked, turn)
    return current or default


SET_LANGUAGE_INTENT = "set_language"
LANGUAGE_ENTITY = "language"


def turns_from_events(events: Iterable[dict]) -> list[Turn]:
    """The resident's messages of the current session, from Rasa's tracker events (dicts).

    ``/set_language{"language": "vi"}`` (the widget's menu, LINE's quick reply) is an
    explicit choice; every other message counts by its text.
    """
    turns: list[Turn] = []
    for event in events or []:
        kind = event.get("event")
        if kind == "session_started":
            turns = []  # a new session starts in the default language again
        if kind != "user":
            continue
        parse = event.get("parse_data") or {}
        chosen = None
        if (parse.get("intent") or {}).get("name") == SET_LANGUAGE_INTENT:
            chosen = next((str(e.get("value")) for e in parse.get("entities") or []
                           if e.get("entity") == LANGUAGE_ENTITY and e.get("value")), None)
        turns.append(Turn(event.get("text") or "", chosen))
    return turns
