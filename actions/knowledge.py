"""The knowledge base as the action server sees it, reloaded when ``knowledge/`` changes.

The cache itself is the knowledge core's (:class:`bot.knowledge.cache.KnowledgeCache`, also
used by the review): it keeps serving the last good version while a broken edit is fixed.
"""

from __future__ import annotations

from bot.knowledge.cache import KnowledgeCache
from bot.knowledge.model import KnowledgeBase
from bot.settings import Settings

_cache: KnowledgeCache | None = None
# The action server reads the knowledge base for every message; a staff edit reaches
# residents within this many seconds (looking at every file costs 2–5 ms a message).
CHECK_EVERY_SECONDS = 1.0


def knowledge() -> KnowledgeBase:
    """The current knowledge base (created on first use, not at import)."""
    global _cache
    if _cache is None:
        _cache = KnowledgeCache(Settings.from_env().knowledge_dir, check_every=CHECK_EVERY_SECONDS)
    return _cache.get()
