"""Counts per category and FAQs due for review."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

from bot.knowledge.model import KnowledgeBase

STALE_AFTER_DAYS = 365


def knowledge_stats(kb: KnowledgeBase, today: dt.date | None = None, stale_after_days: int = STALE_AFTER_DAYS) -> dict:
    """FAQs and paraphrases per category; FAQs not reviewed for over a year (or never)."""
    today = today or dt.date.today()
    categories: "OrderedDict[str, dict]" = OrderedDict()
    stale = []
    for f in kb.faqs:
        c = categories.setdefault(f.category, {"category": f.category, "faqs": 0, "paraphrases": 0})
        c["faqs"] += 1
        c["paraphrases"] += len(f.paraphrases)
        if f.reviewed is None or (today - f.reviewed).days > stale_after_days:
            stale.append({"id": f.id, "category": f.category, "reviewed": f.reviewed.isoformat() if f.reviewed else None,
                          "source": f.source})
    return {
        "faqs": len(kb.faqs),
        "paraphrases": sum(len(f.paraphrases) for f in kb.faqs),
        "departments": len(kb.departments),
        "categories": list(categories.values()),
        "stale_after_days": stale_after_days,
        "not_reviewed_recently": stale,
    }
