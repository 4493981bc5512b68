"""TF-IDF over bags of terms, and character n-grams of readings: the one implementation
the FAQ index (bot/knowledge/index.py) and the review's grouping (bot/review/grouping.py)
share. Pure: numpy and scipy only."""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

import numpy as np
from scipy import sparse


def char_ngrams(reading: str) -> list[str]:
    """Character bigrams and trigrams of a reading (the reading itself when one character)."""
    grams = [reading[i : i + 2] for i in range(len(reading) - 1)]
    grams += [reading[i : i + 3] for i in range(len(reading) - 2)]
    if len(reading) == 1:
        grams.append(reading)
    return grams


class TfidfSpace:
    """A minimal TF-IDF space: sublinear tf, smoothed idf, L2-normalised rows.

    ``matrix`` holds ``rows``; ``background`` rows only count in the document
    frequencies (the review groups a few questions against the whole knowledge base).
    """

    def __init__(self, rows: Sequence[Sequence[str]], background: Sequence[Sequence[str]] = ()) -> None:
        vocab: dict[str, int] = {}
        df: Counter = Counter()
        for row in list(rows) + list(background):
            for t in set(row):
                df[t] += 1
                vocab.setdefault(t, len(vocab))
        n = max(1, len(rows) + len(background))
        self.vocab = vocab
        self.idf = np.zeros(len(vocab), dtype=np.float32)
        for t, i in vocab.items():
            self.idf[i] = math.log((n + 1) / (df[t] + 1)) + 1.0
        self.matrix = self.transform(rows) if rows else sparse.csr_matrix((0, len(vocab)), dtype=np.float32)

    def vector_parts(self, terms: Sequence[str]) -> tuple[list[int], list[float]]:
        """Column indices and weights of one bag of terms (unknown terms are dropped)."""
        counts = Counter(t for t in terms if t in self.vocab)
        cols = [self.vocab[t] for t in counts]
        vals = [(1.0 + math.log(c)) * float(self.idf[self.vocab[t]]) for t, c in counts.items()]
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        return cols, [v / norm for v in vals]

    def transform(self, rows: Sequence[Sequence[str]]) -> sparse.csr_matrix:
        indptr, indices, data = [0], [], []
        for row in rows:
            cols, vals = self.vector_parts(row)
            indices.extend(cols)
            data.extend(vals)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(rows), len(self.vocab)),
        )

    def idf_of(self, term: str, default: float) -> float:
        i = self.vocab.get(term)
        return float(self.idf[i]) if i is not None else default
