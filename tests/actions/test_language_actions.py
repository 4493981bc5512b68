"""Actions answer in the conversation's language (one fresh tracker per test, fixture knowledge base)."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge as knowledge_module
from actions.faq import ActionAnswerFaq, ActionChooseFaq, ActionNoneOfThese
from actions.handoff import ActionAskTicketQuestion, ActionHandoffCancel
from actions.human import ActionFeedbackNegative, ActionFeedbackPositive, ActionSetLanguage, ActionSmalltalk

VI_QUESTION = "Tôi muốn vứt rác cỡ lớn thì phải làm thế nào?"


@pytest.fixture(autouse=True)
def fixture_knowledge(fixture_kb_dir, monkeypatch):
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(fixture_kb_dir))


def user(text, intent="faq", entities=()):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": list(entities)}}


def tracker(*texts, parse=None, intent="faq", entities=(), slots=None) -> Tracker:
    events = [user(t) for t in texts[:-1]] + [user(texts[-1], intent, entities)]
    latest = {"text": texts[-1], "intent": {"name": intent}, "entities": list(entities)}
    if parse is not None:
        latest["madoguchi"] = parse
    return Tracker("r1", slots or {}, latest, events, False, None, {}, "action_listen")


def run(action, t):
    d = CollectingDispatcher()
    events = action.run(d, t, {})
    return d.messages, events


def test_translated_answer_in_vietnamese_with_translated_contact_and_values():
    [m], _ = run(ActionAnswerFaq(), tracker(VI_QUESTION, parse={"type": "answer", "faq_id": "gomi-sodai-apply", "confidence": 0.6}))
    assert m["text"] == (
        "Hãy đăng ký vứt rác cỡ lớn qua điện thoại hoặc Internet. Phí là từ 500 yên một món. "
        "Hãy để rác ra trước 8 giờ sáng ngày thu gom.\n"
        "Liên hệ: Phòng Xử lý rác thải (Tầng 3 tòa nhà chính, điện thoại 0000-11-2222)")
    c = m["custom"]
    assert (c["language"], c["lang"], c["body_lang"], c["translated"], c["note"]) == ("vi", "vi", "vi", True, None)
    assert c["department"] == {"id": "gomi", "name": "Phòng Xử lý rác thải", "phone": "0000-11-2222", "place": "Tầng 3 tòa nhà chính"}
    assert c["question"] == "粗大ごみの出し方を教えてください。"  # staff and the review log keep the Japanese
    assert m.get("buttons") in (None, [])


def test_untranslated_answer_is_japanese_with_a_note_and_the_handoff_offer():
    [m], _ = run(ActionAnswerFaq(), tracker(VI_QUESTION, "Tôi làm mất thẻ My Number rồi phải làm sao?",
                                            parse={"type": "answer", "faq_id": "mynumber-lost", "confidence": 0.6}))
    lines = m["text"].split("\n")
    assert lines[0].startswith("すぐにマイナンバー総合フリーダイヤルに電話して")
    assert lines[1] == "Câu trả lời này chưa có bằng tiếng Việt, nên chúng tôi gửi bằng tiếng Nhật. Nếu chưa hiểu, bạn có thể hỏi nhân viên."
    assert lines[2] == "Liên hệ: Phòng Thị dân (Tầng 1 tòa nhà chính, điện thoại 0000-11-1111)"
    c = m["custom"]
    assert (c["language"], c["body_lang"], c["translated"]) == ("vi", "ja", False)
    assert c["note"] == lines[1] and c["body"] == lines[0]
    assert m["buttons"] == [{"title": "Nói chuyện với nhân viên", "payload": "/request_human"}]


def test_stale_translation_is_not_served():
    [m], _ = run(ActionAnswerFaq(), tracker(VI_QUESTION, parse={"type": "answer", "faq_id": "gomi-spray", "confidence": 0.6}))
    assert m["text"].startswith("中身を使い切ってから") and m["custom"]["translated"] is False


def test_clarify_in_vietnamese_translates_the_buttons_it_can():
    cands = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.5},
             {"faq_id": "gomi-spray", "question": "スプレー缶はどうやって捨てればいいですか。", "score": 0.45}]
    [m], _ = run(ActionAnswerFaq(), tracker("Tôi muốn hỏi về cách vứt rác", parse={"type": "clarify", "candidates": cands, "confidence": 0.3}))
    assert m["text"] == "Có phải bạn muốn hỏi một trong những câu sau không? Hãy chọn câu phù hợp."
    assert [b["title"] for b in m["buttons"]] == ["Tôi muốn vứt rác cỡ lớn thì phải làm thế nào?",
                                                  "スプレー缶はどうやって捨てればいいですか。",  # stale: Japanese
                                                  "Không phải câu nào cả"]
    assert m["custom"]["candidates"] == cands


def test_choosing_and_none_of_these_stay_vietnamese():
    [m], _ = run(ActionChooseFaq(), tracker(VI_QUESTION, '/choose_faq{"faq_id": "juminhyo-get"}', intent="choose_faq",
                                            entities=[{"entity": "faq_id", "value": "juminhyo-get"}]))
    assert m["text"].startswith("Bạn có thể lấy tại quầy Phòng Thị dân") and "300 yên một bản" in m["text"]
    [m], _ = run(ActionNoneOfThese(), tracker(VI_QUESTION, "/none_of_these", intent="none_of_these", slots={"last_department": "gomi"}))
    assert m["text"] == ("Xin lỗi, chúng tôi không tìm thấy thông tin để trả lời câu hỏi đó.\n"
                         "Vui lòng liên hệ Phòng Xử lý rác thải (Tầng 3 tòa nhà chính, điện thoại 0000-11-2222).")


def test_feedback_smalltalk_and_ticket_question_in_vietnamese():
    [m], _ = run(ActionFeedbackNegative(), tracker(VI_QUESTION, "/feedback_negative", intent="feedback_negative",
                                                   slots={"last_department": "gomi"}))
    assert m["text"].startswith("Xin lỗi vì chưa giúp được bạn.") and m["custom"]["language"] == "vi"
    [m], _ = run(ActionFeedbackPositive(), tracker(VI_QUESTION, "/feedback_positive", intent="feedback_positive"))
    assert m["text"] == "Rất vui vì đã giúp được bạn. Nếu còn câu hỏi khác, hãy nhập vào."
    [m], _ = run(ActionSmalltalk(), tracker(VI_QUESTION, "Cảm ơn", intent="thank"))
    assert m["text"] == "Không có gì. Nếu còn câu hỏi khác, cứ nhập vào nhé."
    [m], _ = run(ActionAskTicketQuestion(), tracker(VI_QUESTION, "/leave_message", intent="leave_message"))
    assert m["text"].startswith("Hãy nhập câu hỏi cho nhân viên") and m["buttons"][0]["title"] == "Dừng"


def test_cancel_in_vietnamese():
    [m], _ = run(ActionHandoffCancel(), tracker(VI_QUESTION, "/handoff_cancel", intent="handoff_cancel"))
    assert m["text"] == "Không có gì để hủy. Hãy nhập điều bạn muốn biết."


def test_set_language_confirms_in_the_chosen_language():
    msgs, events = run(ActionSetLanguage(), tracker("粗大ごみの出し方を教えて", '/set_language{"language": "ko"}', intent="set_language",
                                                     entities=[{"entity": "language", "value": "ko"}]))
    assert [m["text"] for m in msgs] == ["지금부터 한국어로 답변하겠습니다."]
    assert msgs[0]["custom"]["type"] == "language" and events == [{"event": "slot", "timestamp": None, "name": "language", "value": "ko"}]


def test_japanese_conversation_is_unchanged():
    [m], _ = run(ActionSmalltalk(), tracker("こんにちは", intent="greet"))
    assert m["text"].startswith("こんにちは。市役所のお問い合わせ窓口です。")
    [m], _ = run(ActionAnswerFaq(), tracker("粗大ごみの出し方", parse={"type": "answer", "faq_id": "gomi-sodai-apply", "confidence": 0.6}))
    assert m["text"].endswith("お問い合わせ：ごみ対策課（本庁舎3階・電話 0000-11-2222）")
    assert m["custom"]["translated"] is True and m["custom"]["note"] is None and m["custom"]["language"] == "ja"


def test_easy_japanese_answer_after_the_choice():
    events = [user('/set_language{"language": "ja-easy"}', "set_language", [{"entity": "language", "value": "ja-easy"}]),
              user("住民票がほしい")]
    t = Tracker("r1", {}, {"text": "住民票がほしい", "intent": {"name": "faq"}, "entities": [],
                           "madoguchi": {"type": "answer", "faq_id": "juminhyo-get", "confidence": 0.6}},
                events, False, None, {}, "action_listen")
    [m], _ = run(ActionAnswerFaq(), t)
    assert m["text"].split("\n") == [
        "市役所の 本庁舎 1階の 市民課で もらえます。お金が かかります（1通300円）。あなたが だれか わかる カード（在留カード など）を 持って きて ください。",
        "ききたい ときは：市民課（本庁舎1階・電話 0000-11-1111）"]
    assert (m["custom"]["language"], m["custom"]["lang"], m["custom"]["translated"]) == ("ja-easy", "ja", True)
