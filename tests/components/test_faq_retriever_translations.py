"""FaqRetriever and the translated questions of knowledge/i18n/: encoded as extra passage
vectors of their FAQ (``encode_translations``), never put in the word index."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.common import override_defaults

from bot.components.faq_retriever import FaqRetriever
from bot.components.knowledge_importer import (
    FAQ_CLASSIFIER_ONLY, FAQ_ID, FAQ_INTENT, FAQ_LANGUAGE, FAQ_META, FAQ_TRANSLATED_ANSWER, faq_training_data,
)
from bot.errors import ConfigError

FAKE = {"backend": "python:tests.fakes.encoder:make"}
FAQS = {
    "gomi-sodai": ("粗大ごみの出し方", "粗大ごみは予約して出してください。",
                   {"ko": "소파 같은 큰 쓰레기는 어떻게 버리나요?", "en": "How do I throw away large garbage?"}),
    "kokuho-kanyu": ("国保に入るには", "会社の保険をやめたら14日以内に届け出てください。",
                     {"ko": "회사를 그만두면 건강보험은 어떻게 되나요?", "en": "How do I join the national health insurance?"}),
}


def training_data(indexed: bool = False) -> TrainingData:
    examples = []
    for fid, (question, answer, translated) in FAQS.items():
        meta = {"category": "c", "department": "d", "question": question, "answer": answer}
        examples.append(Message(data={"text": question, "intent": FAQ_INTENT, FAQ_ID: fid, FAQ_META: meta}))
        for language, text in translated.items():
            data = {"text": text, "intent": FAQ_INTENT, FAQ_ID: fid, FAQ_LANGUAGE: language,
                    FAQ_TRANSLATED_ANSWER: f"({language}) {answer}"}
            if not indexed:
                data[FAQ_CLASSIFIER_ONLY] = True
            examples.append(Message(data=data))
    return TrainingData(training_examples=examples)


def config(custom: dict) -> dict:
    return override_defaults(FaqRetriever.get_default_config(),
                             {"word_vectors": None, "encoder": FAKE, "words_first_threshold": None, **custom})


def trained(storage, custom: dict, indexed: bool = False) -> FaqRetriever:
    context = ExecutionContext(GraphSchema({}), "t")
    FaqRetriever.create(config(custom), storage, Resource("faq"), context).train(training_data(indexed))
    return FaqRetriever.load(config(custom), storage, Resource("faq"), context)


@pytest.fixture(autouse=True)
def every_language_counts(monkeypatch):
    """Two FAQs here: a language is used by meaning however few FAQs it translates."""
    import bot.knowledge.index as index_module

    monkeypatch.setattr(index_module, "MIN_FAQS_PER_LANGUAGE", 1)


@pytest.fixture()
def storage(tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path / "var"))
    (tmp_path / "model").mkdir()
    return LocalModelStorage(tmp_path / "model")


def test_translated_questions_become_passage_vectors_by_default(storage):
    retriever = trained(storage, {})
    index = retriever._index
    assert index.passages.utterances.shape[0] == 2  # the Japanese questions only
    assert index.passages.translations.shape[0] == 4
    assert index.passages.translated_answers.shape[0] == 4
    assert index.docs[0].translated_answers == (("ko", "(ko) 粗大ごみは予約して出してください。"),
                                                ("en", "(en) 粗大ごみは予約して出してください。"))
    assert [d.translations for d in index.docs] == [tuple(FAQS["gomi-sodai"][2].items()),
                                                     tuple(FAQS["kokuho-kanyu"][2].items())]
    d = retriever.decide_text("회사를 그만뒀어요. 건강보험은요?")
    assert d.signals["meaning_only"] and d.ranking[0]["faq_id"] == "kokuho-kanyu"


def test_only_the_listed_languages(storage):
    index = trained(storage, {"encode_translations": ["en"]})._index
    assert [d.translations for d in index.docs] == [(("en", "How do I throw away large garbage?"),),
                                                     (("en", "How do I join the national health insurance?"),)]


def test_off(storage):
    index = trained(storage, {"encode_translations": False})._index
    assert index.passages.translations.shape[0] == 0 and all(not d.translations for d in index.docs)


def test_indexed_translations_are_questions_not_extra_vectors(storage):
    index = trained(storage, {}, indexed=True)._index
    assert index.passages.utterances.shape[0] == 6 and index.passages.translations.shape[0] == 0


def test_without_an_encoder_nothing_is_kept(storage):
    index = trained(storage, {"encoder": None})._index
    assert not index.uses_encoder and all(not d.translations for d in index.docs)


@pytest.mark.parametrize("value", ["yes", 1, ["en", 2]])
def test_a_bad_setting_names_itself(storage, value):
    with pytest.raises(ConfigError, match="encode_translations"):
        FaqRetriever.create(config({"encode_translations": value}), storage, Resource("faq"),
                            ExecutionContext(GraphSchema({}), "t"))


def test_the_importer_marks_language_and_translated_answer_once_per_language(project_root):
    from bot.knowledge.loader import load_valid_knowledge

    kb = load_valid_knowledge(project_root / "knowledge")
    faq = next(f for f in kb.faqs if kb.translations.current("ko", f) is not None)
    examples = [m for m in faq_training_data(kb).intent_examples if m.get(FAQ_ID) == faq.id]
    japanese = [m for m in examples if not m.get(FAQ_CLASSIFIER_ONLY)]
    assert [m.get("text") for m in japanese] == list(dict.fromkeys(faq.utterances))
    assert all(m.get(FAQ_LANGUAGE) is None and m.get(FAQ_TRANSLATED_ANSWER) is None for m in japanese)
    korean = [m for m in examples if m.get(FAQ_LANGUAGE) == "ko"]
    translation = kb.translations.current("ko", faq)
    assert [m.get("text") for m in korean] == list(translation.utterances)
    assert [m.get(FAQ_TRANSLATED_ANSWER) for m in korean] == [translation.answer] + [None] * (len(korean) - 1)
    indexed = [m for m in faq_training_data(kb, index_translations=True).intent_examples if m.get(FAQ_ID) == faq.id]
    assert not any(m.get(FAQ_CLASSIFIER_ONLY) for m in indexed)
