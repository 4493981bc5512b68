"""A Rasa training-data importer that derives the FAQ training examples from ``knowledge/``.

Configured in ``config.yml`` under ``importers``. Every question and paraphrase becomes an
example of the intent ``faq`` carrying its ``faq_id``; the canonical question also carries
the answer, category and department. The translated questions and paraphrases of
``knowledge/i18n/`` are examples too (after the Japanese ones), so a question in another
language also meets its FAQ by words, not only through the sentence encoder. Because these are ordinary training data, Rasa's
fingerprinting retrains exactly when the knowledge base changes, and nothing generated
is written to disk or edited by hand.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional, Text, Union

from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.knowledge.loader import load_valid_knowledge
from bot.knowledge.model import KnowledgeBase
from bot.settings import Settings

FAQ_INTENT = "faq"
FAQ_ID = "faq_id"
FAQ_META = "faq_meta"


def _translated_utterances(kb: KnowledgeBase, faq_id: str) -> list[str]:
    """Every translated question and paraphrase of an FAQ (stale ones too: a question rarely
    changes meaning when the answer is updated, and only its answer is then held back)."""
    if kb.translations is None:
        return []
    return [u for language in kb.translations.faqs
            for u in (kb.translations.any(language, faq_id).utterances if kb.translations.any(language, faq_id) else ())]


def faq_training_data(kb: KnowledgeBase, translations: bool = True) -> TrainingData:
    """One training example per FAQ question and paraphrase (and translated ones, unless not wanted)."""
    examples = []
    for faq in kb.faqs:
        meta = {
            "category": faq.category,
            "department": faq.department,
            "question": faq.question,
            "answer": faq.answer,
        }
        texts = [*faq.utterances, *(_translated_utterances(kb, faq.id) if translations else [])]
        for i, text in enumerate(dict.fromkeys(texts)):
            data = {"text": text, "intent": FAQ_INTENT, FAQ_ID: faq.id}
            if i == 0:
                data[FAQ_META] = meta
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
        # MADOGUCHI_KNOWLEDGE_DIR (benchmarks, other cities) wins over config.yml.
        if os.environ.get("MADOGUCHI_KNOWLEDGE_DIR") or not knowledge_dir:
            self._knowledge_dir = Settings.from_env().knowledge_dir
        else:
            self._knowledge_dir = Path(knowledge_dir)

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        # Rasa asks several times per training (validation, fingerprinting, training);
        # the knowledge base is read once.
        if language not in self._nlu_cache:
            kb = load_valid_knowledge(self._knowledge_dir)
            self._nlu_cache[language] = (super().get_nlu_data(language), faq_training_data(kb))
        files, faqs = self._nlu_cache[language]
        return files.merge(faqs)  # merge copies: Rasa may change what it gets
