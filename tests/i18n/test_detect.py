"""Language detection: one message, and a whole conversation (pure; Lingua's bundled models)."""

from __future__ import annotations

import pytest

from bot.i18n.detect import Detection, Turn, conversation_language, detect, turns_from_events


@pytest.mark.parametrize("text, language", [
    ("粗大ごみの出し方を教えてください", "ja"),
    ("住民票在哪里办理？", "zh-Hans"),
    ("我想办理住民票", "zh-Hans"),
    ("주민표는 어디서 받을 수 있나요?", "ko"),
    ("Tôi muốn vứt rác cỡ lớn", "vi"),
    ("Where can I get a residence certificate?", "en"),
    ("Onde posso tirar o atestado de residência?", "pt-BR"),
    ("Saan ako makakakuha ng residence certificate?", "fil"),
    ("Paano magtapon ng malaking basura?", "fil"),
])
def test_clear_messages(text, language):
    assert detect(text) == Detection(language, True)


@pytest.mark.parametrize("text, language", [
    # code-switched: a Japanese term inside another language's sentence
    ("Tôi muốn lấy 住民票 ở đâu?", "vi"),
    ("Where can I get a juminhyo?", "en"),
    ("Onde fica o 市役所 de vocês?", "pt-BR"),
    ("마이ナンバー카드를 잃어버렸어요", "ko"),
    # a Latin word inside Japanese
    ("マイナンバーカードの PIN を忘れました", "ja"),
])
def test_code_switched_messages_go_by_the_main_language(text, language):
    assert detect(text).language == language


@pytest.mark.parametrize("text", ["OK", "ok!", "3", "12345", "0000-11-1111", "？", "👍", "/request_human",
                                  '/choose_faq{"faq_id": "gomi-spray"}', "thank you", "Hello", "住民票", "国民健康保険料納付証明書",
                                  "ありがとう", "ありがとうございます！", "はい", "谢谢", "감사합니다", "Cảm ơn", "Obrigado!", "salamat",
                                  "粗大ゴミ please", "［電話番号］"])
def test_short_or_mixed_messages_are_never_clear(text):
    assert detect(text).clear is False


def test_kanji_only_is_not_taken_for_chinese():
    assert detect("住民票").language is None
    assert detect("国民健康保険料納付証明書").language is None


def conv(*texts, chosen: dict | None = None) -> str:
    return conversation_language(Turn(t, (chosen or {}).get(i)) for i, t in enumerate(texts))


def test_no_message_means_japanese():
    assert conversation_language([]) == "ja"
    assert conv("OK", "3") == "ja"


def test_the_first_message_sets_the_language_even_when_short():
    assert conv("Xin chào") == "vi"
    assert conv("ありがとう") == "ja"


@pytest.mark.parametrize("later", ["OK", "ありがとう", "3", "はい", "住民票", "thank you", "Cảm ơn", "/none_of_these",
                                   "粗大ゴミ please", "谢谢"])
def test_short_and_mixed_messages_never_flip_a_vietnamese_conversation(later):
    assert conv("Tôi muốn vứt rác cỡ lớn", later) == "vi"
    assert conv("Tôi muốn vứt rác cỡ lớn", later, "Cảm ơn") == "vi"


def test_a_clear_message_in_another_language_switches():
    assert conv("Tôi muốn vứt rác cỡ lớn", "Where can I get a residence certificate?") == "en"
    assert conv("Where can I get a residence certificate?", "住民票はどこで取れますか") == "ja"


def test_an_explicit_choice_wins_and_stays():
    assert conv("粗大ごみの出し方を教えてください", "/set_language", chosen={1: "vi"}) == "vi"
    # detection no longer switches after a choice, even for a clear message
    assert conv("/set_language", "粗大ごみの出し方を教えてください", chosen={0: "en"}) == "en"
    assert conv("/set_language", "x", "/set_language", chosen={0: "en", 2: "ko"}) == "ko"


def test_easy_japanese_stays_when_the_resident_writes_japanese():
    assert conv("/set_language", "粗大ごみの出し方を教えてください", chosen={0: "ja-easy"}) == "ja-easy"


def test_unknown_choice_is_ignored():
    assert conv("Tôi muốn vứt rác cỡ lớn", "/set_language", chosen={1: "xx"}) == "vi"


def user(text, intent="faq", entities=()):
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}, "entities": list(entities)}}


def test_turns_from_rasa_events_read_the_choice_and_start_over_each_session():
    events = [
        user("Where can I get a residence certificate?"),
        {"event": "bot", "text": "…"},
        {"event": "session_started"},
        user('/set_language{"language": "vi"}', "set_language", [{"entity": "language", "value": "vi"}]),
        user("OK", "thank"),
    ]
    turns = turns_from_events(events)
    assert turns == [Turn('/set_language{"language": "vi"}', "vi"), Turn("OK", None)]
    assert conversation_language(turns) == "vi"


def test_simplified_characters_no_japanese_text_holds_make_han_only_text_chinese():
    assert detect("护照 申请").language == "zh-Hans"  # 护: simplified; Japanese writes 護
    assert detect("住民票 费用").language == "zh-Hans"  # 费: simplified; Japanese writes 費
    assert detect("旅券申請").language is None  # every character is Japanese too
    assert detect("髙橋").language is None  # a vendor-extension kanji Japanese phones type
