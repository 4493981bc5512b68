"""Translated questions count by meaning only: extra passage vectors of their FAQ, never words."""

from __future__ import annotations

import numpy as np
import pytest

from bot.knowledge.index import FaqIndex, IndexDocument, PassageVectors
from bot.nlp.vector_cache import CachedPassages, VectorCache
from tests.fakes.encoder import HashingEncoder

KOREAN_SOFA = "소파 같은 큰 쓰레기는 어떻게 버리나요?"
DOCS = [
    IndexDocument("gomi", "ごみ", "環境課", "粗大ごみの出し方", ("粗大ごみの出し方", "ソファを捨てたい"), "予約してください。",
                  translations=(("ko", KOREAN_SOFA), ("en", "How do I throw away large garbage?"))),
    IndexDocument("card", "マイナンバー", "市民課", "マイナンバーカードの申請", ("マイナンバーカードを作りたい",),
                  "申請してください。", translations=(("ko", "마이넘버 카드는 어떻게 신청하나요?"),)),
    IndexDocument("tax", "税", "税務課", "住民税の納め方", ("住民税の納め方",), "口座振替もできます。"),
]


@pytest.fixture(autouse=True)
def every_language_counts(monkeypatch):
    """Three FAQs here: a language is used by meaning however few FAQs it translates."""
    import bot.knowledge.index as index_module

    monkeypatch.setattr(index_module, "MIN_FAQS_PER_LANGUAGE", 1)


def ranked(index, text):
    return [c.faq_id for c in index.search(text, k=3).candidates]


def test_a_question_meets_its_faqs_translated_question_by_meaning(analyzer):
    with_translations = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())
    without = FaqIndex.build([IndexDocument(**{**d.__dict__, "translations": ()}) for d in DOCS], analyzer,
                             encoder=HashingEncoder())
    question = "소파 같은 큰 쓰레기 버리는 방법"
    result = with_translations.search(question, k=3)
    assert not result.words  # Hangul: ranked by meaning alone
    assert result.candidates[0].faq_id == "gomi"
    # Its best vector is the Korean question: the same cosine as against that text alone.
    encoder = HashingEncoder()
    expected = float(encoder.encode_passages([KOREAN_SOFA])[0] @ encoder.encode_queries([question])[0])
    assert result.candidates[0].semantic == pytest.approx(expected, abs=1e-4)
    assert without.search(question, k=3).candidates[0].semantic < expected


def test_translated_questions_are_not_words_of_the_index(analyzer):
    index = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())
    assert index.scripts == frozenset({"kana"})  # Hangul and Latin letters do not count as read
    assert not index.reads("How do I throw away large garbage?")
    assert index.state["utterance_terms"] == FaqIndex.build(
        [IndexDocument(**{**d.__dict__, "translations": ()}) for d in DOCS], analyzer).state["utterance_terms"]
    assert [list(t) for t in index.state["docs"][0]["translations"]] == [["ko", KOREAN_SOFA],
                                                                         ["en", "How do I throw away large garbage?"]]


def test_passage_vectors_hold_one_row_per_translated_question(analyzer, tmp_path):
    index = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())
    assert index.passages.utterances.shape == (4, 64)
    assert index.passages.translations.shape == (3, 64)
    index.passages.save(tmp_path)
    loaded = PassageVectors.load(tmp_path)
    np.testing.assert_array_equal(loaded.translations, index.passages.translations)
    again = FaqIndex.from_state(index.state, analyzer, passages=loaded, encoder=HashingEncoder())
    assert ranked(again, "소파 같은 큰 쓰레기 버리는 방법") == ranked(index, "소파 같은 큰 쓰레기 버리는 방법")


def test_a_model_from_before_translated_vectors_still_loads(analyzer, tmp_path):
    plain = [IndexDocument(**{**d.__dict__, "translations": ()}) for d in DOCS]
    index = FaqIndex.build(plain, analyzer, encoder=HashingEncoder())
    np.savez(tmp_path / PassageVectors.FILE, identity=np.array(index.passages.identity),
             utterances=index.passages.utterances, answers=index.passages.answers)  # no "translations"
    state = {**index.state, "docs": [{k: v for k, v in d.items() if k != "translations"} for d in index.state["docs"]]}
    loaded = FaqIndex.from_state(state, analyzer, passages=PassageVectors.load(tmp_path), encoder=HashingEncoder())
    assert loaded.passages.translations.shape == (0, 64)
    assert ranked(loaded, "粗大ごみの出し方")[0] == "gomi"


def test_vectors_that_do_not_fit_the_translations_are_refused(analyzer):
    index = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())
    short = PassageVectors(index.passages.identity, index.passages.utterances, index.passages.answers,
                           index.passages.translations[:2])
    with pytest.raises(ValueError, match="2 translation and 0 translated-answer vectors .* 3 translated questions .*; retrain"):
        FaqIndex.from_state(index.state, analyzer, passages=short, encoder=HashingEncoder())


def test_translated_questions_are_cached_by_text_like_the_others(analyzer, tmp_path):
    cache = VectorCache(tmp_path / "cache.sqlite3")
    first = CachedPassages(HashingEncoder(), cache)
    FaqIndex.build(DOCS, analyzer, None, None, first.encoder, first)
    assert (first.encoded, first.reused) == (10, 0)  # 4 questions/paraphrases + 3 answers + 3 translated
    edited = [IndexDocument(**{**DOCS[0].__dict__, "translations": (("ko", KOREAN_SOFA), ("en", "Large garbage: how?"))}), *DOCS[1:]]
    encoder = HashingEncoder()
    second = CachedPassages(encoder, cache)
    FaqIndex.build(edited, analyzer, None, None, encoder, second)
    assert encoder.encoded_texts == ["Large garbage: how?"]


def test_the_question_is_still_one_matrix_product(analyzer):
    index = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())
    assert index._sem_utt.shape == (7, 64)  # 4 questions/paraphrases + 3 translated, by language and FAQ
    best, _, _, _ = index.semantic_scores(HashingEncoder().encode_queries([KOREAN_SOFA])[0])
    assert best[0] == pytest.approx(1.0, abs=1e-5)  # the Korean question itself


def test_each_language_is_rescaled_against_its_own_median(analyzer, monkeypatch):
    """Same-language texts are closer whatever they say: a language's translated questions
    are compared with each other (its median), not with the Japanese questions, and count
    ``translated`` × as much as a Japanese one."""
    import bot.knowledge.index as index_module

    docs = [IndexDocument(f"faq{i}", "c", "d", f"質問{i}", (f"質問{i}",), "回答",
                          translations=(("ko", f"질문 {i}"),)) for i in range(5)]

    def rescaled_with(min_faqs, weights=None):
        monkeypatch.setattr(index_module, "MIN_FAQS_PER_LANGUAGE", min_faqs)
        index = FaqIndex.build(docs, analyzer, weights, encoder=HashingEncoder())
        # Korean rows all at 0.9 but one at 0.95; the Japanese rows all at 0.5.
        index._sem_utt = np.zeros_like(index._sem_utt)
        index._sem_utt[:5, 0] = 0.5
        index._sem_utt[5:, 0] = [0.9, 0.9, 0.95, 0.9, 0.9]
        q = np.zeros(64, dtype=np.float32)
        q[0] = 1.0
        best, _, rescaled, _ = index.semantic_scores(q)
        np.testing.assert_allclose(best, [0.9, 0.9, 0.95, 0.9, 0.9], atol=1e-6)
        return rescaled

    np.testing.assert_allclose(rescaled_with(2, {"translated": 1.0}), [0, 0, 0.5, 0, 0], atol=1e-6)  # (0.95 − 0.9) / 0.1
    np.testing.assert_allclose(rescaled_with(2), [0, 0, 0.3, 0, 0], atol=1e-6)  # × translated 0.6


def test_a_language_with_few_translated_faqs_is_left_out(analyzer, monkeypatch):
    """Its median says little, and against the Japanese one (another language's scale) its
    few FAQs would be pulled up for every question in a related language."""
    import bot.knowledge.index as index_module

    monkeypatch.setattr(index_module, "MIN_FAQS_PER_LANGUAGE", 3)
    index = FaqIndex.build(DOCS, analyzer, encoder=HashingEncoder())  # ko: 2 FAQs, en: 1
    assert index._sem_utt.shape == (4, 64) and index._sem_ans.shape == (3, 64)  # the Japanese texts only
    q = HashingEncoder().encode_queries([KOREAN_SOFA])[0]
    best, _, _, _ = index.semantic_scores(q)
    assert best[0] < 0.5  # the Korean question itself is not among the vectors


def test_without_translations_the_scores_are_those_of_before(analyzer):
    plain = [IndexDocument(**{**d.__dict__, "translations": ()}) for d in DOCS]
    index = FaqIndex.build(plain, analyzer, encoder=HashingEncoder())
    q = HashingEncoder().encode_queries(["粗大ごみを出したい"])[0]
    best, ans, rescaled, _ = index.semantic_scores(q)
    by_faq = [max(float(v @ q) for v, d in zip(index.passages.utterances, index.state["utterance_doc"]) if d == i)
              for i in range(len(plain))]
    np.testing.assert_allclose(best, by_faq, atol=1e-5)
    np.testing.assert_allclose(rescaled, index_module_rescale(np.asarray(by_faq, dtype=np.float32)), atol=1e-5)


def index_module_rescale(cosines):
    from bot.knowledge.index import _rescale

    return _rescale(cosines)
