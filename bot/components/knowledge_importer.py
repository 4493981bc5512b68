"""A Rasa training-data importer that derives the FAQ training examples from ``knowledge/``.

Configured in ``config.yml`` under ``importers``. Every question and paraphrase becomes an
example of the intent ``faq`` carrying its ``faq_id``; the canonical question also carries
the answer, category and department. The current translated questions and paraphrases
of ``knowledge/i18n/`` are examples too (after the Japanese ones): the intent classifier
learns that a question in another language is a question. They go into the FAQ index
only with ``Settings.index_translations`` (then a question in another language meets its
FAQ by words, not only through the sentence encoder; the thresholds need recalibrating).
Otherwise the FAQ retriever encodes them as extra passage vectors of their FAQ, for
meaning only (``FaqRetriever`` → ``encode_translations``). Because these are ordinary training data, Rasa's
fingerprinting retrains exactly when the knowledge base changes, and nothing generated
is written to disk or edited by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Text, Union

from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.constants import INTENT as INTENT_KEY, TEXT as TEXT_KEY
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.contract import FAQ_INTENT
from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.model import Faq, KnowledgeBase
from bot.settings import Settings

FAQ_ID = "faq_id"
FAQ_META = "faq_meta"
# On examples made from knowledge/i18n/ when they are not to be indexed: the FAQ
# retriever leaves them out (Settings.index_translations).
FAQ_CLASSIFIER_ONLY = "faq_classifier_only"
# The language of an example made from knowledge/i18n/ ("en", "ja-easy" …).
FAQ_LANGUAGE = "faq_language"
# On the first example of an FAQ's translation: its translated answer (the FAQ retriever
# encodes it like the translated questions).
FAQ_TRANSLATED_ANSWER = "faq_translated_answer"


def _translated_utterances(kb: KnowledgeBase, faq: Faq) -> list[tuple[str, str, str]]:
    """(language, text, answer) of every current translated question and paraphrase of an
    FAQ (a stale translation is held back here as in the answers)."""
    if kb.translations is None:
        return []
    found = [kb.translations.current(language, faq) for language in kb.translations.faqs]
    return [(t.language, u, t.answer) for t in found if t is not None for u in t.utterances]


def faq_training_data(kb: KnowledgeBase, index_translations: bool = False) -> TrainingData:
    """One training example per FAQ question and paraphrase, Japanese and translated; the
    translated ones are marked for the classifier only unless ``index_translations``."""
    examples = []
    for faq in kb.faqs:
        meta = {
            "category": faq.category,
            "department": faq.department,
            "question": faq.question,
            "answer": faq.answer,
        }
        japanese = list(dict.fromkeys(faq.utterances))
        for i, text in enumerate(japanese):
            data = {"text": text, "intent": FAQ_INTENT, FAQ_ID: faq.id}
            if i == 0:
                data[FAQ_META] = meta
            examples.append(Message(data=data))
        seen = set(japanese)
        answered: set[str] = set()  # languages whose answer is already on an example
        for language, text, answer in _translated_utterances(kb, faq):
            if text not in seen:
                seen.add(text)
                data = {"text": text, "intent": FAQ_INTENT, FAQ_ID: faq.id, FAQ_LANGUAGE: language}
                if language not in answered:
                    answered.add(language)
                    data[FAQ_TRANSLATED_ANSWER] = answer
                if not index_translations:
                    data[FAQ_CLASSIFIER_ONLY] = True
                examples.append(Message(data=data))
    return TrainingData(training_examples=examples)


class KnowledgeImporter(RasaFileImporter):
    """The default Rasa file importer plus the FAQ examples from the knowledge base."""

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Union[List[Text], Text]] = None,
        knowledge_dir: Optional[Text] = None,
    ) -> None:
        super().__init__(config_file, domain_path, training_data_paths)
        self._nlu_cache: dict = {}
        self._faq_data: Optional[TrainingData] = None
        self._index_translations = Settings.from_env().index_translations
        # MADOGUCHI_KNOWLEDGE_DIR (benchmarks, other cities) wins over config.yml.
        if os.environ.get("MADOGUCHI_KNOWLEDGE_DIR") or not knowledge_dir:
            self._knowledge_dir = Settings.from_env().knowledge_dir
        else:
            self._knowledge_dir = Path(knowledge_dir)

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        # Rasa asks several times per training, in two languages ("en" by default, then the
        # config's); the knowledge base is read and checked once per importer.
        if language not in self._nlu_cache:
            if self._faq_data is None:
                kb = load_valid_knowledge(self._knowledge_dir)
                self._faq_data = faq_training_data(kb, self._index_translations)
            files = super().get_nlu_data(language)
            if not self._nlu_cache:
                warn_examples_of_other_intents(self._faq_data, files)
            self._nlu_cache[language] = (files, self._faq_data)
        files, faqs = self._nlu_cache[language]
        return files.merge(faqs)  # merge copies: Rasa may change what it gets


def warn_examples_of_other_intents(faqs: TrainingData, files: TrainingData) -> List[str]:
    """Warn about each FAQ question that is also an example of another intent in data/.

    Rasa's validation (``verify_example_repetition_in_intents``) warns about the same
    conflict, but it only runs when data/, domain.yml or config.yml changed
    (bot.runtime.training); an FAQ edited in the review loop is checked here.

    Returns:
        The warnings given.
    """
    import rasa.shared.utils.io

    others: dict[str, set] = {}
    for example in files.intent_examples:
        if example.get(INTENT_KEY) != FAQ_INTENT:
            others.setdefault(example.get(TEXT_KEY), set()).add(example.get(INTENT_KEY))
    warnings = []
    for example in faqs.intent_examples:
        intents = others.get(example.get(TEXT_KEY))
        if intents:
            warnings.append(
                f"FAQ '{example.get(FAQ_ID)}': 「{example.get(TEXT_KEY)}」 is also an example of the intent "
                f"{', '.join(sorted(intents))} in data/; the intent classifier cannot learn both. "
                "Reword or remove one of them."
            )
            rasa.shared.utils.io.raise_warning(warnings[-1])
    return warnings
