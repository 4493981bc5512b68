"""The fast logistic regression builds Rasa's matrix and gives Rasa's predictions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.intent_classifier import FastLogisticRegressionClassifier

RNG = np.random.default_rng(7)
WORDS, CHARS, DENSE = 30, 50, 4
INTENTS = ["faq", "greet", "thank", "goodbye"]


def sparse_row(width: int, density: float = 0.2) -> scipy.sparse.coo_matrix:
    counts = (RNG.random((1, width)) < density) * RNG.integers(1, 4, (1, width))
    return scipy.sparse.coo_matrix(counts)


def message(intent: str | None = None, dense: bool = False) -> Message:
    m = Message(data={TEXT: "住民票", **({INTENT: intent} if intent else {})})
    # Sequence features too: Rasa's _create_X must ignore them, so must ours.
    m.add_features(Features(scipy.sparse.coo_matrix(RNG.integers(0, 2, (3, WORDS))), FEATURE_TYPE_SEQUENCE, TEXT, "words"))
    m.add_features(Features(sparse_row(WORDS), FEATURE_TYPE_SENTENCE, TEXT, "words"))
    m.add_features(Features(sparse_row(CHARS), FEATURE_TYPE_SENTENCE, TEXT, "chars"))
    m.add_features(Features(sparse_row(9), FEATURE_TYPE_SENTENCE, INTENT, "other attribute"))
    if dense:
        m.add_features(Features(RNG.random((1, DENSE)), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    return m


@pytest.fixture()
def classifiers(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")

    def make(cls, name):
        return cls.create({**cls.get_default_config(), "max_iter": 200}, storage, Resource(name), context)

    return make(LogisticRegressionClassifier, "stock"), make(FastLogisticRegressionClassifier, "fast")


@pytest.mark.parametrize("dense", [False, True])
def test_same_matrix_as_rasa(classifiers, dense):
    stock, fast = classifiers
    messages = [message(dense=dense) for _ in range(6)]
    expected = stock._create_X(messages)
    got = fast._create_X(messages)
    assert got.shape == expected.shape == (6, WORDS + CHARS + (DENSE if dense else 0))
    assert np.array_equal(got.toarray(), expected.toarray())


def test_messages_featurized_differently_are_refused(classifiers):
    _, fast = classifiers
    with pytest.raises(ValueError, match="every message must be featurized by the same pipeline"):
        fast._create_X([message(), message(dense=True)])


@pytest.mark.parametrize("intents", [INTENTS, INTENTS[:2]], ids=["multinomial", "binary"])
def test_same_training_and_predictions_as_rasa(classifiers, intents):
    stock, fast = classifiers
    training = TrainingData([message(intents[i % len(intents)]) for i in range(60)])
    stock.train(training)
    fast.train(training)
    assert np.array_equal(stock.clf.coef_, fast.clf.coef_)
    new = [message() for _ in range(10)]
    assert np.array_equal(fast._predict_proba(fast._create_X(new)), stock.clf.predict_proba(stock._create_X(new)))
    for m in new:
        expected, got = stock.process([m])[0], fast.process([Message(data=dict(m.data), features=list(m.features))])[0]
        assert got.get("intent")["name"] == expected.get("intent")["name"]
        assert [r["name"] for r in got.get("intent_ranking")] == [r["name"] for r in expected.get("intent_ranking")]
        assert [r["confidence"] for r in got.get("intent_ranking")] == [r["confidence"] for r in expected.get("intent_ranking")]


def test_persisted_model_loads_and_predicts_the_same(classifiers, tmp_path):
    _, fast = classifiers
    fast.train(TrainingData([message(INTENTS[i % 4]) for i in range(40)]))
    loaded = FastLogisticRegressionClassifier.load(
        fast.config, fast._model_storage, fast._resource, ExecutionContext(GraphSchema({}), "test"))
    new = [message() for _ in range(5)]
    assert np.array_equal(loaded._predict_proba(loaded._create_X(new)), fast._predict_proba(fast._create_X(new)))
