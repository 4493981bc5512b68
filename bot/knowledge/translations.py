"""Translations of the knowledge base (``knowledge/i18n/``): loading, validating, looking up.

Layout (docs/knowledge-format.md, "Translations")::

    knowledge/i18n/glossary.yml          term → rendering per language
    knowledge/i18n/<lang>/city.yml       the city's name, contacts, departments, values
    knowledge/i18n/<lang>/<area>.yml     per FAQ of knowledge/faq/<area>.yml: question, answer

Each FAQ translation keeps ``source``: the first 12 hex digits of the SHA-256 of the
Japanese question and answer it was made from (:func:`source_hash`). When the Japanese
text changes, the translation is **stale**: `bot kb check` lists it, and residents get
the Japanese answer (with a note) until a translator brings it up to date.

Missing and stale translations are not errors (a knowledge base is never blocked on a
translator); malformed files, unknown ids and placeholders that differ from the Japanese
answer are.
"""

from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.i18n.languages import JA_EASY, TRANSLATED
from bot.knowledge.loader import PLACEHOLDER, Problem, _line, _load_yaml, _rel, _text
from bot.knowledge.model import Faq, KnowledgeBase

I18N_DIR = "i18n"
GLOSSARY_FILE = "glossary.yml"
ESSENTIAL_FILE = "essential.txt"  # the FAQs every translated language must cover (issue 14)
CITY_FILE = "city.yml"
SOURCE_HASH_LENGTH = 12
FILE_KEYS = ("language", "faqs")
FAQ_KEYS = ("id", "source", "question", "answer", "paraphrases")
CITY_KEYS = ("language", "city", "departments", "values")
CITY_FIELD_KEYS = ("name", "general_contact", "emergency", "office_hours", "address", "website")
DEPARTMENT_KEYS = ("name", "place", "hours")
_HEX = re.compile(rf"^[0-9a-f]{{{SOURCE_HASH_LENGTH}}}$")


def source_hash(faq: Faq) -> str:
    """The first 12 hex digits of sha256(question + "\\n" + answer) of the Japanese FAQ."""
    text = f"{faq.question}\n{faq.answer}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SOURCE_HASH_LENGTH]


class TranslationStatus(str, enum.Enum):
    CURRENT = "current"
    STALE = "stale"  # made from an older Japanese text
    MISSING = "missing"


@dataclass(frozen=True)
class FaqTranslation:
    """One FAQ in one language. ``location`` is "file:line" of its id."""

    faq_id: str
    language: str
    source: str
    question: str
    answer: str
    paraphrases: tuple[str, ...] = ()
    location: str = ""

    @property
    def utterances(self) -> tuple[str, ...]:
        return (self.question, *self.paraphrases)


@dataclass(frozen=True)
class DepartmentTranslation:
    name: str
    place: str = ""
    hours: str = ""


@dataclass(frozen=True)
class CityTranslation:
    """The city's own texts in one language (empty fields: use the Japanese)."""

    language: str
    name: str = ""
    general_contact: str = ""
    emergency: str = ""
    departments: dict[str, DepartmentTranslation] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Translations:
    """Everything in ``knowledge/i18n/``."""

    faqs: dict[str, dict[str, FaqTranslation]] = field(default_factory=dict)  # language → FAQ id → translation
    cities: dict[str, CityTranslation] = field(default_factory=dict)  # language → city texts
    glossary: dict[str, dict[str, str]] = field(default_factory=dict)  # Japanese term → language → rendering

    def status(self, language: str, faq: Faq) -> TranslationStatus:
        t = self.faqs.get(language, {}).get(faq.id)
        if t is None:
            return TranslationStatus.MISSING
        return TranslationStatus.CURRENT if t.source == source_hash(faq) else TranslationStatus.STALE

    def current(self, language: str, faq: Faq) -> FaqTranslation | None:
        """The translation, only if it was made from the FAQ's present Japanese text."""
        if self.status(language, faq) is TranslationStatus.CURRENT:
            return self.faqs[language][faq.id]
        return None

    def any(self, language: str, faq_id: str) -> FaqTranslation | None:
        """The translation, current or stale (for finding the FAQ, not for answering)."""
        return self.faqs.get(language, {}).get(faq_id)

    def city(self, language: str) -> CityTranslation:
        return self.cities.get(language) or CityTranslation(language)


# --------------------------------------------------------------------------- loading
def load_translations(root: Path, kb: KnowledgeBase, problems: list[Problem]) -> Translations:
    """Load ``root/i18n`` (if any), appending every problem found to ``problems``."""
    base = root / I18N_DIR
    translations = Translations()
    if not base.is_dir():
        return translations
    glossary = base / GLOSSARY_FILE
    if glossary.exists():
        translations.glossary = _load_glossary(glossary, _rel(glossary, root), problems)
    for entry in sorted(base.iterdir()):
        if entry.is_file():
            if entry.name != GLOSSARY_FILE and entry.suffix in (".yml", ".yaml"):
                problems.append(Problem(_rel(entry, root), 1, f"i18n/ に置けるファイルは {GLOSSARY_FILE} だけです。"
                                        f"翻訳は i18n/<言語>/ のフォルダーに入れてください（言語: {', '.join(TRANSLATED)}）。"))
            continue
        if entry.name not in TRANSLATED:
            problems.append(Problem(_rel(entry, root), 1, f"言語のフォルダー '{entry.name}' は使えません"
                                    f"（使える言語: {', '.join(TRANSLATED)}）。"))
            continue
        _load_language(entry, root, kb, translations, problems)
    return translations


def _load_language(folder: Path, root: Path, kb: KnowledgeBase, out: Translations, problems: list[Problem]) -> None:
    language = folder.name
    areas = {f.area for f in kb.faqs}
    by_id = kb.by_id()
    faqs: dict[str, FaqTranslation] = {}
    files = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    for path in files:
        rel = _rel(path, root)
        if path.stem == Path(CITY_FILE).stem:
            city = _load_city_translation(path, rel, language, kb, problems)
            if city is not None:
                out.cities[language] = city
            continue
        if path.stem not in areas:
            problems.append(Problem(rel, 1, f"faq/{path.stem}.yml がありません。翻訳ファイルの名前は faq/ のファイルと同じにしてください"
                                    f"（あるもの: {', '.join(sorted(areas))}）。"))
            continue
        for t in _load_faq_translations(path, rel, language, by_id, problems):
            if t.faq_id in faqs:
                path_, line = t.location.rsplit(":", 1)
                problems.append(Problem(path_, int(line), f"{language} の FAQ '{t.faq_id}' の翻訳が重複しています"
                                        f"（最初は {faqs[t.faq_id].location}）。"))
                continue
            faqs[t.faq_id] = t
    out.faqs[language] = faqs


def _check_language(data: dict, rel: str, language: str, problems: list[Problem]) -> None:
    stated = _text(data.get("language"))
    if stated != language:
        problems.append(Problem(rel, _line(data, "language") if "language" in data else 1,
                                f"language: が '{stated}' ですが、フォルダーは i18n/{language}/ です。"
                                f"language: {language} と書いてください。"))


def _unknown_keys(node: dict, allowed: tuple[str, ...], rel: str, label: str, problems: list[Problem]) -> None:
    for key in node:
        if key not in allowed:
            problems.append(Problem(rel, _line(node, key), f"{label}不明な項目 '{key}' です（使える項目: {', '.join(allowed)}）。"))


def _load_faq_translations(path: Path, rel: str, language: str, by_id: dict[str, Faq],
                           problems: list[Problem]) -> list[FaqTranslation]:
    data = _load_yaml(path, problems, rel)
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("faqs"), list):
        problems.append(Problem(rel, 1, "翻訳ファイルには language: と faqs:（- id: … の並び）が必要です。"))
        return []
    _check_language(data, rel, language, problems)
    _unknown_keys(data, FILE_KEYS, rel, "", problems)
    out: list[FaqTranslation] = []
    for entry in data["faqs"]:
        line = _line(entry)
        if not isinstance(entry, dict):
            problems.append(Problem(rel, line, "翻訳は id:, source:, question:, answer: を持つマッピングである必要があります。"))
            continue
        fid = _text(entry.get("id"))
        label = f"{language} の FAQ '{fid}': " if fid else f"{language} の翻訳: "
        _unknown_keys(entry, FAQ_KEYS, rel, label, problems)
        faq = by_id.get(fid)
        if faq is None:
            problems.append(Problem(rel, _line(entry, "id") if "id" in entry else line,
                                    f"{label}この id の FAQ は faq/ にありません。日本語の FAQ の id を書いてください。"))
            continue
        if faq.area != path.stem:
            problems.append(Problem(rel, _line(entry, "id"), f"{label}この FAQ は faq/{faq.area}.yml にあります。"
                                    f"翻訳は i18n/{language}/{faq.area}.yml に書いてください。"))
        source = _source_text(entry.get("source"))
        if not _HEX.match(source):
            problems.append(Problem(rel, _line(entry, "source") if "source" in entry else line,
                                    f"{label}source は日本語の質問と回答のハッシュ（16進数{SOURCE_HASH_LENGTH}桁）です。"
                                    f"今の日本語から作った値は {source_hash(faq)} です（数字だけのときは \"…\" で囲んでください）。"))
        question, answer = _text(entry.get("question")), _text(entry.get("answer"))
        for key, value in (("question", question), ("answer", answer)):
            if not value:
                problems.append(Problem(rel, _line(entry, key) if key in entry else line, f"{label}{key} が空です。訳文を書いてください。"))
        wanted, got = set(PLACEHOLDER.findall(faq.answer)), set(PLACEHOLDER.findall(answer))
        if answer and wanted != got:
            missing = ", ".join(f"{{{{{p}}}}}" for p in sorted(wanted - got))
            extra = ", ".join(f"{{{{{p}}}}}" for p in sorted(got - wanted))
            detail = "; ".join(x for x in (f"ありません: {missing}" if missing else "", f"日本語にないもの: {extra}" if extra else "") if x)
            problems.append(Problem(rel, _line(entry, "answer"), f"{label}差し込み項目が日本語の回答と違います（{detail}）。"
                                    "{{…}} は訳さずにそのまま残してください。"))
        raw = entry.get("paraphrases") or []
        paraphrases = tuple(p for p in (_text(x) for x in raw) if p) if isinstance(raw, list) else ()
        if not isinstance(raw, list):
            problems.append(Problem(rel, _line(entry, "paraphrases"), f"{label}paraphrases は「- 言い換え」の並びで書いてください。"))
        out.append(FaqTranslation(fid, language, source, question, answer, paraphrases, f"{rel}:{_line(entry, 'id')}"))
    return out


def _source_text(value: Any) -> str:
    """The source hash as written. YAML reads an all-digit hash (0123456789ab is not, but
    012345678901 is) as a number and drops its leading zeros: they are put back."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(SOURCE_HASH_LENGTH)
    return _text(value).lower()


def _load_city_translation(path: Path, rel: str, language: str, kb: KnowledgeBase,
                           problems: list[Problem]) -> CityTranslation | None:
    data = _load_yaml(path, problems, rel)
    if data is None:
        return None
    if not isinstance(data, dict):
        problems.append(Problem(rel, 1, "city.yml の翻訳はマッピング（language:, city:, departments:, values:）である必要があります。"))
        return None
    _check_language(data, rel, language, problems)
    _unknown_keys(data, CITY_KEYS, rel, "", problems)
    city = data.get("city") or {}
    if isinstance(city, dict):
        _unknown_keys(city, CITY_FIELD_KEYS, rel, "city: ", problems)
    departments: dict[str, DepartmentTranslation] = {}
    for dept_id, d in (data.get("departments") or {}).items():
        where = _line(data["departments"], dept_id)
        if str(dept_id) not in kb.departments:
            problems.append(Problem(rel, where, f"担当課 '{dept_id}' は city.yml の departments にありません"
                                    f"（あるもの: {', '.join(sorted(kb.departments))}）。"))
            continue
        if not isinstance(d, dict) or not _text(d.get("name")):
            problems.append(Problem(rel, where, f"担当課 '{dept_id}' に name（訳した課の名前）がありません。"))
            continue
        _unknown_keys(d, DEPARTMENT_KEYS, rel, f"担当課 '{dept_id}': ", problems)
        departments[str(dept_id)] = DepartmentTranslation(_text(d.get("name")), _text(d.get("place")), _text(d.get("hours")))
    values: dict[str, str] = {}
    for key, value in (data.get("values") or {}).items():
        if str(key) not in kb.city.values:
            problems.append(Problem(rel, _line(data["values"], key), f"values の '{key}' は city.yml の values にありません。"))
            continue
        values[str(key)] = _text(value)
    city = city if isinstance(city, dict) else {}
    return CityTranslation(language, _text(city.get("name")), _text(city.get("general_contact")),
                           _text(city.get("emergency")), departments, values)


def _glossary_mapping(terms: list, rel: str, problems: list[Problem]) -> dict:
    """The list form (``- ja: 住民票\n  en: …``) as the mapping form (``住民票: {en: …}``)."""
    mapping: dict = {}
    for entry in terms:
        if not isinstance(entry, dict) or not _text(entry.get("ja")):
            problems.append(Problem(rel, _line(entry), "用語は ja:（日本語の用語）と言語ごとの訳語（en: …）で書いてください。"))
            continue
        mapping[_text(entry["ja"])] = {k: v for k, v in entry.items() if k != "ja"}
    return mapping


def _load_glossary(path: Path, rel: str, problems: list[Problem]) -> dict[str, dict[str, str]]:
    """``terms:`` as a mapping (用語: {言語: 訳語}) or as a list (- ja: 用語, en: …)."""
    data = _load_yaml(path, problems, rel)
    if data is None:
        return {}
    terms = data.get("terms") if isinstance(data, dict) else None
    if isinstance(terms, list):
        terms = _glossary_mapping(terms, rel, problems)
    if not isinstance(terms, dict):
        problems.append(Problem(rel, 1, "glossary.yml には terms:（用語: {言語: 訳語}）が必要です。"))
        return {}
    glossary: dict[str, dict[str, str]] = {}
    for term, renderings in terms.items():
        if not isinstance(renderings, dict):
            problems.append(Problem(rel, _line(terms, term), f"用語「{term}」: 言語ごとの訳語（en: …）を書いてください。"))
            continue
        for lang in renderings:
            if lang not in TRANSLATED:
                problems.append(Problem(rel, _line(renderings, lang) if hasattr(renderings, "lc") else _line(terms), f"用語「{term}」: 言語 '{lang}' は使えません"
                                        f"（使える言語: {', '.join(TRANSLATED)}）。"))
        glossary[str(term)] = {str(k): _text(v) for k, v in renderings.items() if str(k) in TRANSLATED and _text(v)}
    return glossary


# --------------------------------------------------------------------------- coverage
@dataclass(frozen=True)
class StaleTranslation:
    faq_id: str
    location: str  # the translation's file:line
    source: str  # the hash it was made from
    current: str  # the hash of today's Japanese


@dataclass(frozen=True)
class GlossaryMiss:
    """A translation of an FAQ that uses a glossary term, without the glossary's rendering."""

    faq_id: str
    location: str
    term: str
    rendering: str


@dataclass(frozen=True)
class LanguageCoverage:
    language: str
    total: int
    current: int
    stale: tuple[StaleTranslation, ...]
    missing: tuple[str, ...]  # FAQ ids without a translation
    glossary_misses: tuple[GlossaryMiss, ...] = ()

    @property
    def share(self) -> float:
        return self.current / self.total if self.total else 0.0


def translation_coverage(kb: KnowledgeBase, languages: tuple[str, ...] = TRANSLATED) -> list[LanguageCoverage]:
    """Per language: current, stale and missing FAQ translations, and glossary terms not used."""
    translations = kb.translations or Translations()
    report = []
    for language in languages:
        stale: list[StaleTranslation] = []
        missing: list[str] = []
        misses: list[GlossaryMiss] = []
        current = 0
        for faq in kb.faqs:
            status = translations.status(language, faq)
            if status is TranslationStatus.MISSING:
                missing.append(faq.id)
                continue
            t = translations.faqs[language][faq.id]
            if status is TranslationStatus.STALE:
                stale.append(StaleTranslation(faq.id, t.location, t.source, source_hash(faq)))
                continue
            current += 1
            misses.extend(_glossary_misses(faq, t, translations.glossary, language))
        report.append(LanguageCoverage(language, len(kb.faqs), current, tuple(stale), tuple(missing), tuple(misses)))
    return report


def _glossary_misses(faq: Faq, t: FaqTranslation, glossary: dict[str, dict[str, str]], language: str) -> list[GlossaryMiss]:
    if language == JA_EASY:
        return []  # やさしい日本語 explains terms in its own words
    japanese = f"{faq.question}\n{faq.answer}"
    translated = f"{t.question}\n{t.answer}".casefold()
    return [GlossaryMiss(faq.id, t.location, term, renderings[language])
            for term, renderings in glossary.items()
            if term in japanese and language in renderings
            and not any(form in translated for form in _rendering_forms(renderings[language]))]


def _rendering_forms(rendering: str) -> list[str]:
    """What counts as using a rendering: any of its " / " alternatives, with or without
    the parenthesised romanisation ("resident tax (juminzei)" → "resident tax")."""
    forms = []
    for alternative in rendering.split(" / "):
        alternative = alternative.strip().casefold()
        forms += [alternative, re.sub(r"\s*[(（][^)）]*[)）]\s*$", "", alternative)]
    return [f for f in forms if f]


def essential_ids(root: Path) -> tuple[str, ...]:
    """The FAQ ids listed in ``root/i18n/essential.txt`` (one a line, ``#`` comments), if any."""
    path = root / I18N_DIR / ESSENTIAL_FILE
    if not path.exists():
        return ()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


def essential_coverage(kb: KnowledgeBase, ids: tuple[str, ...], languages: tuple[str, ...] = TRANSLATED) -> list[dict[str, Any]]:
    """Per language: how many of the essential FAQs (that exist) have a current translation."""
    translations = kb.translations or Translations()
    by_id = kb.by_id()
    faqs = [by_id[i] for i in ids if i in by_id]
    return [{"language": lang, "essential": len(faqs),
             "current": sum(translations.status(lang, f) is TranslationStatus.CURRENT for f in faqs),
             "missing": [f.id for f in faqs if translations.status(lang, f) is TranslationStatus.MISSING]}
            for lang in languages]


def coverage_as_dict(report: list[LanguageCoverage]) -> list[dict[str, Any]]:
    """For ``bot kb stats --json``."""
    return [{"language": c.language, "faqs": c.total, "current": c.current, "stale": len(c.stale),
             "missing": len(c.missing), "share": round(c.share, 3)} for c in report]
