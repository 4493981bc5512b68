"""The word signals count only for questions in a script the FAQs are asked in."""

from bot.knowledge.index import FaqIndex, IndexDocument
from bot.nlp.japanese import JapaneseAnalyzer
from bot.nlp.scripts import japanese_share, main_scripts, script_counts
from tests.fakes.encoder import HashingEncoder

DOCS = [
    IndexDocument("gomi", "ごみ", "環境課", "粗大ごみの出し方", ("粗大ごみの出し方", "ソファを捨てたい"), "予約してください。"),
    IndexDocument("card", "マイナンバー", "市民課", "マイナンバーカードの申請", ("マイナンバーカードを作りたい",), "申請してください。"),
]


def test_scripts_of_a_text():
    assert script_counts("住民票 card 주민") == {"kana": 0, "han": 3, "hangul": 2, "latin": 4}
    assert japanese_share("123 !!") is None
    assert japanese_share("ごみ bag") == 0.4
    assert main_scripts(["粗大ごみ", "ソファ", "sofa please"], min_share=0.4) == frozenset({"kana"})


def test_a_question_without_japanese_letters_is_found_by_meaning_alone():
    index = FaqIndex.build(DOCS, JapaneseAnalyzer(), encoder=HashingEncoder())
    assert index.scripts == frozenset({"kana"})
    assert index.reads("粗大ごみ") and index.reads("Where can I get a マイナンバー card")
    assert not index.reads("How do I throw away a sofa") and not index.reads("소파를 버리고 싶어요")
    english = index.search("How do I throw away a sofa", k=2)
    assert english.query_terms == [] and english.known_terms == 0.0  # no word signals
    assert all(c.word == 0 and c.reading == 0 and c.answer == 0 for c in english.candidates)
    japanese = index.search("粗大ごみの出し方", k=2)
    assert japanese.candidates[0].faq_id == "gomi" and japanese.candidates[0].word > 0


def test_without_an_encoder_words_are_all_there_is():
    index = FaqIndex.build(DOCS, JapaneseAnalyzer())
    assert index.search("sofa", k=2).query_terms  # searched by its words, as before


def test_translated_questions_make_their_script_count():
    docs = DOCS + [IndexDocument("en", "ごみ", "環境課", "Q", ("How to throw away large garbage", "Large garbage"), "A")]
    index = FaqIndex.build(docs, JapaneseAnalyzer(), encoder=HashingEncoder())
    assert "latin" in index.scripts and index.reads("large garbage")
