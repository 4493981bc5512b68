"""Question vectors for the FaqRetriever: cached, and computed off the event loop.

Rasa runs the NLU graph inside its event loop, so a question encoded there blocks every
other resident's message for the ~20 ms the encoder takes. The encoder is C code that
releases the GIL, so the Rasa server awaits :func:`prefetch` before it runs the graph
(installed by bot/rasa_patches.py): the question is encoded on a worker thread, on the
other core, while the loop goes on with other messages, and the graph then finds the
vector in the cache. Without the patch (`bot rank`, tests) the retriever encodes in line.

Residents also ask the same things in the same words (「粗大ごみ」, 「住民票」): recent
questions' vectors are kept (LRU).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Optional

import numpy as np

from bot.nlp.encoder import SentenceEncoder
from bot.nlp.japanese import has_meaningful_text
from bot.privacy.masking import PLACEHOLDER_PATTERN


def searchable_text(text: str) -> str:
    """What the retriever searches for: masked personal data (［電話番号］…) says nothing
    about the topic of the question."""
    return PLACEHOLDER_PATTERN.sub(" ", text)


class QueryVectors:
    """The most recent questions' vectors, safe to use from several threads."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: "OrderedDict[tuple[str, str], np.ndarray]" = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0

    def peek(self, encoder: SentenceEncoder, text: str) -> Optional[np.ndarray]:
        key = (encoder.identity, text)
        with self._lock:
            vec = self._items.get(key)
            if vec is not None:
                self._items.move_to_end(key)
            return vec

    def get(self, encoder: SentenceEncoder, text: str) -> np.ndarray:
        vec = self.peek(encoder, text)
        if vec is not None:
            return vec
        vec = encoder.encode_queries([text])[0]  # the encoder serialises its own calls
        with self._lock:
            self.encoded += 1
            self._items[(encoder.identity, text)] = vec
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return vec


CACHE = QueryVectors()
_active: Optional[SentenceEncoder] = None
_executor: Optional[ThreadPoolExecutor] = None


def activate(encoder: Optional[SentenceEncoder]) -> None:
    """The encoder of the model being served (set when a model with FAQ vectors loads)."""
    global _active
    _active = encoder


async def prefetch(text: object) -> None:
    """Encode ``text`` on the worker thread, unless there is nothing to encode."""
    global _executor
    encoder = _active
    if encoder is None or not isinstance(text, str) or text.startswith("/"):
        return
    searchable = searchable_text(text)
    if not has_meaningful_text(searchable) or CACHE.peek(encoder, searchable) is not None:
        return
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
    await asyncio.get_running_loop().run_in_executor(_executor, CACHE.get, encoder, searchable)
