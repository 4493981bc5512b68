"""The ``onnx`` encoder backend, on a real onnxruntime session.

Each test model is built here: an embedding table looked up by ``input_ids`` (a graph
with the inputs and outputs of an exported encoder, minus the transformer), and a
character-level ``tokenizer.json`` with [CLS]/[SEP] and truncation at 32 tokens. The
expected vectors are therefore computable by hand: the mean of the token rows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors

from bot.errors import ConfigError
from bot.nlp.encoder import EncoderConfig, load_encoder

DIM = 8
MAX_TOKENS = 32
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
PAD, UNK, CLS, SEP = range(4)
CHARS = "abcdefghijklmnopqrstuvwxyz:" + "住民票はどこで取れますかごみの出し方国健康保険に入りたいあい"
TYPE_ROWS = np.array([[0.5] * DIM, [-3.0] * DIM], dtype=np.float32)  # segment A, segment B
VOCAB = {token: i for i, token in enumerate(SPECIALS + list(dict.fromkeys(CHARS)))}


def table(seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(len(VOCAB), DIM)).astype(np.float32)
    rows[PAD] = 50.0  # a padding row that would swamp any vector it leaked into
    return rows


def write_model(path: Path, seed: int = 0, token_types: bool = False, pooled: bool = False) -> None:
    """An "encoder" whose token vectors are rows of an embedding table."""
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
              for name in ("input_ids", "attention_mask") + (("token_type_ids",) if token_types else ())]
    initializers = [numpy_helper.from_array(table(seed), "embeddings")]
    nodes = [helper.make_node("Gather", ["embeddings", "input_ids"], ["tokens"])]
    if token_types:
        initializers.append(numpy_helper.from_array(TYPE_ROWS, "type_embeddings"))
        nodes.append(helper.make_node("Gather", ["type_embeddings", "token_type_ids"], ["types"]))
        nodes.append(helper.make_node("Add", ["tokens", "types"], ["hidden"]))
    else:
        nodes.append(helper.make_node("Identity", ["tokens"], ["hidden"]))
    if pooled:  # already pooled, under another name, and with a symbolic width: the backend must probe
        nodes.append(helper.make_node("ReduceMean", ["hidden"], ["sentence_embedding"], axes=[1], keepdims=0))
        outputs = [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", "width"])]
    else:
        nodes.append(helper.make_node("Identity", ["hidden"], ["last_hidden_state"]))
        outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", DIM])]
    graph = helper.make_graph(nodes, "tiny-encoder", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def write_tokenizer(path: Path) -> None:
    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex("."), behavior="isolated")])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", CLS), ("[SEP]", SEP)])
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.save(str(path))


def make_model_dir(path: Path, **model_kwargs) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    write_model(path / "model.onnx", **model_kwargs)
    write_tokenizer(path / "tokenizer.json")
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("onnx") / "tiny-encoder")


def load(model: Path | str | None, **settings):
    return load_encoder(EncoderConfig.from_config({
        "backend": "onnx", "model": None if model is None else str(model),
        "query_prefix": "query: ", "passage_prefix": "passage: ", "pooling": "mean", **settings}))


@pytest.fixture(scope="module")
def encoder(model_dir):
    return load(model_dir)


def by_hand(text: str, seed: int = 0, pooling: str = "mean") -> np.ndarray:
    """What the backend must return for ``text`` (prefix included): pooled rows, unit length."""
    ids = [CLS] + [VOCAB.get(c, UNK) for c in "".join(text.split())][: MAX_TOKENS - 2] + [SEP]
    rows = table(seed)[ids]
    vec = rows.mean(axis=0) if pooling == "mean" else rows[0]
    return vec / np.linalg.norm(vec)


def test_loads_through_config_and_gives_unit_rows(encoder):
    q = encoder.encode_queries(["住民票はどこで取れますか", "ごみ"])
    p = encoder.encode_passages(["住民票の出し方"])
    assert encoder.dim == DIM and encoder.identity.startswith("onnx:")
    assert q.shape == (2, DIM) and p.shape == (1, DIM)
    assert q.dtype == np.float32 and p.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(np.vstack([q, p]), axis=1), 1.0, atol=1e-6)
    assert encoder.encode_queries([]).shape == (0, DIM)


def test_vectors_are_the_mean_of_token_vectors_with_the_prefix(encoder):
    np.testing.assert_allclose(encoder.encode_queries(["住民票"])[0], by_hand("query: 住民票"), atol=1e-6)
    np.testing.assert_allclose(encoder.encode_passages(["国保険"])[0], by_hand("passage: 国保険"), atol=1e-6)
    np.testing.assert_allclose(encoder.encode_passages(["😀"])[0], by_hand("passage: 😀"), atol=1e-6)  # [UNK]


def test_deterministic(encoder):
    texts = ["国民健康保険に入りたい", "粗大ごみの出し方", "abc"]
    np.testing.assert_array_equal(encoder.encode_queries(texts), encoder.encode_queries(texts))


def test_empty_text_gets_a_zero_row(encoder):
    vecs = encoder.encode_queries(["", "  \n ", "ごみ"])
    np.testing.assert_array_equal(vecs[:2], 0.0)
    np.testing.assert_allclose(np.linalg.norm(vecs[2]), 1.0, atol=1e-6)


def test_prefixes_change_the_vector(model_dir, encoder):
    text = "マイナンバーカードをなくしました"
    q, p = encoder.encode_queries([text])[0], encoder.encode_passages([text])[0]
    assert float(q @ p) < 0.999
    bare = load(model_dir, query_prefix="", passage_prefix="")
    np.testing.assert_array_equal(bare.encode_queries([text]), bare.encode_passages([text]))
    assert float(bare.encode_queries([text])[0] @ q) < 0.999


def test_mean_pooling_ignores_padding(encoder):
    short, long = "ごみ", "国民健康保険に入りたいのですがどこで"
    alone = encoder.encode_queries([short])[0]
    in_batch = encoder.encode_queries([long, short])
    np.testing.assert_allclose(in_batch[1], alone, atol=1e-6)
    np.testing.assert_allclose(in_batch[0], by_hand("query: " + long), atol=1e-6)


def test_cls_pooling_takes_the_first_token(model_dir, encoder):
    cls = load(model_dir, pooling="cls")
    vecs = cls.encode_queries(["ごみ", "住民票はどこで取れますか"])
    np.testing.assert_allclose(vecs, np.vstack([by_hand("x", pooling="cls")] * 2), atol=1e-6)
    assert float(vecs[0] @ encoder.encode_queries(["ごみ"])[0]) < 0.99
    assert cls.identity != encoder.identity


def test_long_texts_are_truncated_to_the_tokenizers_limit(model_dir):
    bare = load(model_dir, query_prefix="", passage_prefix="")
    head = "あ" * (MAX_TOKENS - 3) + "い"  # 30 characters: with [CLS] and [SEP], exactly the limit
    vecs = bare.encode_passages([head, head + "ごみ" * 100])
    np.testing.assert_allclose(vecs[1], vecs[0], atol=1e-6)
    np.testing.assert_allclose(vecs[0], by_hand(head), atol=1e-6)


def test_pre_pooled_output_with_symbolic_width(tmp_path):
    pooled = load(make_model_dir(tmp_path / "pooled", pooled=True))
    assert pooled.dim == DIM  # found by a probe encode: the graph says only "width"
    np.testing.assert_allclose(pooled.encode_queries(["ごみ"])[0], by_hand("query: ごみ"), atol=1e-6)


def test_token_type_ids_are_fed_when_the_graph_declares_them(tmp_path):
    typed = load(make_model_dir(tmp_path / "typed", token_types=True))
    vec = typed.encode_queries(["ごみ"])[0]
    ids = [CLS] + [VOCAB[c] for c in "query:ごみ"] + [SEP]
    expected = (table(0)[ids] + TYPE_ROWS[0]).mean(axis=0)  # one sentence: segment A
    np.testing.assert_allclose(vec, expected / np.linalg.norm(expected), atol=1e-6)


def test_identity_follows_the_model_files_and_settings(tmp_path, model_dir, encoder):
    assert load(model_dir).identity == encoder.identity
    assert load(model_dir, query_prefix="クエリ: ").identity != encoder.identity
    other = make_model_dir(tmp_path / "other")
    assert load(other).identity == encoder.identity  # same files, same vectors: the caches may share
    write_model(other / "model.onnx", seed=1)
    retrained = load(other)
    assert retrained.identity != encoder.identity
    assert float(retrained.encode_queries(["ごみ"])[0] @ encoder.encode_queries(["ごみ"])[0]) < 0.99
    (other / "model.onnx_data").write_bytes(b"weights kept outside the graph")
    assert load(other).identity != retrained.identity


def test_set_threads_rebuilds_the_session_when_needed(model_dir):
    enc = load(model_dir)
    before = enc.encode_passages(["住民票の出し方"])
    session = enc._session
    enc.set_threads(0)  # training: every core
    enc.set_threads(1)  # back before anything was encoded: the session is kept
    enc.encode_passages(["ごみ"])
    assert enc._session is session
    enc.set_threads(0)
    np.testing.assert_allclose(enc.encode_passages(["住民票の出し方"]), before, atol=1e-6)
    assert enc._session is not session
    assert enc._session.get_session_options().intra_op_num_threads == (os.cpu_count() or 1)


def error_of(model, **settings) -> str:
    with pytest.raises(ConfigError) as err:
        load(model, **settings)
    text = str(err.value)
    assert "encoder" in text and "config.yml" in text and "hint" in text
    return text


def test_missing_directory(tmp_path):
    assert "does not exist" in error_of(tmp_path / "no-such-model")
    assert "needs `model`" in error_of(None)


@pytest.mark.parametrize("name", ["model.onnx", "tokenizer.json"])
def test_missing_file(tmp_path, name):
    directory = make_model_dir(tmp_path / "partial")
    (directory / name).unlink()
    assert f"{name} is missing" in error_of(directory)


def test_unreadable_files(tmp_path):
    directory = make_model_dir(tmp_path / "broken")
    (directory / "model.onnx").write_bytes(b"not a model")
    assert "could not load" in error_of(directory)
    write_model(directory / "model.onnx")
    (directory / "tokenizer.json").write_text("{}", encoding="utf-8")
    assert "cannot read" in error_of(directory)


def test_unknown_pooling(model_dir):
    text = error_of(model_dir, pooling="max")
    assert "pooling 'max'" in text and "mean, cls" in text


@pytest.mark.parametrize("package", ["onnxruntime", "tokenizers"])
def test_missing_package(monkeypatch, model_dir, package):
    monkeypatch.setitem(sys.modules, package, None)  # as if the package were not installed
    text = error_of(model_dir)
    assert f"package {package} is not installed" in text
    assert ".venv/bin/pip install onnxruntime tokenizers" in text
