"""Question vectors: encoded once, off the event loop when the Rasa server prefetches."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from bot.components import query_vectors
from tests.fakes.encoder import HashingEncoder


@pytest.fixture()
def encoder(monkeypatch):
    monkeypatch.setattr(query_vectors, "CACHE", query_vectors.QueryVectors(size=3))
    enc = HashingEncoder()
    query_vectors.activate(enc)
    yield enc
    query_vectors.activate(None)


async def test_prefetch_encodes_on_a_worker_thread_once(encoder):
    await query_vectors.prefetch("粗大ごみの出し方")
    assert encoder.encoded_texts == ["粗大ごみの出し方"]
    assert encoder.threads[0].startswith("query-encoder") and encoder.threads[0] != threading.current_thread().name
    vec = query_vectors.CACHE.get(encoder, "粗大ごみの出し方")  # what the retriever asks for
    assert encoder.encoded_texts == ["粗大ごみの出し方"]  # found, not encoded again
    np.testing.assert_allclose(np.linalg.norm(vec), 1.0, atol=1e-6)
    await query_vectors.prefetch("粗大ごみの出し方")
    assert len(encoder.calls) == 1


async def test_what_the_retriever_never_encodes_is_not_prefetched(encoder):
    for text in ('/choose_faq{"faq_id": "x"}', "😀😀", "", None, "［電話番号］"):
        await query_vectors.prefetch(text)
    assert encoder.calls == []


async def test_masked_personal_data_is_not_part_of_the_question(encoder):
    await query_vectors.prefetch("［電話番号］に電話したい")
    assert encoder.encoded_texts == ["に電話したい"]  # spaces collapsed by the seam
    assert query_vectors.searchable_text("［電話番号］に電話したい") == " に電話したい"


async def test_without_a_served_encoder_nothing_happens():
    query_vectors.activate(None)
    await query_vectors.prefetch("住民票")  # no error, nothing to do


def test_the_cache_keeps_the_most_recent_questions(encoder):
    for text in ("a1", "b2", "c3", "a1", "d4"):  # size 3: b2 is the oldest when d4 arrives
        query_vectors.CACHE.get(encoder, text)
    query_vectors.CACHE.get(encoder, "b2")
    assert encoder.encoded_texts == ["a1", "b2", "c3", "d4", "b2"]


class _SlowFirstCall(HashingEncoder):
    """Holds its first call until released, so that other questions queue meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def _encode(self, texts, query):
        if not self.calls:
            self.release.wait(10)
        return super()._encode(texts, query)


async def test_questions_waiting_for_the_worker_are_encoded_together(monkeypatch):
    import asyncio

    monkeypatch.setattr(query_vectors, "CACHE", query_vectors.QueryVectors())
    monkeypatch.setattr(query_vectors, "_batcher", None)
    enc = _SlowFirstCall()
    query_vectors.activate(enc)
    try:
        first = asyncio.ensure_future(query_vectors.prefetch("住民票がほしい"))
        while not enc.calls and not enc.release.is_set():
            await asyncio.sleep(0.01)
            if query_vectors._batcher is not None and not query_vectors._batcher._waiting:
                break  # the worker took the first question and holds it
        rest = [asyncio.ensure_future(query_vectors.prefetch(f"質問その{i}")) for i in range(5)]
        await asyncio.sleep(0.05)
        enc.release.set()
        await asyncio.gather(first, *rest)
    finally:
        query_vectors.activate(None)
    assert enc.calls[0] == (True, ["住民票がほしい"])
    assert enc.calls[1:] == [(True, [f"質問その{i}" for i in range(5)])]  # one call for the five
    assert query_vectors.CACHE.peek(enc, "質問その4") is not None


async def test_the_gate_spares_questions_the_words_answer(encoder):
    asked = []

    def gate(text):
        asked.append(text)
        return text != "粗大ごみ"

    query_vectors.activate(encoder, gate)
    await query_vectors.prefetch("粗大ごみ")
    await query_vectors.prefetch("会社を辞めました")
    assert asked == ["粗大ごみ", "会社を辞めました"]
    assert encoder.encoded_texts == ["会社を辞めました"]


async def test_an_encoder_failure_reaches_the_message_that_waited_for_it(monkeypatch):
    class Broken(HashingEncoder):
        def _encode(self, texts, query):
            raise RuntimeError("engine failed")

    monkeypatch.setattr(query_vectors, "CACHE", query_vectors.QueryVectors())
    query_vectors.activate(Broken())
    try:
        with pytest.raises(RuntimeError, match="engine failed"):
            await query_vectors.prefetch("住民票")
    finally:
        query_vectors.activate(None)
