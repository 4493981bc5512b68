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


@pytest.fixture(autouse=True)
def fresh_query_cache(monkeypatch):
    """Each test counts its own encodings (the encoder and the question cache live per process)."""
    from bot.components import query_vectors

    monkeypatch.setattr(query_vectors, "CACHE", query_vectors.QueryVectors())


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
    loaded = load(storage, {"encoder": FAKE, "words_first_threshold": None})  # every FAQ is ranked by meaning
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


# ---------------------------------------------------------------- words first
WORDS_FIRST = {"words_first_threshold": 0.2, "words_first_margin": 0.05, "words_first_min_coverage": 0.5}


def test_a_question_its_words_answer_is_not_encoded(storage):
    create(storage, {"encoder": FAKE, **WORDS_FIRST}).train(training_data())
    loaded = load(storage, {"encoder": FAKE, **WORDS_FIRST})
    encoder = loaded._index.encoder
    before = len(encoder.calls)
    d = loaded.decide_text("粗大ごみの出し方")  # an FAQ's own question
    assert d.faq_id == "gomi-sodai" and d.signals.get("words_first") is True
    assert len(encoder.calls) == before
    d = loaded.decide_text("引越しの手続きはどうすれば")  # its words answer nothing: meaning is consulted
    assert not d.signals.get("words_first")
    assert encoder.calls[before:] == [(True, ["引越しの手続きはどうすれば"])]


def test_without_words_first_every_question_is_encoded(storage):
    create(storage, {"encoder": FAKE, "words_first_threshold": None}).train(training_data())
    loaded = load(storage, {"encoder": FAKE, "words_first_threshold": None})
    encoder = loaded._index.encoder
    before = len(encoder.calls)
    assert loaded.decide_text("粗大ごみの出し方").faq_id == "gomi-sodai"
    assert encoder.calls[before:] == [(True, ["粗大ごみの出し方"])]


def test_calibration_can_switch_words_first_off(storage):
    create(storage, {"encoder": FAKE, **WORDS_FIRST}).train(training_data())
    loaded = load(storage, {"encoder": FAKE, **WORDS_FIRST})
    loaded.set_words_first(False)
    before = len(loaded._index.encoder.calls)
    assert not loaded.decide_text("粗大ごみの出し方").signals.get("words_first")
    assert len(loaded._index.encoder.calls) == before + 1


def test_the_prefetch_gate_agrees_with_the_retriever(storage):
    create(storage, {"encoder": FAKE, **WORDS_FIRST}).train(training_data())
    loaded = load(storage, {"encoder": FAKE, **WORDS_FIRST})
    assert loaded.needs_encoder("粗大ごみの出し方") is False
    assert loaded.needs_encoder("引越しの手続きはどうすれば") is True
    before = len(loaded._index.encoder.calls)
    assert loaded.decide_text("粗大ごみの出し方").signals.get("words_first") is True  # reuses the gate's search
    assert len(loaded._index.encoder.calls) == before


def test_a_veto_after_the_gate_still_gets_the_full_search(storage):
    """The gate runs before the classifier: when the classifier then doubts the question,
    the words no longer settle it, and the question is encoded in line."""
    create(storage, {"encoder": FAKE, **WORDS_FIRST}).train(training_data())
    loaded = load(storage, {"encoder": FAKE, **WORDS_FIRST})
    assert loaded.needs_encoder("粗大ごみの出し方") is False
    before = len(loaded._index.encoder.calls)
    doubt = {"name": "out_of_scope", "confidence": 0.7}
    d = loaded.decide_text("粗大ごみの出し方", doubt, [doubt])
    assert not d.signals.get("words_first")
    assert len(loaded._index.encoder.calls) == before + 1


@pytest.mark.parametrize("bad", ["high", [0.2]])
def test_a_words_first_setting_that_is_not_a_number_is_a_clear_error(storage, bad):
    with pytest.raises(ConfigError, match="words_first"):
        create(storage, {"encoder": FAKE, "words_first_threshold": bad})


def test_questions_ranked_by_meaning_alone_get_their_own_thresholds(storage):
    strict = {"meaning_only_answer_threshold": 1.0, "meaning_only_clarify_threshold": 1.0}
    lenient = {"meaning_only_answer_threshold": 0.0, "meaning_only_clarify_threshold": 0.0,
               "meaning_only_margin_threshold": 0.0, "meaning_only_min_coverage": 0.0}
    create(storage, {"encoder": FAKE}).train(training_data())
    question = "How do I throw away a big sofa"  # no letter the FAQs' questions are written in
    refused = load(storage, {"encoder": FAKE, **strict}).decide_text(question)
    assert refused.type.value == "cannot_answer" and refused.signals["meaning_only"] is True
    answered = load(storage, {"encoder": FAKE, **lenient}).decide_text(question)
    assert answered.type.value == "answer" and answered.signals["meaning_only"] is True
    japanese = load(storage, {"encoder": FAKE, **strict}).decide_text("粗大ごみの出し方")
    assert japanese.type.value == "answer" and "meaning_only" not in japanese.signals  # main thresholds


def training_data_without_paraphrases() -> TrainingData:
    examples = []
    for fid, (question, _paraphrases, answer) in FAQS.items():
        meta = {"category": "c", "department": "d", "question": question, "answer": answer}
        examples.append(Message(data={"text": question, "intent": FAQ_INTENT, FAQ_ID: fid, FAQ_META: meta}))
    return TrainingData(training_examples=examples)


def test_a_knowledge_base_without_paraphrases_uses_the_few_paraphrases_thresholds(storage):
    refuse_all = {"few_paraphrases_answer_threshold": 1.0, "few_paraphrases_clarify_threshold": 1.0}
    create(storage, {"encoder": FAKE}).train(training_data_without_paraphrases())
    retriever = load(storage, {"encoder": FAKE, **refuse_all})
    assert retriever.few_paraphrases
    decision = retriever.decide_text("粗大ごみの出し方")
    assert decision.type.value == "cannot_answer" and decision.signals["few_paraphrases"] is True
    # With the profile switched off, the main thresholds answer the same question.
    main = load(storage, {"encoder": FAKE, **refuse_all, "few_paraphrases_share": None})
    assert not main.few_paraphrases and main.decide_text("粗大ごみの出し方").type.value == "answer"


def test_a_knowledge_base_with_paraphrases_keeps_the_main_thresholds(storage):
    refuse_all = {"few_paraphrases_answer_threshold": 1.0, "few_paraphrases_clarify_threshold": 1.0}
    create(storage, {"encoder": FAKE}).train(training_data())  # every FAQ has a paraphrase
    retriever = load(storage, {"encoder": FAKE, **refuse_all})
    assert not retriever.few_paraphrases
    decision = retriever.decide_text("粗大ごみの出し方")
    assert decision.type.value == "answer" and "few_paraphrases" not in decision.signals


def test_the_words_first_gate_is_never_laxer_than_the_thresholds_in_use(storage):
    create(storage, {"encoder": FAKE}).train(training_data_without_paraphrases())
    retriever = load(storage, {"encoder": FAKE, "few_paraphrases_min_coverage": 0.9, "words_first_min_coverage": 0.5})
    assert retriever._gate().min_coverage == 0.9


@pytest.mark.parametrize("bad", [{"few_paraphrases_share": "half"}, {"few_paraphrases_margin_threshold": "x"}])
def test_a_few_paraphrases_setting_that_is_not_a_number_is_a_clear_error(storage, bad):
    with pytest.raises(ConfigError, match="few_paraphrases"):
        create(storage, {"encoder": FAKE, **bad})
