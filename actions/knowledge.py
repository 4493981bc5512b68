"""The knowledge base as the action server sees it, reloaded when ``knowledge/`` changes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.knowledge.loader import load_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.settings import Settings

logger = logging.getLogger(__name__)


class KnowledgeCache:
    """Loads ``knowledge/`` once and again whenever one of its files changes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._kb: KnowledgeBase | None = None

    def _current_stamp(self) -> tuple:
        files = sorted(self.directory.rglob("*.y*ml"))
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)

    def get(self) -> KnowledgeBase:
        stamp = self._current_stamp()
        with self._lock:
            if self._kb is None or stamp != self._stamp:
                result = load_knowledge(self.directory)
                if result.problems and self._kb is not None:
                    # Keep serving the last good version while staff fix the files.
                    logger.warning("knowledge base has %d problem(s); keeping the previous version", len(result.problems))
                else:
                    if result.problems:
                        logger.warning("knowledge base has %d problem(s); run `bot kb check`", len(result.problems))
                    self._kb = result.kb
                self._stamp = stamp
            return self._kb


_cache: KnowledgeCache | None = None


def knowledge() -> KnowledgeBase:
    """The current knowledge base (created on first use, not at import)."""
    global _cache
    if _cache is None:
        _cache = KnowledgeCache(Settings.from_env().knowledge_dir)
    return _cache.get()
