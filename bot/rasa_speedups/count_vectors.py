"""Rasa's CountVectorsFeaturizer at inference, without scikit-learn's and scipy's per-call overhead.

For every message and attribute Rasa's featurizer calls ``CountVectorizer.transform``
twice (the tokens, then the joined sentence), sorts the CSR matrix's indices and
converts it to COO. For one short message the counting itself is a few microseconds;
building, checking and converting the sparse matrices took ~70 % of the featurizers'
time, and the two featurizers ~11 % of the Rasa process under load (py-spy,
docs/benchmarks.md).

Here the counts are taken with the vectorizer's own analyzer and vocabulary and built
directly into the COO matrix Rasa keeps (same counts, ``binary`` and ``dtype``; rows in
order, column indices sorted; the index dtype scipy would choose). Where the sentence's
features are provably the tokens' features together (``sentence_is_sum_of_tokens``:
true for both featurizers of config.yml), the sentence row is the sum of the token rows
instead of a second analysis. ``bot.rasa_speedups.install()`` makes the featurizer use this at inference;
tests/rasa_speedups/test_count_vectors.py compares it with scikit-learn and with Rasa's own
featurizer (the speed-ups uninstalled).
"""

from __future__ import annotations

from collections import Counter
from typing import Any, List, Optional, Text, Tuple

import numpy as np
import scipy.sparse


def _analyzer(vectorizer: Any):
    """The vectorizer's analyzer, built once per vectorizer: Rasa never changes a loaded
    vectorizer's parameters (scikit-learn's ``set_params`` is not used at inference)."""
    analyze = vectorizer.__dict__.get("_madoguchi_analyzer")
    if analyze is None:
        analyze = vectorizer.__dict__["_madoguchi_analyzer"] = vectorizer.build_analyzer()
    return analyze


def _count_rows(vectorizer: Any, docs: List[Text]) -> List[Counter]:
    """Per document: vocabulary index -> count, as ``CountVectorizer._count_vocab`` counts."""
    vectorizer._check_vocabulary()  # same NotFittedError as transform
    get = vectorizer.vocabulary_.get
    analyze = _analyzer(vectorizer)
    return [Counter([i for i in map(get, analyze(doc)) if i is not None]) for doc in docs]


def _coo(vectorizer: Any, rows: List[Counter]) -> scipy.sparse.coo_matrix:
    """The COO matrix of counted rows: rows in order, column indices sorted."""
    row_ids: List[int] = []
    cols: List[int] = []
    values: List[int] = []
    for row, counts in enumerate(rows):
        ordered = sorted(counts)
        row_ids.extend([row] * len(ordered))
        cols.extend(ordered)
        values.extend([1] * len(ordered) if vectorizer.binary else map(counts.__getitem__, ordered))
    # scipy picks the index dtype from the shape, as it does converting CSR to COO.
    return scipy.sparse.coo_matrix(
        (np.asarray(values, dtype=vectorizer.dtype), (np.asarray(row_ids, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(len(rows), len(vectorizer.vocabulary_)),
    )


def counts_coo(vectorizer: Any, docs: List[Text]) -> scipy.sparse.coo_matrix:
    """``vectorizer.transform(docs)``, indices sorted, as COO: what Rasa's featurizer keeps."""
    return _coo(vectorizer, _count_rows(vectorizer, docs))


# Rasa's token pattern for the word analyzer: a match never spans a space.
_RASA_WORD_PATTERN = r"(?u)\b\w+\b"


def sentence_is_sum_of_tokens(vectorizer: Any, tokens: List[Text]) -> bool:
    """Whether analysing ``" ".join(tokens)`` gives exactly the tokens' features, in order.

    True for scikit-learn's ``char_wb`` analyzer (it pads and n-grams each white-space
    separated word on its own) and for the ``word`` analyzer with Rasa's token pattern
    and unigrams, when no token contains white space and the default preprocessing
    (lower-casing, accent stripping: character by character) is used. Not for ``char``
    n-grams, word n-grams longer than one, or custom analyzers, tokenizers, preprocessors.
    """
    if vectorizer.preprocessor is not None or vectorizer.tokenizer is not None:
        return False
    if vectorizer.analyzer == "char_wb":
        pass
    elif vectorizer.analyzer == "word":
        if tuple(vectorizer.ngram_range) != (1, 1) or vectorizer.token_pattern != _RASA_WORD_PATTERN:
            return False
    else:
        return False
    return all(t and not any(c.isspace() for c in t) for t in tokens)


def token_and_sentence_counts(
    vectorizer: Any, tokens: List[Text]
) -> Tuple[scipy.sparse.coo_matrix, scipy.sparse.coo_matrix]:
    """``(transform(tokens), transform([" ".join(tokens)]))``, sorted, as COO matrices."""
    rows = _count_rows(vectorizer, tokens)
    if sentence_is_sum_of_tokens(vectorizer, tokens):
        sentence: Counter = Counter()
        for counts in rows:
            sentence.update(counts)
    else:
        sentence = _count_rows(vectorizer, [" ".join(tokens)])[0]
    return _coo(vectorizer, rows), _coo(vectorizer, [sentence])


def create_features(
    self: Any, attribute: Text, all_tokens: List[List[Text]]
) -> Tuple[List[Optional[scipy.sparse.spmatrix]], List[Optional[scipy.sparse.spmatrix]]]:
    """``CountVectorsFeaturizer._create_features`` with the counting above (the rest as in Rasa 3.6)."""
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import DENSE_FEATURIZABLE_ATTRIBUTES

    if not self.vectorizers.get(attribute):
        return [None], [None]
    sequence_features: List[Optional[scipy.sparse.spmatrix]] = []
    sentence_features: List[Optional[scipy.sparse.spmatrix]] = []
    vectorizer = self.vectorizers[attribute]
    for tokens in all_tokens:
        if not tokens:
            sequence_features.append(None)
            sentence_features.append(None)
            continue
        if attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            sequence, sentence = token_and_sentence_counts(vectorizer, tokens)
            sequence_features.append(sequence)
            sentence_features.append(sentence)
        else:
            sequence_features.append(counts_coo(vectorizer, tokens))
            sentence_features.append(None)
    return sequence_features, sentence_features

