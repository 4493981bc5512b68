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

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from bot.errors import ConfigError
from bot.nlp.japanese import to_hiragana

_MATRIX = "word_vectors.npy"
_VOCAB = "word_vectors_vocab.json"
# In a cache folder (from_package's cache_dir), beside the two files save() writes: the
# package's table as read, so that the vectors are normalised exactly as from the package.
_RAW = "table.npy"


class WordVectors:
    """Unit-length word vectors looked up by index term."""

    def __init__(self, rows: dict[str, int], matrix: np.ndarray) -> None:
        self.rows = rows
        matrix = matrix.astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.matrix = matrix / norms
        self.dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0
        # A folder holding exactly the files save() writes for this table (a cache), or None.
        self._saved_in: Path | None = None

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
        if self._saved_in is not None:  # the same bytes, written once into the cache
            for name in (_MATRIX, _VOCAB):
                shutil.copyfile(self._saved_in / name, directory / name)
            return
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
    def from_package(cls, package: str = "ja_ginza", cache_dir: Path | None = None) -> "WordVectors":
        """Read the vector table of an installed spaCy model package (training time only).

        With ``cache_dir``, the table is kept there after the first read, keyed by the
        package's files: reading it with spaCy takes seconds at every training (its
        480,000 strings), the cache a fraction of a second, and the same table comes
        out. The cache also holds the files :meth:`save` writes, which are then copied.
        """
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
        folder = cache_dir / _cache_key(package, vocab_dirs[-1]) if cache_dir is not None else None
        if folder is not None and all((folder / name).is_file() for name in (_RAW, _MATRIX, _VOCAB)):
            try:
                table = cls(json.loads((folder / _VOCAB).read_text(encoding="utf-8")), np.load(folder / _RAW))
                table._saved_in = folder
                return table
            except (OSError, ValueError):
                pass  # a damaged cache: read the package again and rewrite it
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
        raw = np.asarray(vectors.data)
        table = cls(rows, raw)
        if folder is not None:
            table._write_cache(folder, raw)
        return table

    def _write_cache(self, folder: Path, raw: np.ndarray) -> None:
        """Write the cache folder whole (a temporary folder renamed), or not at all."""
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
            np.save(tmp / _RAW, raw)
            self.save(tmp)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp, folder)
            self._saved_in = folder
        except OSError:
            shutil.rmtree(locals().get("tmp", folder.parent / "-"), ignore_errors=True)


def _cache_key(package: str, vocab_dir: Path) -> str:
    """The cache folder's name: the package and its vector files (path, size, time)."""
    h = hashlib.sha256(str(vocab_dir.resolve()).encode())
    for path in sorted(p for p in vocab_dir.iterdir() if p.is_file()):
        st = path.stat()
        h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return f"{package}-{h.hexdigest()[:16]}"
