"""Action tests: one fresh tracker per test, the fixture knowledge base."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge as knowledge_module
from actions.faq import ActionAnswerFaq, ActionChooseFaq, ActionNoneOfThese
from actions.human import ActionFeedbackNegative


@pytest.fixture(autouse=True)
def fixture_knowledge(fixture_kb_dir, monkeypatch):
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(fixture_kb_dir))


def tracker(parse: dict | None = None, slots: dict | None = None, entities=None) -> Tracker:
    latest = {"text": "q", "intent": {"name": "faq", "confidence": 0.7}, "entities": entities or []}
    if parse is not None:
        latest["madoguchi"] = parse
    return Tracker("r1", slots or {}, latest, [], False, None, {}, "action_listen")


def run(action, t):
    d = CollectingDispatcher()
    events = action.run(d, t, {})
    return d.messages, events


CANDS = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.5},
         {"faq_id": "gomi-calendar", "question": "ごみの収集日を知りたいです。", "score": 0.45}]


def test_answer():
    msgs, events = run(ActionAnswerFaq(), tracker({"type": "answer", "faq_id": "gomi-spray", "confidence": 0.8, "candidates": CANDS}))
    [m] = msgs
    assert m["custom"]["type"] == "answer" and m["custom"]["faq_id"] == "gomi-spray"
    assert m["text"].endswith("お問い合わせ：ごみ対策課（本庁舎3階・電話 0000-11-2222）")
    assert {"event": "slot", "name": "last_faq_id", "value": "gomi-spray", "timestamp": None} in events


def test_clarify_offers_buttons_and_none_of_these():
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "clarify", "confidence": 0.4, "candidates": CANDS, "department": "gomi"}))
    [m] = msgs
    assert m["text"].startswith("もしかして、次のどれかですか？")
    assert [b["payload"] for b in m["buttons"]] == [
        '/choose_faq{"faq_id": "gomi-sodai-apply"}', '/choose_faq{"faq_id": "gomi-calendar"}', "/none_of_these"]
    assert m["custom"]["candidates"] == CANDS


def test_clarify_with_removed_faqs_falls_back_to_cannot_answer():
    stale = [{"faq_id": "gone-1", "question": "x", "score": 0.5}, {"faq_id": "gone-2", "question": "y", "score": 0.4}]
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "clarify", "confidence": 0.4, "candidates": stale}))
    assert msgs[0]["custom"]["type"] == "cannot_answer"


def test_cannot_answer_names_department_when_category_recognised():
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "cannot_answer", "confidence": 0.1, "candidates": [], "department": "kokuho"}))
    assert "保険年金課（本庁舎1階・電話 0000-11-3333）にお問い合わせください" in msgs[0]["text"]
    assert msgs[0]["custom"]["department"]["id"] == "kokuho"


def test_cannot_answer_uses_general_contact_otherwise():
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "cannot_answer", "confidence": 0.0, "candidates": []}))
    assert "テスト市役所 代表（電話 0000-11-0000）" in msgs[0]["text"]


def test_personal_case_wording():
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "cannot_answer", "reason": "out_of_scope", "department": "kokuho"}))
    assert "個別のご事情" in msgs[0]["text"]


def test_unclear():
    msgs, _ = run(ActionAnswerFaq(), tracker({"type": "unclear"}))
    assert msgs[0]["custom"]["type"] == "unclear"


def test_missing_decision_is_cannot_answer():
    msgs, _ = run(ActionAnswerFaq(), tracker(None))
    assert msgs[0]["custom"]["type"] == "cannot_answer"


def test_choose_faq():
    msgs, _ = run(ActionChooseFaq(), tracker(entities=[{"entity": "faq_id", "value": "kokuho-join"}]))
    assert msgs[0]["custom"]["faq_id"] == "kokuho-join"
    assert msgs[0]["custom"]["confidence"] == 1.0


def test_choose_missing_faq():
    msgs, _ = run(ActionChooseFaq(), tracker(entities=[{"entity": "faq_id", "value": "nope"}]))
    assert msgs[0]["custom"]["reason"] == "faq_removed"


def test_none_of_these_uses_last_department():
    msgs, _ = run(ActionNoneOfThese(), tracker(slots={"last_department": "gomi"}))
    assert "ごみ対策課" in msgs[0]["text"]


def test_negative_feedback_offers_a_person():
    msgs, _ = run(ActionFeedbackNegative(), tracker(slots={}))
    assert msgs[0]["custom"] == {**msgs[0]["custom"], "type": "feedback", "helpful": False}
    assert msgs[0]["buttons"][0]["payload"] == "/request_human"


def test_knowledge_cache_reloads_on_change(tmp_path, fixture_kb_dir):
    import shutil

    target = tmp_path / "k"
    shutil.copytree(fixture_kb_dir, target)
    cache = knowledge_module.KnowledgeCache(target)
    assert len(cache.get().faqs) == 9
    (target / "faq" / "extra.yml").write_text(
        "category: x\ndepartment: shimin\nfaqs:\n  - id: extra-1\n    question: 追加の質問\n    answer: 追加の答え\n", encoding="utf-8")
    assert len(cache.get().faqs) == 10
    (target / "faq" / "extra.yml").write_text("category: x\nfaqs: [broken", encoding="utf-8")
    assert len(cache.get().faqs) == 10  # keeps the last good version
