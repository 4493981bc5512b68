"""Conversations in other languages against the real Rasa server and action server
(the fixture knowledge base with its translations in tests/fixtures/knowledge/i18n/)."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.conftest import say

pytestmark = pytest.mark.slow


def test_a_vietnamese_conversation_stays_vietnamese_through_clarify_handoff_and_feedback(multilingual_stack):
    sender = uuid.uuid4().hex
    [hello] = say(multilingual_stack, "Xin chào", sender)
    assert hello["text"].startswith("Xin chào. Đây là quầy hỏi đáp") and hello["custom"]["language"] == "vi"

    [clarify] = say(multilingual_stack, "Cho tôi hỏi về việc vứt rác cỡ lớn và lịch thu gom", sender)  # two FAQs fit equally
    assert clarify["custom"]["type"] == "clarify" and clarify["custom"]["language"] == "vi"
    assert clarify["text"] == "Có phải bạn muốn hỏi một trong những câu sau không? Hãy chọn câu phù hợp."
    titles = {b["payload"]: b["title"] for b in clarify["buttons"]}
    assert titles["/none_of_these"] == "Không phải câu nào cả"
    sodai = '/choose_faq{"faq_id": "gomi-sodai-apply"}'
    assert titles[sodai] == "Tôi muốn vứt rác cỡ lớn thì phải làm thế nào?"
    assert titles['/choose_faq{"faq_id": "gomi-calendar"}'] == "Tôi muốn biết ngày thu gom rác."

    [answer] = say(multilingual_stack, sodai, sender)
    assert answer["custom"]["type"] == "answer" and answer["custom"]["translated"] is True
    assert answer["text"] == (
        "Hãy đăng ký vứt rác cỡ lớn qua điện thoại hoặc Internet. Phí là từ 500 yên một món. "
        "Hãy để rác ra trước 8 giờ sáng ngày thu gom.\n"
        "Liên hệ: Phòng Xử lý rác thải (Tầng 3 tòa nhà chính, điện thoại 0000-11-2222)")

    [negative] = say(multilingual_stack, "/feedback_negative", sender)
    assert negative["text"].startswith("Xin lỗi vì chưa giúp được bạn.")
    assert negative["buttons"] == [{"title": "Nói chuyện với nhân viên", "payload": "/request_human"}]

    [queued] = say(multilingual_stack, "/request_human", sender)  # the fixture's office is always open
    assert queued["custom"]["status"] == "queued" and queued["custom"]["language"] == "vi"
    # staff see that this resident writes Vietnamese: on the hand-off and on every review row
    from bot.handoff.store import HandoffStore
    from bot.review.store import ReviewFilter, ReviewLog

    database = multilingual_stack.settings.database
    handoff = HandoffStore.open(database).open_for(sender)
    assert (handoff.status, handoff.language) == ("waiting", "vi")
    rows = [q for q in ReviewLog.open(database).questions(ReviewFilter(outcomes=(), status=None)) if q.conversation_id == sender]
    assert {q.outcome for q in rows} >= {"clarify", "feedback_negative", "handoff_requested"}
    assert {q.language for q in rows} == {"vi"}
    assert queued["text"].startswith("Đang kết nối bạn với nhân viên Phòng Xử lý rác thải.")
    assert queued["buttons"] == [{"title": "Dừng", "payload": "/handoff_cancel"}]

    [cancelled] = say(multilingual_stack, "/handoff_cancel", sender)
    assert cancelled["text"] == "Đã hủy việc kết nối với nhân viên. Bạn có thể tiếp tục nhập câu hỏi."

    for short in ("OK", "ありがとう", "3"):  # never flip the language
        for message in say(multilingual_stack, short, sender):
            assert message["custom"]["language"] == "vi", (short, message)

    [positive] = say(multilingual_stack, "/feedback_positive", sender)
    assert positive["text"] == "Rất vui vì đã giúp được bạn. Nếu còn câu hỏi khác, hãy nhập vào."


def test_none_of_these_in_vietnamese(multilingual_stack):
    sender = uuid.uuid4().hex
    [clarify] = say(multilingual_stack, "Cho tôi hỏi về việc vứt rác cỡ lớn và lịch thu gom", sender)  # two FAQs fit equally
    assert clarify["custom"]["type"] == "clarify"
    [none] = say(multilingual_stack, "/none_of_these", sender)
    assert none["custom"]["type"] == "cannot_answer" and none["custom"]["language"] == "vi"
    assert none["text"].startswith("Xin lỗi, chúng tôi không tìm thấy thông tin để trả lời câu hỏi đó.\nVui lòng liên hệ ")


def test_untranslated_answer_comes_in_japanese_with_a_note_and_the_handoff_offer(multilingual_stack):
    sender = uuid.uuid4().hex
    [chosen] = say(multilingual_stack, '/set_language{"language": "en"}', sender)
    assert chosen["text"] == "I will answer in English from now on." and chosen["custom"]["type"] == "language"
    # a Japanese question after the explicit choice: still English (the choice wins)
    [answer] = say(multilingual_stack, "国民健康保険に入りたいです。会社を辞めました", sender)
    assert answer["custom"]["type"] == "answer" and answer["custom"]["faq_id"] == "kokuho-join"
    assert answer["custom"]["language"] == "en" and answer["custom"]["translated"] is False
    lines = answer["text"].split("\n")
    assert lines[0].startswith("会社を辞めた日の翌日から14日以内に")
    assert lines[1] == ("This answer is not yet available in English, so here it is in Japanese. "
                        "If anything is unclear, you can ask a staff member.")
    assert answer["buttons"] == [{"title": "Talk to a staff member", "payload": "/request_human"}]


def test_english_question_finds_the_japanese_faq_and_answers_in_english(multilingual_stack):
    [answer] = say(multilingual_stack, "Where can I get a residence certificate?", uuid.uuid4().hex)
    assert answer["custom"]["faq_id"] == "juminhyo-get" and answer["custom"]["language"] == "en"
    assert answer["text"].startswith("You can get it at the Citizens Division counter") and "300 yen per copy" in answer["text"]
    assert answer["text"].endswith("Contact: Citizens Division (Main building, 1st floor, tel. 0000-11-1111)")


def test_japanese_conversation_unchanged(multilingual_stack):
    [answer] = say(multilingual_stack, "住民票ってどこでもらえるの？", uuid.uuid4().hex)
    assert answer["custom"]["language"] == "ja" and answer["custom"]["lang"] == "ja"
    assert answer["text"].endswith("お問い合わせ：市民課（本庁舎1階・電話 0000-11-1111）")


def test_without_indexed_translations_japanese_behaviour_is_unchanged_and_languages_still_hold(live_stack):
    """The shared model (translations train the classifier only): the vague Japanese
    question still gets candidates, and a Vietnamese conversation stays Vietnamese."""
    [clarify] = say(live_stack, "ごみはどうやって捨てればいい？", uuid.uuid4().hex)
    assert clarify["custom"]["type"] == "clarify" and clarify["custom"]["language"] == "ja"
    sender = uuid.uuid4().hex
    for text in ("Tôi muốn vứt rác cỡ lớn", "OK", "/request_human", "/handoff_cancel"):
        for message in say(live_stack, text, sender):
            assert message["custom"]["language"] == "vi", (text, message)


def test_a_chinese_question_gets_the_chinese_answer_of_an_essential_faq(multilingual_stack):
    """mynumber-lost is one of the essential FAQs (knowledge/i18n/essential.txt); the
    fixture has its zh-Hans translation and a zh-Hans city.yml."""
    sender = uuid.uuid4().hex
    [answer] = say(multilingual_stack, "我的个人编号卡丢了，怎么办？", sender)
    assert answer["custom"]["type"] == "answer" and answer["custom"]["faq_id"] == "mynumber-lost"
    assert answer["custom"]["language"] == "zh-Hans" and answer["custom"]["translated"] is True
    assert answer["text"] == (
        "请马上打电话给个人编号综合免费电话，暂停卡的使用。然后向警察提交遗失申报，再到市民课办理补发手续。\n"
        "咨询：市民课（本厅舍1楼，电话 0000-11-1111）")
    for message in say(multilingual_stack, "谢谢", sender):  # a short thanks keeps the language
        assert message["custom"]["language"] == "zh-Hans", message
