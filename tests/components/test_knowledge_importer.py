"""The knowledge importer: the knowledge base read once per training, and FAQ questions
that are also examples of another intent in data/ warned about."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import knowledge_importer
from bot.components.knowledge_importer import KnowledgeImporter, warn_examples_of_other_intents


def examples(*rows):
    return TrainingData(training_examples=[Message(data=dict(row)) for row in rows])


def test_an_faq_question_that_is_an_example_of_another_intent_is_named():
    faqs = examples({"text": "住民票がほしい", "intent": "faq", "faq_id": "juminhyo"},
                    {"text": "ごみの日", "intent": "faq", "faq_id": "gomi"})
    files = examples({"text": "住民票がほしい", "intent": "out_of_scope"},
                     {"text": "ごみの日", "intent": "faq"},  # the same intent: no conflict
                     {"text": "こんにちは", "intent": "greet"})
    with pytest.warns(UserWarning, match="juminhyo"):
        warnings = warn_examples_of_other_intents(faqs, files)
    assert warnings == [
        "FAQ 'juminhyo': 「住民票がほしい」 is also an example of the intent out_of_scope in data/; "
        "the intent classifier cannot learn both. Reword or remove one of them."
    ]


def test_the_knowledge_base_is_read_once_for_every_language(monkeypatch, fixture_kb_dir, project_root):
    reads = []
    real = knowledge_importer.load_valid_knowledge
    monkeypatch.setattr(knowledge_importer, "load_valid_knowledge", lambda d: reads.append(d) or real(d))
    monkeypatch.setenv("MADOGUCHI_KNOWLEDGE_DIR", str(fixture_kb_dir))
    importer = KnowledgeImporter(str(project_root / "config.yml"), str(project_root / "domain.yml"),
                                 [str(project_root / "data")])
    en, ja = importer.get_nlu_data("en"), importer.get_nlu_data("ja")
    importer.get_nlu_data("ja")
    assert len(reads) == 1
    assert [m.get("text") for m in en.training_examples] == [m.get("text") for m in ja.training_examples]
    faq = [m for m in ja.training_examples if m.get("faq_id")]
    assert faq and en.training_examples[0] is not ja.training_examples[0]  # each caller gets its own copy
