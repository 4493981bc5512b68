"""Question vectors for the FaqRetriever: cached, computed off the event loop, in batches,
and only for questions whose words alone do not settle the answer.

Rasa runs the NLU graph inside its event loop, so a question encoded there would block
every other resident's message for the 20–40 ms the encoder takes. The encoder is C code
that releases the GIL, so the Rasa server awaits :func:`prefetch` before it runs the
graph (installed by bot.rasa_speedups): the question is encoded on a worker thread,
on the other core, while the loop goes on with other messages, and the graph then finds
the vector in the cache. Without the speed-ups installed (tests that load a model
themselves) the retriever encodes in line.

* **Batches.** Questions that arrive while the worker is busy are encoded together in
  one call: the engine streams its weights once per call, so a batch costs less per
  question than one call each (docs/benchmarks.md).
* **Words first.** The served retriever registers a *gate*: a question its words answer
  beyond doubt (``words_first_*`` in config.yml, bot/components/faq_retriever.py) needs
  no vector, and is not encoded at all.
* **Repeated questions.** Residents ask the same things in the same words (「粗大ごみ」,
  「住民票」): recent questions' vectors are kept (LRU).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import numpy as np

from bot.nlp.encoder import SentenceEncoder
from bot.nlp.japanese import has_meaningful_text
from bot.privacy.masking import PLACEHOLDER_PATTERN

# At most this many questions per encoder call (a few residents' worth: bigger batches
# gain little and make the first question of the batch wait longer).
MAX_BATCH = 16


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
        return self.get_many(encoder, [text])[0]

    def get_many(self, encoder: SentenceEncoder, texts: list[str]) -> list[np.ndarray]:
        """Vectors of ``texts``; those not cached are encoded together in one call."""
        found = {t: self.peek(encoder, t) for t in dict.fromkeys(texts)}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            vecs = encoder.encode_queries(missing)  # the encoder serialises its own calls
            with self._lock:
                for text, vec in zip(missing, vecs):
                    self.encoded += 1
                    found[text] = vec
                    self._items[(encoder.identity, text)] = vec
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return [found[t] for t in texts]


class _Batcher:
    """One worker thread; each job encodes every question waiting at that moment."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-encoder")
        self._waiting: list[tuple[str, asyncio.Future]] = []
        self._lock = threading.Lock()
        self.batches: list[int] = []  # sizes of the last batches (tests, benchmarks)

    async def encode(self, encoder: SentenceEncoder, text: str) -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._lock:
            self._waiting.append((text, done))
        loop.run_in_executor(self._executor, self._drain, encoder)
        await done

    def _drain(self, encoder: SentenceEncoder) -> None:
        while True:
            with self._lock:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            if not batch:
                return  # an earlier job took these questions
            self.batches = (self.batches + [len(batch)])[-100:]
            try:
                CACHE.get_many(encoder, [text for text, _ in batch])
                error: Optional[BaseException] = None
            except Exception as exc:  # noqa: BLE001 - handed to every waiting resident's task
                error = exc
            for _, done in batch:
                done.get_loop().call_soon_threadsafe(_settle, done, error)


def _settle(done: asyncio.Future, error: Optional[BaseException]) -> None:
    if done.done():
        return  # the resident's request was cancelled meanwhile
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)


CACHE = QueryVectors()
# A question → does the served retriever need its vector? (None: every question does.)
Gate = Callable[[str], bool]
_active: Optional[SentenceEncoder] = None
_gate: Optional[Gate] = None
_batcher: Optional[_Batcher] = None


def activate(encoder: Optional[SentenceEncoder], gate: Optional[Gate] = None) -> None:
    """The encoder of the model being served (set when a model with FAQ vectors loads),
    and its retriever's words-first gate."""
    global _active, _gate
    _active, _gate = encoder, gate


async def prefetch(text: object) -> None:
    """Encode ``text`` on the worker thread, unless there is nothing to encode or its
    words settle the answer."""
    global _batcher
    encoder, gate = _active, _gate
    if encoder is None or not isinstance(text, str) or text.startswith("/"):
        return
    searchable = searchable_text(text)
    if not has_meaningful_text(searchable) or CACHE.peek(encoder, searchable) is not None:
        return
    if gate is not None and not gate(searchable):
        return
    if _batcher is None:
        _batcher = _Batcher()
    await _batcher.encode(encoder, searchable)
