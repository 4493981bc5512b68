"""The knowledge base, loaded once and again whenever a file of ``knowledge/`` changes.

One cache for every reader in a long-running process: the action server
(``actions/knowledge.py``) and the review workflow (``bot/review/service.py``). Loading
takes about a second, so it happens only when a ``*.yml`` or ``*.yaml`` file under the
directory (the FAQ files, ``city.yml``, the translations) was added, removed or changed.

When staff save a file that breaks the knowledge base (an edit by hand, or a problem the
review's checks did not foresee), the cache keeps serving the last version that was
good, and logs an error naming the problems, until the files are fixed: residents keep
getting answers meanwhile. "Good" means: no problem that the version being served did
not have already (a knowledge base with a known problem can still be edited).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from pathlib import Path

from bot.knowledge.loader import LoadResult, Problem, load_knowledge
from bot.knowledge.model import KnowledgeBase

logger = logging.getLogger(__name__)

PATTERNS = ("*.yml", "*.yaml")  # every file load_knowledge may read
SUFFIXES = tuple(p[1:] for p in PATTERNS)
_LOGGED_PROBLEMS = 5  # problems named in the log line; `bot kb check` lists them all


def _problem_keys(problems: list[Problem]) -> Counter:
    # Line numbers move when a file grows; compare problems by file and message.
    return Counter((p.path, p.message) for p in problems)


class KnowledgeCache:
    """``knowledge/`` loaded once, and again when one of its files changes.

    Args:
        directory: The knowledge directory (``settings.knowledge_dir``).
        check_every: Seconds during which the files are not looked at again after a
            look (0: at every call). Looking means a stat of every file, 2–5 ms for
            the starter knowledge base: the action server, which reads the knowledge
            base several times per message, looks at most once a second.
    """

    def __init__(self, directory: Path, check_every: float = 0.0) -> None:
        self.directory = Path(directory)
        self.check_every = float(check_every)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked_at = float("-inf")
        self._result: LoadResult | None = None

    def stamp(self) -> tuple:
        """Path, modification time and size of every YAML file (changes when a file does)."""
        found = []
        for root, _dirs, names in os.walk(self.directory):
            for name in names:
                if name.endswith(SUFFIXES):
                    path = os.path.join(root, name)
                    try:
                        st = os.stat(path)
                    except FileNotFoundError:  # removed while we looked: the next look sees it
                        continue
                    found.append((path, st.st_mtime_ns, st.st_size))
        return tuple(sorted(found))

    def get(self) -> KnowledgeBase:
        """The current knowledge base (the last good one while the files are broken)."""
        now = time.monotonic()
        if self._result is not None and now - self._checked_at < self.check_every:
            return self._result.kb
        stamp = self.stamp()
        with self._lock:
            self._checked_at = now
            if self._result is None or stamp != self._stamp:
                self._reload()
                self._stamp = stamp
            return self._result.kb

    def _reload(self) -> None:
        result = load_knowledge(self.directory)
        served = self._result
        if served is not None:
            new = _problem_keys(result.problems) - _problem_keys(served.problems)
            if new:
                listing = "; ".join([str(p) for p in result.problems if (p.path, p.message) in new][:_LOGGED_PROBLEMS])
                logger.error("knowledge base in %s has %d new problem(s), so the previous version is still served "
                             "until they are fixed (run `bot kb check`): %s", self.directory, sum(new.values()), listing)
                return
        elif result.problems:
            logger.warning("knowledge base in %s has %d problem(s); run `bot kb check`", self.directory,
                           len(result.problems))
        self._result = result
