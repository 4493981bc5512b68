"""A fake sentence encoder: character bigrams hashed into 64 dimensions.

Deterministic, instant and dependency-free; it counts what it encodes, so cache tests
can assert exactly how many passages were re-encoded. Loadable through the plug-in
backend as ``python:tests.fakes.encoder:make``.
"""

from __future__ import annotations

import threading
import zlib

import numpy as np

from bot.nlp.encoder import EncoderConfig, SentenceEncoder


class HashingEncoder(SentenceEncoder):
    dim = 64

    def __init__(self, config: EncoderConfig | None = None, identity: str = "fake-hashing-1") -> None:
        super().__init__(config or EncoderConfig(backend="python:tests.fakes.encoder:make"))
        self.identity = identity
        self.calls: list[tuple[bool, list[str]]] = []
        self.threads: list[str] = []  # the thread of each call

    @property
    def encoded_texts(self) -> list[str]:
        return [t for _, texts in self.calls for t in texts]

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        self.calls.append((query, list(texts)))
        self.threads.append(threading.current_thread().name)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in zip(text, text[1:] or " "):
                out[row, zlib.crc32((a + b).encode()) % self.dim] += 1.0
        return out


def make(config: EncoderConfig) -> HashingEncoder:
    return HashingEncoder(config)
