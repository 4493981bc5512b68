"""The passage-vector cache: retraining after one edit re-encodes only what changed."""

from __future__ import annotations

import numpy as np

from bot.knowledge.index import FaqIndex, IndexDocument
from bot.nlp.vector_cache import CachedPassages, VectorCache
from tests.fakes.encoder import HashingEncoder

DOCS = [
    IndexDocument("gomi-sodai", "ごみ", "kankyo", "粗大ごみの出し方", ("粗大ごみの出し方", "大きいごみ 捨てたい"),
                  "粗大ごみは予約して出してください。"),
    IndexDocument("kokuho-kanyu", "国保", "hoken", "国保に入るには", ("国保に入るには", "会社を辞めた 保険"),
                  "会社の保険をやめたら14日以内に届け出てください。"),
]


def build(analyzer, encoder, cache, docs=DOCS):
    cached = CachedPassages(encoder, cache)
    index = FaqIndex.build(docs, analyzer, None, None, encoder, cached)
    return index, cached


def test_second_build_reuses_every_vector(tmp_path, analyzer):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    first, c1 = build(analyzer, HashingEncoder(), cache)
    again, c2 = build(analyzer, HashingEncoder(), cache)
    assert (c1.encoded, c1.reused) == (6, 0)  # 4 questions/paraphrases + 2 answers
    assert (c2.encoded, c2.reused) == (0, 6)
    np.testing.assert_array_equal(first.passages.utterances, again.passages.utterances)
    np.testing.assert_array_equal(first.passages.answers, again.passages.answers)


def test_an_edited_faq_re_encodes_only_its_changed_texts(tmp_path, analyzer):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    build(analyzer, HashingEncoder(), cache)
    edited = [DOCS[0], IndexDocument(**{**DOCS[1].__dict__, "answer": "退職したら国民健康保険の加入手続きをしてください。"})]
    encoder = HashingEncoder()
    _, cached = build(analyzer, encoder, cache, edited)
    assert cached.encoded == 1 and encoder.encoded_texts == [edited[1].answer]


def test_another_encoder_never_reads_these_vectors(tmp_path, analyzer):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    build(analyzer, HashingEncoder(identity="model-a"), cache)
    _, cached = build(analyzer, HashingEncoder(identity="model-b"), cache)
    assert cached.encoded == 6


def test_no_cache_encodes_everything(analyzer):
    encoder = HashingEncoder()
    _, cached = build(analyzer, encoder, None)
    assert cached.encoded == 6 and len(encoder.encoded_texts) == 6
