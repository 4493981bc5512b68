"""Word vectors: lookup by index term, embedding, storage, and the real GiNZA table."""

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.nlp.word_vectors import WordVectors


@pytest.fixture()
def tiny():
    matrix = np.array([[1, 0, 0], [0, 2, 0], [0, 0, 3], [1, 1, 0]], dtype=np.float32)
    return WordVectors({"ごみ": 0, "PC": 1, "税金": 2, "パソコン": 3}, matrix)


def test_rows_are_unit_length(tiny):
    assert np.allclose(np.linalg.norm(tiny.matrix, axis=1), 1.0)


def test_index_term_spellings_find_the_table_spelling(tiny):
    # Index terms are lower-cased, and kana-only ones katakana; the table has 「PC」 and 「ごみ」.
    assert tiny.row_of("ゴミ") == 0
    assert tiny.row_of("pc") == 1
    assert tiny.row_of("住民票") is None


def test_embed_weights_known_terms_and_is_unit_or_zero(tiny):
    v = tiny.embed(["ゴミ", "pc", "未知語"], weight=lambda t: 3.0 if t == "ゴミ" else 1.0)
    assert np.isclose(np.linalg.norm(v), 1.0)
    assert v[0] == pytest.approx(3 / np.sqrt(10))
    assert not tiny.embed(["未知語"], weight=lambda t: 1.0).any()


def test_save_and_load_round_trip(tiny, tmp_path):
    tiny.save(tmp_path)
    again = WordVectors.load(tmp_path)
    assert again.rows == tiny.rows
    assert np.allclose(again.matrix, tiny.matrix, atol=1e-3)


def test_model_without_vectors_loads_none(tmp_path):
    assert WordVectors.load(tmp_path) is None


def test_missing_package_says_what_to_do():
    with pytest.raises(ConfigError) as err:
        WordVectors.from_package("no_such_vectors_package")
    assert "word_vectors: null" in err.value.hint


def test_ginza_table_knows_meaning(word_vectors):
    def sim(a, b):
        return float(word_vectors.matrix[word_vectors.row_of(a)] @ word_vectors.matrix[word_vectors.row_of(b)])

    assert len(word_vectors) > 400_000 and word_vectors.dim == 300
    assert sim("パソコン", "pc") > 0.7
    assert sim("猫", "ペット") > sim("猫", "税金") + 0.2
    assert word_vectors.row_of("引っ越し") is not None  # Sudachi's normalised form of 引越し


def test_the_table_cached_under_var_is_the_packages_table(tmp_path, word_vectors):
    """Read once from ja_ginza and kept: the same rows, the same normalised vectors, and
    the model files save() writes byte for byte the same."""
    import filecmp

    import numpy as np

    first = WordVectors.from_package("ja_ginza", cache_dir=tmp_path / "cache")
    again = WordVectors.from_package("ja_ginza", cache_dir=tmp_path / "cache")
    for table in (first, again):
        assert list(table.rows.items()) == list(word_vectors.rows.items())
        assert table.matrix.dtype == word_vectors.matrix.dtype
        assert np.array_equal(table.matrix, word_vectors.matrix)
    (tmp_path / "plain").mkdir()
    (tmp_path / "cached").mkdir()
    word_vectors.save(tmp_path / "plain")
    again.save(tmp_path / "cached")
    for name in ("word_vectors.npy", "word_vectors_vocab.json"):
        assert filecmp.cmp(tmp_path / "plain" / name, tmp_path / "cached" / name, shallow=False)


def test_a_damaged_cache_is_read_from_the_package_again(tmp_path, word_vectors):
    import numpy as np

    WordVectors.from_package("ja_ginza", cache_dir=tmp_path)
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (folder / "table.npy").write_bytes(b"not a numpy file")
    table = WordVectors.from_package("ja_ginza", cache_dir=tmp_path)
    assert np.array_equal(table.matrix, word_vectors.matrix)
    assert np.load(folder / "table.npy").shape == word_vectors.matrix.shape  # written again
