"""Training-time speed-ups for Rasa 3.6, installed by our training process (``bot.runtime.training``).

Found by profiling one ``rasa train`` of 988 FAQs with the sentence-vector cache warm
(pyinstrument, docs/benchmarks.md "Training"); each keeps what the trained model answers:

* Fingerprints nobody reads: Rasa's ``TrainingHook`` fingerprints every node's inputs and
  output for its training cache, which for the NLU nodes means hashing every token and
  every feature matrix of every example as text (~15 s of the 64 s). We train with
  ``--force`` and the cache disabled (``RASA_MAX_CACHE_SIZE=0``): nothing is looked up and
  nothing is stored, so the fingerprints are skipped when the cache is disabled (as
  before, and identical, when it is enabled).
* Featurizing the training examples: the two ``CountVectorsFeaturizer`` spend most of
  their time building and converting scipy matrices per example; the same counts are
  built directly (``bot.rasa_speedups.count_vectors``, already used at inference and
  compared with scikit-learn and Rasa there).
* The model archive: Rasa gzips it at level 9 (3.4 s for the project's model); level 1
  takes 0.8 s for a 4 % larger file that loads as fast.

:func:`install` replaces Rasa's functions only on :data:`bot.rasa_speedups.PINNED_RASA_VERSION`
and keeps the originals; :func:`uninstall` puts them back (the tests compare against them).
This registry is separate from the serving one (``bot.rasa_speedups.install``): the Rasa
server does not train, and training does not need the serving patches.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Text, Tuple, Union

from bot.rasa_speedups import RasaVersionError, applied, check_rasa_version, original, replace, uninstall_group

logger = logging.getLogger(__name__)

# gzip level of the trained model archive (Rasa: 9). 1: 0.8 s instead of 3.4 s, +4 % size.
MODEL_COMPRESSLEVEL = 1

# The group of these changes in bot.rasa_speedups' one registry of Rasa's originals.
TRAINING = "training"


def _cache_disabled(hook: Any) -> bool:
    """Whether the hook's training cache stores nothing (``RASA_MAX_CACHE_SIZE=0``)."""
    is_disabled = getattr(hook._cache, "_is_disabled", None)
    return bool(is_disabled and is_disabled())


def on_before_node(self: Any, node_name: Text, execution_context: Any, config: Dict[Text, Any],
                   received_inputs: Dict[Text, Any]) -> Dict:
    """``TrainingHook.on_before_node``: no input fingerprint when the cache is disabled."""
    if _cache_disabled(self):
        return {}
    return original(_training_hook(), "on_before_node")(self, node_name, execution_context, config, received_inputs)


def on_after_node(self: Any, node_name: Text, execution_context: Any, config: Dict[Text, Any], output: Any,
                  input_hook_data: Dict) -> None:
    """``TrainingHook.on_after_node``: no output fingerprint when the cache is disabled
    (Rasa computes it, then ``cache_output`` returns without storing anything)."""
    if _cache_disabled(self):
        return None
    return original(_training_hook(), "on_after_node")(self, node_name, execution_context, config, output,
                                                        input_hook_data)


def create_model_package(self: Any, model_archive_path: Union[Text, Path], model_configuration: Any,
                         domain: Any) -> Any:
    """``LocalModelStorage.create_model_package`` of Rasa 3.6.21, gzip level :data:`MODEL_COMPRESSLEVEL`."""
    import shutil

    from rasa.engine.storage.local_model_storage import (
        MODEL_ARCHIVE_COMPONENTS_DIR, TarSafe, windows_safe_temporary_directory,
    )

    with windows_safe_temporary_directory() as temp_dir:
        temporary_directory = Path(temp_dir)
        shutil.copytree(self._storage_path, temporary_directory / MODEL_ARCHIVE_COMPONENTS_DIR)
        model_metadata = self._create_model_metadata(domain, model_configuration)
        self._persist_metadata(model_metadata, temporary_directory)
        model_archive_path = Path(model_archive_path)
        if not model_archive_path.parent.exists():
            model_archive_path.parent.mkdir(parents=True)
        with TarSafe.open(model_archive_path, "w:gz", compresslevel=MODEL_COMPRESSLEVEL) as tar:
            tar.add(temporary_directory, arcname="")
    return model_metadata


def _training_hook() -> type:
    from rasa.engine.training.hooks import TrainingHook

    return TrainingHook


def _replacements() -> List[Tuple[type, str, Any]]:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer

    from bot.rasa_speedups import count_vectors

    hook = _training_hook()
    return [
        (hook, "on_before_node", on_before_node),
        (hook, "on_after_node", on_after_node),
        (CountVectorsFeaturizer, "_create_features", count_vectors.create_features),
        (LocalModelStorage, "create_model_package", create_model_package),
    ]


def install() -> None:
    """Replace Rasa's training functions with the speed-ups (idempotent).

    Raises:
        RasaVersionError: Rasa is not the pinned version (nothing is replaced).
    """
    check_rasa_version()
    if applied(TRAINING):
        return
    replacements = _replacements()
    for owner, name, _ in replacements:
        if name not in owner.__dict__:
            raise RasaVersionError(f"bot.rasa_speedups.training: {owner.__qualname__}.{name} is not defined where "
                                   "Rasa 3.6 defines it; nothing was patched")
    for owner, name, fast in replacements:
        if owner.__dict__[name] is fast:
            continue  # the serving speed-ups put the same function in place (the count featurizer)
        replace(TRAINING, owner, name, fast)


def uninstall() -> None:
    """Put back what :func:`install` replaced (idempotent; the serving speed-ups stay)."""
    uninstall_group(TRAINING)


def installed() -> bool:
    return applied(TRAINING)
