"""An FAQ and the city's contacts in the resident's language (pure; used by bot/replies.py).

Japanese output is exactly what bot/knowledge/render.py gives; other languages take the
current translation from ``knowledge/i18n/`` and the fixed words from the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.i18n.catalogue import text
from bot.i18n.languages import JA
from bot.knowledge.loader import PLACEHOLDER
from bot.knowledge.model import Department, Faq, KnowledgeBase
from bot.knowledge.translations import CityTranslation, Translations


def _city(kb: KnowledgeBase, language: str) -> CityTranslation:
    return (kb.translations or Translations()).city(language)


def localized_department(department: Department | None, kb: KnowledgeBase, language: str) -> Department | None:
    """The department with its name, place and hours in ``language`` where translated."""
    if department is None or language == JA:
        return department
    t = _city(kb, language).departments.get(department.id)
    if t is None:
        return department
    return replace(department, name=t.name, place=t.place or department.place, hours=t.hours or department.hours)


def contact_text(department: Department | None, kb: KnowledgeBase, language: str = JA) -> str:
    """Where to ask, in ``language``: the department's contact, or the city's general contact."""
    if department is not None:
        d = localized_department(department, kb, language)
        phone = text(language, "contact.phone", phone=d.phone) if d.phone else ""
        details = text(language, "contact.separator").join(p for p in (d.place, phone) if p)
        return text(language, "contact.line", name=d.name, details=details) if details else d.name
    city = _city(kb, language)
    return city.general_contact or kb.city.general_contact or city.name or kb.city.name


def city_name(kb: KnowledgeBase, language: str = JA) -> str:
    return _city(kb, language).name or kb.city.name


def emergency_numbers(kb: KnowledgeBase, language: str = JA) -> str:
    """The city's emergency numbers in ``language`` (the catalogue's default when none)."""
    own = _city(kb, language).emergency if language != JA else kb.city.emergency
    return (own or "").strip() or text(language, "handoff.emergency_numbers")


def fill_placeholders(answer: str, kb: KnowledgeBase, language: str = JA) -> str:
    """``{{key}}`` replaced by the city's value in ``language`` (Japanese when untranslated)."""
    city = _city(kb, language)

    def value(match) -> str:
        key = match.group(1)
        if key == "city":
            return city_name(kb, language)
        return city.values.get(key) or kb.city.values.get(key, match.group(0))

    return PLACEHOLDER.sub(value, answer)


@dataclass(frozen=True)
class LocalizedAnswer:
    """An FAQ's answer as shown: ``body_language`` is ``language`` or, untranslated, Japanese."""

    question: str
    body: str
    body_language: str
    translated: bool


def localized_answer(faq: Faq, kb: KnowledgeBase, language: str) -> LocalizedAnswer:
    """The current translation of the FAQ, or its Japanese text when there is none (or it is stale)."""
    t = None if language == JA else (kb.translations or Translations()).current(language, faq)
    if t is None:
        return LocalizedAnswer(faq.question, fill_placeholders(faq.answer, kb, JA).strip(), JA, language == JA)
    return LocalizedAnswer(t.question, fill_placeholders(t.answer, kb, language).strip(), language, True)


def localized_question(faq: Faq, kb: KnowledgeBase, language: str) -> str:
    """The FAQ's question in ``language`` when translated (for buttons), else the Japanese."""
    return localized_answer(faq, kb, language).question
