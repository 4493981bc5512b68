"""Japanese word vectors (GiNZA's ja_ginza 5.2 table) for meaning-level matching.

TF-IDF only matches words that are spelled the same after Sudachi's normalisation; a
resident who writes 「飼い猫」 or 「古着」 meets an FAQ about ペット or 衣類 only through
meaning. ja_ginza ships 300-dimensional vectors for 480,000 words (20,000 distinct
vectors), keyed by Sudachi's normalised forms, which are our index terms.

The table is read once at training time from the installed ``ja_ginza`` package and
stored in the trained model (bot/components/faq_retriever.py), so a model loads and
answers without spaCy and without any download. Pure numpy at inference.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bot.errors import ConfigError
from bot.nlp.japanese import to_hiragana

_MATRIX = "word_vectors.npy"
_VOCAB = "word_vectors_vocab.json"


class WordVectors:
    """Unit-length word vectors looked up by index term."""

    def __init__(self, rows: dict[str, int], matrix: np.ndarray) -> None:
        self.rows = rows
        matrix = matrix.astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.matrix = matrix / norms
        self.dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0

    def __len__(self) -> int:
        return len(self.rows)

    def row_of(self, term: str) -> int | None:
        """The row of ``term``; index terms are lower-cased and kana-only ones katakana,
        the table has 「PC」 and 「ごみ」, so those spellings are tried too."""
        for form in (term, to_hiragana(term), term.upper(), term.capitalize()):
            row = self.rows.get(form)
            if row is not None:
                return row
        return None

    def embed(self, terms: Iterable[str], weight: Callable[[str], float]) -> np.ndarray:
        """Unit vector of the weighted sum of the terms' vectors (zeros when none is known)."""
        acc = np.zeros(self.dim, dtype=np.float32)
        for t in set(terms):
            row = self.row_of(t)
            if row is not None:
                acc += weight(t) * self.matrix[row]
        norm = float(np.linalg.norm(acc))
        return acc / norm if norm else acc

    # ------------------------------------------------------------------ storage
    def save(self, directory: Path) -> None:
        np.save(directory / _MATRIX, self.matrix.astype(np.float16))
        (directory / _VOCAB).write_text(json.dumps(self.rows, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "WordVectors | None":
        """The table stored in a trained model, or None when the model has none."""
        if not (directory / _MATRIX).exists():
            return None
        rows = json.loads((directory / _VOCAB).read_text(encoding="utf-8"))
        return cls(rows, np.load(directory / _MATRIX))

    @classmethod
    def from_package(cls, package: str = "ja_ginza") -> "WordVectors":
        """Read the vector table of an installed spaCy model package (training time only)."""
        spec = importlib.util.find_spec(package)
        if spec is None or spec.origin is None:
            raise ConfigError(
                f"FaqRetriever: word_vectors is {package!r}, but the package {package} is not installed",
                hint="run `make run` or `scripts/bootstrap.sh` (it installs ja-ginza 5.2.0 from requirements.lock), "
                     "or set word_vectors: null in config.yml to match by words only",
            )
        vocab_dirs = sorted(Path(spec.origin).parent.glob("*/vocab"))
        if not vocab_dirs:
            raise ConfigError(f"FaqRetriever: no vocab/ folder in the {package} package at {Path(spec.origin).parent}",
                              hint="reinstall it: .venv/bin/pip install --force-reinstall -r requirements.lock")
        from spacy.strings import hash_string
        from spacy.vectors import Vectors

        vectors = Vectors().from_disk(vocab_dirs[-1])
        strings = json.loads((vocab_dirs[-1] / "strings.json").read_text(encoding="utf-8"))
        key2row = vectors.key2row
        rows = {}
        for s in strings:
            row = key2row.get(hash_string(s))
            if row is not None and row >= 0:
                rows[s] = int(row)
        return cls(rows, np.asarray(vectors.data))
