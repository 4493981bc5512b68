"""A cache of passage vectors by text hash, so retraining re-encodes only what changed.

Encoding a knowledge base of 1,000 FAQs takes a few minutes; an edit from the review loop
changes one FAQ. Vectors are stored in a SQLite file under ``var/`` keyed by
sha256(encoder identity, kind, text): a new model or another encoder never reads
another's vectors, and an edited text simply misses. Unused entries stay (they are
small: 1.5 KB each); delete the file to start afresh.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Sequence

import numpy as np

from bot.nlp.encoder import SentenceEncoder, prepare

_SCHEMA = "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, dim INTEGER NOT NULL, vector BLOB NOT NULL)"


class VectorCache:
    """Vectors by key in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute(_SCHEMA)
        return conn

    def get_many(self, keys: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with closing(self._connect()) as conn:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for key, d, blob in conn.execute(f"SELECT key, dim, vector FROM vectors WHERE key IN ({marks})", chunk):
                    if d == dim and len(blob) == 4 * dim:
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        if not items:
            return
        with closing(self._connect()) as conn, conn:
            conn.executemany(
                "INSERT OR REPLACE INTO vectors (key, dim, vector) VALUES (?, ?, ?)",
                [(k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )


def cache_key(identity: str, kind: str, text: str) -> str:
    return hashlib.sha256(f"{identity}\x00{kind}\x00{text}".encode("utf-8")).hexdigest()


class CachedPassages:
    """``encode_passages`` through a :class:`VectorCache`; counts what it had to encode."""

    def __init__(self, encoder: SentenceEncoder, cache: VectorCache | None) -> None:
        self.encoder = encoder
        self.cache = cache
        self.encoded = 0  # texts actually encoded (cache misses) since construction
        self.reused = 0

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self.cache is None:
            self.encoded += len(texts)
            return self.encoder.encode_passages(texts)
        max_chars = self.encoder.config.max_chars
        keys = [cache_key(self.encoder.identity, "passage", prepare(t, max_chars)) for t in texts]
        found = self.cache.get_many(sorted(set(keys)), self.encoder.dim)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            wanted = set(missing)
            first = {k: t for k, t in zip(keys, texts) if k in wanted}
            vectors = self.encoder.encode_passages([first[k] for k in missing])
            new = dict(zip(missing, vectors))
            self.cache.put_many(new)
            found.update(new)
        self.encoded += len(missing)
        self.reused += len(keys) - len(missing)
        out = np.zeros((len(texts), self.encoder.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = found[k]
        return out
