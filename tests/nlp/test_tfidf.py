"""The one TF-IDF space shared by the FAQ index and the review's grouping."""

import math

import numpy as np

from bot.nlp.tfidf import TfidfSpace, char_ngrams


def test_rows_are_l2_normalised_and_unknown_terms_dropped():
    space = TfidfSpace([["住民票", "写し"], ["住民票", "住民票", "転入"]])
    norms = np.sqrt(space.matrix.multiply(space.matrix).sum(axis=1)).A1
    assert np.allclose(norms, 1.0)
    query = space.transform([["住民票", "未知語"]])
    assert query.shape == (1, len(space.vocab))
    assert query.nnz == 1


def test_sublinear_tf_and_smoothed_idf():
    space = TfidfSpace([["a", "a", "b"], ["b"]])
    idf_a = math.log(3 / 2) + 1.0
    idf_b = math.log(3 / 3) + 1.0
    assert math.isclose(space.idf_of("a", 0.0), idf_a, rel_tol=1e-6)
    assert math.isclose(space.idf_of("b", 0.0), idf_b, rel_tol=1e-6)
    cols, vals = space.vector_parts(["a", "a", "b"])
    raw = {"a": (1 + math.log(2)) * idf_a, "b": idf_b}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    got = dict(zip(cols, vals))
    assert math.isclose(got[space.vocab["a"]], raw["a"] / norm, rel_tol=1e-6)
    assert space.idf_of("zzz", 9.0) == 9.0


def test_background_counts_in_idf_but_is_not_a_row():
    alone = TfidfSpace([["ごみ", "収集"]])
    with_background = TfidfSpace([["ごみ", "収集"]], background=[["ごみ"], ["ごみ", "粗大"]])
    assert with_background.matrix.shape[0] == 1
    # ごみ is common in the background, so it weighs less than 収集 there, not alone.
    row = dict(zip(*with_background.vector_parts(["ごみ", "収集"])))
    assert row[with_background.vocab["ごみ"]] < row[with_background.vocab["収集"]]
    a = dict(zip(*alone.vector_parts(["ごみ", "収集"])))
    assert math.isclose(a[alone.vocab["ごみ"]], a[alone.vocab["収集"]], rel_tol=1e-6)


def test_empty_rows_give_an_empty_matrix():
    assert TfidfSpace([]).matrix.shape == (0, 0)
    assert TfidfSpace([[]]).matrix.nnz == 0


def test_char_ngrams():
    assert char_ngrams("ごみ") == ["ごみ"]
    assert char_ngrams("ジュミン") == ["ジュ", "ュミ", "ミン", "ジュミ", "ュミン"]
    assert char_ngrams("ア") == ["ア"]
    assert char_ngrams("") == []
