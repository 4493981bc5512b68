"""Turn an FAQ into the text a resident reads."""

from __future__ import annotations

from bot.knowledge.loader import PLACEHOLDER
from bot.knowledge.model import Department, Faq, KnowledgeBase


def fill_placeholders(text: str, kb: KnowledgeBase) -> str:
    """Replace ``{{key}}`` by the city's value (``{{city}}`` is the city's name)."""

    def value(match) -> str:
        key = match.group(1)
        if key == "city":
            return kb.city.name
        return kb.city.values.get(key, match.group(0))

    return PLACEHOLDER.sub(value, text)


def department_of(faq: Faq, kb: KnowledgeBase) -> Department | None:
    return kb.departments.get(faq.department)


def contact_text(department: Department | None, kb: KnowledgeBase) -> str:
    """Where to ask: the department's contact, or the city's general contact."""
    if department is not None:
        return department.contact_line()
    return kb.city.general_contact or kb.city.name


def render_answer(faq: Faq, kb: KnowledgeBase) -> str:
    """The answer with values filled in and the contact line at the end."""
    body = fill_placeholders(faq.answer, kb).strip()
    lines = [body]
    if faq.url:
        lines.append(f"詳しくは: {faq.url}")
    lines.append(f"お問い合わせ：{contact_text(department_of(faq, kb), kb)}")
    return "\n".join(lines)
