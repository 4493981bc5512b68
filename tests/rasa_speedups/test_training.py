"""The training speed-ups: Rasa's own functions back after uninstall, fingerprints skipped
only when Rasa's cache is disabled, and the model archive Rasa's own code would write."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pytest
from rasa.engine.caching import LocalTrainingCache
from rasa.engine.graph import GraphModelConfiguration, GraphSchema, SchemaNode
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training.hooks import TrainingHook
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.core.domain import Domain
from rasa.shared.data import TrainingType

from bot.rasa_speedups import count_vectors, training
from tests.rasa_speedups.conftest import assert_is_rasas


@pytest.fixture
def installed():
    training.install()
    yield
    training.uninstall()


def test_uninstall_puts_rasas_functions_back(installed):
    assert TrainingHook.on_after_node is training.on_after_node
    assert CountVectorsFeaturizer._create_features is count_vectors.create_features
    training.uninstall()
    assert not training.installed()
    for function in (TrainingHook.on_before_node, TrainingHook.on_after_node, LocalModelStorage.create_model_package):
        assert_is_rasas(function)
    training.install()


class Unhashable:
    """An output whose fingerprint must not be computed."""

    def fingerprint(self):
        raise AssertionError("fingerprinted")


def hook(tmp_path: Path, monkeypatch, size: str) -> TrainingHook:
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    monkeypatch.setenv("RASA_MAX_CACHE_SIZE", size)
    (tmp_path / "storage").mkdir()
    storage = LocalModelStorage(tmp_path / "storage")
    schema = GraphSchema({"node": SchemaNode(needs={}, uses=CountVectorsFeaturizer, fn="train", constructor_name="create",
                                             config={})})
    return TrainingHook(LocalTrainingCache(), storage, schema)


def test_no_fingerprints_when_rasas_cache_is_disabled(installed, tmp_path, monkeypatch):
    h = hook(tmp_path, monkeypatch, "0")
    assert h.on_before_node("node", None, {}, {"x": Unhashable()}) == {}
    assert h.on_after_node("node", None, {}, Unhashable(), {}) is None


def test_fingerprints_as_rasa_when_the_cache_is_enabled(installed, tmp_path, monkeypatch):
    h = hook(tmp_path, monkeypatch, "1000")
    with pytest.raises(AssertionError, match="fingerprinted"):
        h.on_after_node("node", None, {}, Unhashable(), {"fingerprint_key": "k"})


def package(tmp_path: Path, name: str) -> tarfile.TarFile:
    (tmp_path / f"storage-{name}").mkdir()
    storage = LocalModelStorage(tmp_path / f"storage-{name}")
    with storage.write_to(Resource("train_Component0")) as directory:
        (directory / "weights.txt").write_text("same bytes " * 1000, encoding="utf-8")
    config = GraphModelConfiguration(GraphSchema({}), GraphSchema({}), TrainingType.BOTH, "test", "ja", None, None)
    path = tmp_path / f"{name}.tar.gz"
    storage.create_model_package(path, config, Domain.empty())
    return path


def members(path: Path) -> dict:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: (m.type, tar.extractfile(m).read() if m.isfile() and m.name != "metadata.json" else None)
                for m in tar}


def test_the_model_archive_has_rasas_layout_at_a_faster_level(tmp_path):
    rasas = package(tmp_path, "rasa")
    training.install()
    try:
        ours = package(tmp_path, "ours")
    finally:
        training.uninstall()
    assert members(ours) == members(rasas)
    with open(ours, "rb") as f:
        assert f.read(3)[:2] == b"\x1f\x8b"
    with gzip.open(ours) as g:  # a complete, checksummed gzip stream
        assert g.read()
    # gzip's header records the level: 4 = fastest, 2 = best (Rasa's level 9).
    assert ours.read_bytes()[8] == 4 and rasas.read_bytes()[8] == 2
