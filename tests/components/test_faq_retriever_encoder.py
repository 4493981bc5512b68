"""FaqRetriever with a sentence encoder: configured through config.yml the way Rasa merges
it, trained, persisted and loaded; the query is encoded once per message."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.common import override_defaults

from bot.components.faq_retriever import FaqRetriever
from bot.components.knowledge_importer import FAQ_ID, FAQ_INTENT, FAQ_META
from bot.errors import ConfigError

FAKE = {"backend": "python:tests.fakes.encoder:make"}
FAQS = {
    "gomi-sodai": ("粗大ごみの出し方", ["大きいごみを捨てたい", "そだいごみ"], "粗大ごみは予約して出してください。"),
    "kokuho-kanyu": ("国保に入るには", ["会社を辞めた 保険"], "会社の保険をやめたら14日以内に届け出てください。"),
}


def training_data() -> TrainingData:
    examples = []
    for fid, (question, paraphrases, answer) in FAQS.items():
        meta = {"category": "c", "department": "d", "question": question, "answer": answer}
        for i, text in enumerate([question, *paraphrases]):
            data = {"text": text, "intent": FAQ_INTENT, FAQ_ID: fid}
            if i == 0:
                data[FAQ_META] = meta
            examples.append(Message(data=data))
    return TrainingData(training_examples=examples)


def create(storage, custom: dict) -> FaqRetriever:
    config = override_defaults(FaqRetriever.get_default_config(), {"word_vectors": None, **custom})
    return FaqRetriever.create(config, storage, Resource("faq"), ExecutionContext(GraphSchema({}), "t"))


def load(storage, custom: dict) -> FaqRetriever:
    config = override_defaults(FaqRetriever.get_default_config(), {"word_vectors": None, **custom})
    return FaqRetriever.load(config, storage, Resource("faq"), ExecutionContext(GraphSchema({}), "t"))


@pytest.fixture()
def storage(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path / "var"))
    (tmp_path / "model").mkdir()
    return LocalModelStorage(tmp_path / "model")


def test_encoder_null_in_config_means_words_only(storage):
    retriever = create(storage, {"encoder": None})
    retriever.train(training_data())
    loaded = load(storage, {"encoder": None})
    assert not loaded._index.uses_encoder
    assert loaded.decide_text("粗大ごみを出したい").candidates[0]["faq_id"] == "gomi-sodai"


def test_trained_vectors_are_stored_in_the_model_and_cached_under_var(storage, tmp_path):
    create(storage, {"encoder": FAKE}).train(training_data())
    loaded = load(storage, {"encoder": FAKE})
    assert loaded._index.uses_encoder
    assert loaded._index.passages.utterances.shape == (5, 64)  # 2 questions + 3 paraphrases
    assert (tmp_path / "var" / "encoder-cache.sqlite3").exists()
    d = loaded.decide_text("大きいごみを捨てたい")
    assert d.candidates[0]["faq_id"] == "gomi-sodai"
    assert d.ranking[0]["faq_id"] == "gomi-sodai" and len(d.ranking) == 2


def test_each_question_is_encoded_once(storage):
    create(storage, {"encoder": FAKE}).train(training_data())
    loaded = load(storage, {"encoder": FAKE})
    encoder = loaded._index.encoder
    before = len(encoder.calls)
    loaded.decide_text("国保の手続きを知りたいのですが")
    assert [(q, t) for q, t in encoder.calls[before:]] == [(True, ["国保の手続きを知りたいのですが"])]
    loaded.decide_text("国保の手続きを知りたいのですが")  # asked again: from the cache
    assert len(encoder.calls) == before + 1


def test_model_and_config_must_agree_about_the_encoder(storage):
    create(storage, {"encoder": FAKE}).train(training_data())
    with pytest.raises(ConfigError, match="retrain"):
        load(storage, {"encoder": None})
