"""Plain data types of the knowledge base."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: translations.py imports this module
    from bot.knowledge.translations import Translations


@dataclass(frozen=True)
class Department:
    """A department (担当課) residents can contact."""

    id: str
    name: str
    phone: str = ""
    place: str = ""
    hours: str = ""

    def contact_line(self) -> str:
        """「市民課（本庁舎1階・電話 0000-00-1111）」"""
        details = "・".join(p for p in (self.place, f"電話 {self.phone}" if self.phone else "") if p)
        return f"{self.name}（{details}）" if details else self.name


@dataclass(frozen=True)
class City:
    """City-wide facts: name, general contact and named values for answers."""

    name: str = "サンプル市"
    general_contact: str = ""
    website: str = ""
    values: dict[str, str] = field(default_factory=dict)
    office: dict = field(default_factory=dict)  # office hours for hand-off (bot/handoff/calendar.py)
    emergency: str = ""  # emergency numbers shown on urgent words


@dataclass(frozen=True)
class Faq:
    """One FAQ entry. ``source`` is "file:line" of its id, for error messages."""

    id: str
    category: str
    question: str
    answer: str
    department: str
    paraphrases: tuple[str, ...] = ()
    url: str | None = None
    reviewed: dt.date | None = None
    tags: tuple[str, ...] = ()
    source: str = ""
    area: str = ""  # the stem of its file, knowledge/faq/<area>.yml (translations mirror it)

    @property
    def utterances(self) -> tuple[str, ...]:
        """The canonical question followed by its paraphrases."""
        return (self.question, *self.paraphrases)


@dataclass
class KnowledgeBase:
    """Everything in ``knowledge/``."""

    city: City
    departments: dict[str, Department]
    faqs: list[Faq]
    translations: "Translations | None" = None  # knowledge/i18n/ (None: none loaded)

    def by_id(self) -> dict[str, Faq]:
        return {f.id: f for f in self.faqs}

    def categories(self) -> list[str]:
        seen: dict[str, None] = {}
        for f in self.faqs:
            seen.setdefault(f.category, None)
        return list(seen)
