"""Rasa's LogisticRegressionClassifier, persisted as plain arrays so that it loads fast.

The stock component stores the scikit-learn model with skops; loading that took ~20 s of
the server's start-up on 2 cores (profiled with pyinstrument). The fitted model is only
a few arrays (coefficients, intercepts, classes), which numpy saves and loads in
milliseconds, without unpickling anything.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier

logger = logging.getLogger(__name__)

_FILE = "logistic_regression.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FastLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Same training and predictions as LogisticRegressionClassifier; fast to load."""

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
