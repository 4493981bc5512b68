"""A stronger local model: an ONNX export of a Hugging Face sentence encoder.

A city that wants a larger or Japanese-specific model (a Japanese e5, bge or ruri, …)
exports it to ONNX once, on a machine with internet, and copies the directory to the
server (docs/encoder.md, "Plugging in an ONNX model"). ``model`` in the config is that
directory; it must hold ``model.onnx`` and ``tokenizer.json`` (the Hugging Face
``tokenizers`` format). Nothing is downloaded: both files are read from disk.

The graph gets ``input_ids`` and ``attention_mask`` (and ``token_type_ids`` when it
declares it). Its output ``last_hidden_state`` (else its first output) is either
per-token, ``(batch, tokens, dim)``, and pooled here (``mean`` over the attention mask,
or ``cls`` = the first token), or already pooled, ``(batch, dim)``. Prefixes and
pooling must be the ones the model was trained with: its model card says which.

onnxruntime's thread count is fixed per session, so :meth:`OnnxEncoder.set_threads`
rebuilds the session, lazily: only when a batch is encoded with another count.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import ConfigError
from bot.nlp.encoder import SETTING, EncoderConfig, SentenceEncoder, file_fingerprint

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
POOLINGS = ("mean", "cls")
DEFAULT_MAX_TOKENS = 512  # BERT-family position embeddings; what most sentence encoders were trained with
PREFERRED_OUTPUT = "last_hidden_state"
_PAD_TOKENS = ("[PAD]", "<pad>", "<PAD>")
_INPUT_DTYPES = {"tensor(int64)": np.int64, "tensor(int32)": np.int32}


class OnnxEncoder(SentenceEncoder):
    def __init__(self, config: EncoderConfig) -> None:
        super().__init__(config)
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(
                f"{SETTING}: backend onnx is configured but the package {exc.name or 'onnxruntime/tokenizers'} "
                "is not installed",
                hint="run `.venv/bin/pip install onnxruntime tokenizers` (pinned in requirements.lock), "
                     "or set another encoder backend, or encoder: null for words only",
            ) from None
        self._ort = onnxruntime
        directory = _model_directory(config.model)
        if config.pooling not in POOLINGS:
            raise ConfigError(f"{SETTING}: unknown pooling {config.pooling!r} for backend onnx",
                              hint=f"use one of {', '.join(POOLINGS)}, as the model card says (e5, ruri: mean; "
                                   "bge: cls)")
        self._model_path = directory / MODEL_FILE
        self._tokenizer, self._max_tokens, self._pad_id = _load_tokenizer(Tokenizer, directory)
        self._threads = config.threads
        self._session = self._new_session(self._threads)
        declared = {i.name: i for i in self._session.get_inputs()}
        if "input_ids" not in declared:
            raise ConfigError(f"{SETTING}: {self._model_path} has no input `input_ids` (it has {sorted(declared)})",
                              hint="export the model with `optimum-cli export onnx --task feature-extraction`")
        unknown = sorted(set(declared) - {"input_ids", "attention_mask", "token_type_ids"})
        if unknown:
            raise ConfigError(f"{SETTING}: {self._model_path} needs inputs this backend cannot give: {unknown}",
                              hint="export an encoder-only model with `--task feature-extraction`")
        self._input_dtypes = {name: _INPUT_DTYPES.get(i.type, np.int64) for name, i in declared.items()}
        outputs = self._session.get_outputs()
        output = next((o for o in outputs if o.name == PREFERRED_OUTPUT), outputs[0])
        if output.shape and len(output.shape) not in (2, 3):  # an undeclared shape is checked by the probe
            raise ConfigError(f"{SETTING}: output {output.name!r} of {self._model_path} has shape {output.shape}",
                              hint="expected (batch, tokens, dim) token vectors or (batch, dim) sentence vectors")
        self._output = output.name
        size = output.shape[-1] if output.shape else None
        self.dim = size if isinstance(size, int) and size > 0 else int(self._run(["dim"]).shape[1])
        # Models over 2 GB keep their weights beside the graph (model.onnx_data): those count too.
        files = [self._model_path, *sorted(p for p in directory.glob(MODEL_FILE + "?*") if p.is_file()),
                 directory / TOKENIZER_FILE]
        self.identity = (
            f"onnx:{'-'.join(file_fingerprint(p) for p in files)}"
            f":{config.pooling}:max{self._max_tokens}:q={config.query_prefix!r}:p={config.passage_prefix!r}"
        )

    def set_threads(self, threads: int) -> None:
        self._threads = max(1, threads) if threads else max(1, os.cpu_count() or 1)

    def _encode(self, texts: list[str], query: bool) -> np.ndarray:
        prefix = self.config.query_prefix if query else self.config.passage_prefix
        return self._run([prefix + t for t in texts])

    def _run(self, texts: list[str]) -> np.ndarray:
        if self._session_threads != self._threads:
            self._session = self._new_session(self._threads)
        # One text at a time: tokenizers' batch call would spread over every core.
        encodings = [self._tokenizer.encode(t) for t in texts]
        length = max(1, max(len(e.ids) for e in encodings))
        ids = np.full((len(texts), length), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        types = np.zeros((len(texts), length), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = 1
            types[row, : len(e.ids)] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        inputs = {name: feed[name].astype(dtype, copy=False) for name, dtype in self._input_dtypes.items()}
        (hidden,) = self._session.run([self._output], inputs)
        hidden = np.asarray(hidden, dtype=np.float32)
        if hidden.ndim not in (2, 3):
            raise RuntimeError(f"{self._model_path}: output {self._output!r} has shape {hidden.shape}; "
                               "expected (batch, tokens, dim) or (batch, dim)")
        if hidden.ndim == 2:
            return hidden
        if self.config.pooling == "cls":
            return hidden[:, 0, :]
        weights = mask[:, :, None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)

    def _new_session(self, threads: int) -> Any:
        options = self._ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = self._ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only: exports often trigger harmless optimiser warnings
        try:
            session = self._ort.InferenceSession(str(self._model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types (InvalidProtobuf, Fail, …)
            raise ConfigError(f"{SETTING}: onnxruntime could not load {self._model_path} ({exc})",
                              hint="re-export the model to ONNX; see docs/encoder.md") from None
        self._session_threads = threads
        return session


def _model_directory(model: str | None) -> Path:
    if not model:
        raise ConfigError(f"{SETTING}: backend onnx needs `model`, the directory of an ONNX export",
                          hint=f"e.g. encoder: {{backend: onnx, model: /srv/models/my-encoder}} with {MODEL_FILE} "
                               f"and {TOKENIZER_FILE} in it; see docs/encoder.md")
    directory = Path(model).expanduser()
    if not directory.is_dir():
        raise ConfigError(f"{SETTING}: model directory {directory} does not exist",
                          hint=f"copy the exported model there (a directory with {MODEL_FILE} and {TOKENIZER_FILE}); "
                               "see docs/encoder.md")
    for name in (MODEL_FILE, TOKENIZER_FILE):
        if not (directory / name).is_file():
            present = sorted(p.name for p in directory.iterdir())[:10]
            raise ConfigError(f"{SETTING}: {name} is missing in model directory {directory} (found: {present})",
                              hint=f"the directory must hold {MODEL_FILE} and {TOKENIZER_FILE}, as "
                                   "`optimum-cli export onnx --task feature-extraction` writes them")
    return directory


def _load_tokenizer(tokenizer_class: Any, directory: Path) -> tuple[Any, int, int]:
    """The tokenizer without padding (batches are padded here), its token limit and pad id."""
    path = directory / TOKENIZER_FILE
    try:
        tokenizer = tokenizer_class.from_file(str(path))
    except Exception as exc:  # noqa: BLE001 - tokenizers raises a bare Exception on a malformed file
        raise ConfigError(f"{SETTING}: cannot read {path} ({exc})",
                          hint="it must be a Hugging Face tokenizers file (tokenizer.json), not a vocab.txt") from None
    padding = tokenizer.padding or {}
    pad_id = padding.get("pad_id")
    if pad_id is None or not padding.get("pad_token"):
        pad_id = next((i for i in map(tokenizer.token_to_id, _PAD_TOKENS) if i is not None), 0)
    tokenizer.no_padding()
    if tokenizer.truncation and tokenizer.truncation.get("max_length"):
        max_tokens = tokenizer.truncation["max_length"]  # kept as the file sets it (strategy, direction)
    else:
        max_tokens = _config_max_length(directory) or DEFAULT_MAX_TOKENS
        tokenizer.enable_truncation(max_length=int(max_tokens))
    return tokenizer, int(max_tokens), int(pad_id)


def _config_max_length(directory: Path) -> int | None:
    """``model_max_length`` of tokenizer_config.json when it is below the default (e.g. 256)."""
    try:
        value = json.loads((directory / "tokenizer_config.json").read_text(encoding="utf-8")).get("model_max_length")
    except (OSError, ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, (int, float)) and 0 < value < DEFAULT_MAX_TOKENS else None
