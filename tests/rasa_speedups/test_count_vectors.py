"""The featurizer's counting gives scikit-learn's matrices, for any tokens."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.feature_extraction.text import CountVectorizer

from bot.rasa_speedups.count_vectors import counts_coo, sentence_is_sum_of_tokens, token_and_sentence_counts

CORPUS = ["住民票 の 写し を 取り たい", "粗大 ごみ の 出し 方", "マイナンバー カード を なくし た",
          "ΟΔΟΣ Σ straße CAFÉ café", "__NUMBER__ 月 の 児童 手当", "ｶﾀｶﾅ と 全角 ＡＢＣ"]

# Characters that stress the analyzers: Japanese, upper case, accents and combining marks,
# final sigma, white space of several kinds, compatibility characters (¨ decomposes to a space).
ALPHABET = st.sampled_from(list("住民票のごみ出し方カードアイウabcABCéÉΣσς¨\u0301ｶﾀＡ１23 \u3000\u00a0\t-'_"))
TOKENS = st.lists(st.text(ALPHABET, min_size=0, max_size=6), min_size=1, max_size=8)

VECTORIZERS = [
    dict(analyzer="word", token_pattern=r"(?u)\b\w+\b"),  # config.yml's first featurizer
    dict(analyzer="char_wb", ngram_range=(1, 3), token_pattern=None),  # config.yml's second
    dict(analyzer="char_wb", ngram_range=(2, 4), token_pattern=None, lowercase=False, binary=True),
    dict(analyzer="char_wb", ngram_range=(1, 2), token_pattern=None, strip_accents="unicode"),
    dict(analyzer="word", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2)),
    dict(analyzer="word", token_pattern=r"(?u)\b\w+\b", strip_accents="ascii", stop_words=["の"]),
    dict(analyzer="char", ngram_range=(1, 3)),
]


def fitted(params):
    tokens_as_docs = [w for doc in CORPUS for w in doc.split()]
    return CountVectorizer(**params).fit(CORPUS + tokens_as_docs + list("".join(CORPUS)))


def sklearn_coo(vectorizer, docs):
    matrix = vectorizer.transform(docs)
    matrix.sort_indices()  # as Rasa's featurizer does
    return matrix.tocoo()


def assert_same(got, expected):
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    assert got.row.dtype == expected.row.dtype and got.col.dtype == expected.col.dtype
    assert np.array_equal(got.row, expected.row)
    assert np.array_equal(got.col, expected.col)
    assert np.array_equal(got.data, expected.data)


@pytest.mark.parametrize("params", VECTORIZERS, ids=lambda p: f"{p['analyzer']}{p.get('ngram_range', '')}")
@settings(max_examples=150, deadline=None)
@given(tokens=TOKENS)
def test_same_token_and_sentence_matrices_as_scikit_learn(params, tokens):
    vectorizer = fitted(params)
    sequence, sentence = token_and_sentence_counts(vectorizer, tokens)
    assert_same(sequence, sklearn_coo(vectorizer, tokens))
    assert_same(sentence, sklearn_coo(vectorizer, [" ".join(tokens)]))
    assert_same(counts_coo(vectorizer, tokens), sklearn_coo(vectorizer, tokens))


def test_shortcut_is_taken_for_the_configured_featurizers_only():
    words, chars = fitted(VECTORIZERS[0]), fitted(VECTORIZERS[1])
    assert sentence_is_sum_of_tokens(words, ["住民票", "の", "写し"])
    assert sentence_is_sum_of_tokens(chars, ["住民票", "の", "写し"])
    assert not sentence_is_sum_of_tokens(chars, ["住民 票"])  # white space inside a token
    assert not sentence_is_sum_of_tokens(fitted(VECTORIZERS[4]), ["住民票", "の"])  # word bigrams
    assert not sentence_is_sum_of_tokens(fitted(VECTORIZERS[6]), ["住民票", "の"])  # char n-grams cross words


def test_not_fitted_is_refused_as_scikit_learn_does():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        counts_coo(CountVectorizer(), ["a"])


def test_rasa_featurizer_gives_the_same_features(tmp_path, rasa_original):
    """Rasa's CountVectorsFeaturizer, trained, processes messages the same with the fix:
    first with Rasa's own code (speed-ups uninstalled), then installed."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot import rasa_speedups
    from bot.components.sudachi_tokenizer import SudachiTokenizer
    from tests.rasa_speedups.conftest import assert_is_rasas

    # The assistant's own tokenizer: Rasa's WhitespaceTokenizer drops Japanese words, which
    # left one token per message, and with one token the sentence row equals the token row
    # whether or not it is computed right.
    tokenizer = SudachiTokenizer(SudachiTokenizer.get_default_config())
    training = TrainingData([Message(data={"text": t, "intent": "faq"}) for t in CORPUS])
    tokenizer.process_training_data(training)
    texts = ["住民票 を 取り たい 123", "ΟΔΟΣ の ごみ", "ｶﾀｶﾅ ＡＢＣ café", "知らない 言葉"]
    for i, config in enumerate([{}, {"analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3}]):
        featurizer = CountVectorsFeaturizer.create(
            {**CountVectorsFeaturizer.get_default_config(), **config}, LocalModelStorage(tmp_path),
            Resource(f"cvf{i}"), ExecutionContext(GraphSchema({}), "test"))
        featurizer.train(training)
        outputs = []
        for speedups in (False, True):
            if speedups:
                rasa_speedups.install()
                assert CountVectorsFeaturizer._create_features.__module__ == "bot.rasa_speedups.count_vectors"
            else:
                rasa_speedups.uninstall()
                assert_is_rasas(CountVectorsFeaturizer._create_features)
            messages = [Message(data={"text": t}) for t in texts]
            tokenizer.process(messages)
            assert min(len(m.get("text_tokens")) for m in messages) >= 3  # a sentence row differs from a token row
            featurizer.process(messages)
            outputs.append([[(f.type, f.attribute, f.origin, f.features.tocoo()) for f in m.features] for m in messages])
        for expected, got in zip(*outputs):
            assert len(got) == len(expected) == 2
            for (t1, a1, o1, m1), (t2, a2, o2, m2) in zip(expected, got):
                assert (t1, a1, o1) == (t2, a2, o2)
                assert_same(m2, m1)
