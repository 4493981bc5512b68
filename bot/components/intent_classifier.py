"""Rasa's LogisticRegressionClassifier, persisted as plain arrays and cheap per message.

* Loading: the stock component stores the scikit-learn model with skops; loading that
  took ~20 s of the server's start-up on 2 cores (profiled with pyinstrument). The fitted
  model is only a few arrays (coefficients, intercepts, classes), which numpy saves and
  loads in milliseconds, without unpickling anything.
* Per message: the stock ``_create_X`` joins the featurizers' outputs with scipy's
  ``hstack``/``vstack`` (and deep-copies and joins the unused sequence features on the
  way), ~3 ms of scipy bookkeeping for a 1 x 12,000 row (cProfile); then scikit-learn
  re-validates the matrix. Here the row is built from the features' indices in one
  step, and the multinomial probabilities are computed as scikit-learn computes them
  (decision function, then its ``softmax``), with the transposed coefficients kept in
  C order. Same matrix, same probabilities
  (tests/components/test_intent_classifier.py).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.utils.tensorflow.constants import RANKING_LENGTH  # a plain constant, as the parent imports it
from sklearn.utils.extmath import softmax

logger = logging.getLogger(__name__)

_FILE = "logistic_regression.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Same training and predictions as LogisticRegressionClassifier; fast to load."""

    def _create_X(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        """The matrix Rasa's ``_create_X`` builds, without joining matrices one by one.

        A row is the message's sparse sentence features of the text, one featurizer after
        the other in the message's order, then its dense sentence features.
        """
        data: List[np.ndarray] = []
        indices: List[np.ndarray] = []
        indptr = [0]
        width = None
        for message in messages:
            offset = nonzeros = 0
            sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
            for f in [f for f in sentence if f.is_sparse()] + [f for f in sentence if f.is_dense()]:
                if f.is_sparse():
                    coo = f.features.tocoo()
                    columns, values = coo.col.astype(np.int64), coo.data.astype(np.float64)
                else:
                    row = np.asarray(f.features, dtype=np.float64).reshape(-1)
                    (columns,) = np.nonzero(row)
                    values = row[columns]
                indices.append(columns + offset)
                data.append(values)
                offset += f.features.shape[-1]
                nonzeros += len(columns)
            if width is not None and offset != width:
                raise ValueError(
                    f"messages have {width} and {offset} features: every message must be featurized "
                    "by the same pipeline"
                )
            width = offset
            indptr.append(indptr[-1] + nonzeros)
        return scipy.sparse.csr_matrix(
            (
                np.concatenate(data) if data else np.zeros(0),
                np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
                np.asarray(indptr, dtype=np.int64),
            ),
            shape=(len(messages), width or 0),
        )

    def _predict_proba(self, X: scipy.sparse.csr_matrix) -> np.ndarray:
        """``clf.predict_proba(X)``; the multinomial case without scikit-learn's input checks."""
        clf = self.clf
        multinomial = clf.multi_class == "multinomial" or (
            clf.multi_class == "auto" and clf.classes_.size > 2 and clf.solver != "liblinear"
        )
        if not multinomial or X.shape[1] != clf.coef_.shape[1]:
            return clf.predict_proba(X)
        decision = np.asarray(X @ self._coef_transposed()) + clf.intercept_
        return softmax(decision, copy=False)

    def _coef_transposed(self) -> np.ndarray:
        """``clf.coef_.T`` in C order, made once: scipy copies a transposed (F-order) view
        into C order on every sparse product (~1 MB each message, py-spy)."""
        cached = self.__dict__.get("_coef_t")
        if cached is None or cached[0] is not self.clf.coef_:
            cached = (self.clf.coef_, np.ascontiguousarray(self.clf.coef_.T))
            self.__dict__["_coef_t"] = cached
        return cached[1]

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the most likely intent and the ranking, as Rasa's component does."""
        if not messages:
            return messages
        probas = self._predict_proba(self._create_X(messages))
        intents = self.clf.classes_
        for idx, message in enumerate(messages):
            ranking = sorted(
                ({"name": k, "confidence": v} for k, v in zip(intents, probas[idx])), key=lambda e: -e["confidence"]
            )
            intent = ranking[0]
            if self.config[RANKING_LENGTH] > 0:
                ranking = ranking[: self.config[RANKING_LENGTH]]
            message.set("intent", intent, add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / _FILE,
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=np.asarray(self.clf.classes_, dtype=str),
                n_features=np.asarray([self.clf.n_features_in_]),
            )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FastLogisticRegressionClassifier":
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                with np.load(model_dir / _FILE, allow_pickle=False) as data:
                    component.clf.coef_ = data["coef"]
                    component.clf.intercept_ = data["intercept"]
                    component.clf.classes_ = data["classes"].astype(object)
                    component.clf.n_features_in_ = int(data["n_features"][0])
        except (ValueError, FileNotFoundError, KeyError) as exc:
            logger.warning("intent classifier not found in the model (%s); retrain with `bot train`", exc)
            return cls.create(config, model_storage, resource, execution_context)
        return component
