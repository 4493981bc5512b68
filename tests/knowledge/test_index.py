import pytest

from bot.knowledge.decision import ReplyType, Thresholds, decide
from bot.knowledge.index import FaqIndex, IndexDocument
from bot.knowledge.loader import load_knowledge


@pytest.fixture(scope="module")
def index(fixture_kb_dir, analyzer):
    kb = load_knowledge(fixture_kb_dir).kb
    docs = [IndexDocument(f.id, f.category, f.department, f.question, f.utterances, f.answer) for f in kb.faqs]
    return FaqIndex.build(docs, analyzer)


@pytest.mark.parametrize(
    "question, expected",
    [
        ("住民票はどこでもらえますか", "juminhyo-get"),
        ("じゅうみんひょう", "juminhyo-get"),
        ("粗大ごみ", "gomi-sodai-apply"),
        ("ｽﾌﾟﾚｰ缶の処分", "gomi-spray"),
        ("引越しをしてきました。届出の期限は？", "tennyu-deadline"),
        ("国保に入りたい", "kokuho-join"),
    ],
)
def test_top1(index, question, expected):
    assert index.search(question).candidates[0].faq_id == expected


@pytest.mark.parametrize("question", ["今日の天気は？", "市長の好きな食べ物は？", "おすすめのラーメン屋", "😀"])
def test_off_topic_is_not_answered(index, question):
    decision = decide(index.search(question), Thresholds())
    assert decision.type is not ReplyType.ANSWER
    assert decision.confidence < Thresholds().clarify


def test_state_roundtrip_gives_same_scores(index, analyzer):
    again = FaqIndex.from_state(index.state, analyzer)
    a = index.search("ごみの収集日")
    b = again.search("ごみの収集日")
    assert [(c.faq_id, c.score) for c in a.candidates] == [(c.faq_id, c.score) for c in b.candidates]


def test_category_recognised_for_department_contact(index):
    result = index.search("ごみの分別について")
    assert result.department == "gomi"


def test_empty_index(analyzer):
    empty = FaqIndex.build([], analyzer)
    assert empty.search("住民票").candidates == []


def _docs():
    return [
        IndexDocument("pet", "ペット", "kankyo", "ペットの登録はどうすればいいですか", ("ペットの登録はどうすればいいですか",),
                      "犬を飼い始めたら30日以内に登録してください。"),
        IndexDocument("tax", "税", "zei", "市民税の納め方を教えてください", ("市民税の納め方を教えてください",),
                      "納付書で銀行やコンビニで納めてください。"),
    ]


def test_word_vectors_match_by_meaning(analyzer, word_vectors):
    question = "猫をかっています"  # no word in common with either FAQ
    plain = FaqIndex.build(_docs(), analyzer).search(question)
    dense = FaqIndex.build(_docs(), analyzer, vectors=word_vectors).search(question)
    assert not plain.candidates or plain.candidates[0].score < 0.05
    assert dense.candidates[0].faq_id == "pet" and dense.candidates[0].dense > dense.candidates[1].dense


def test_dense_weight_zero_turns_vectors_off(analyzer, word_vectors):
    off = FaqIndex.build(_docs(), analyzer, {"dense": 0.0}, word_vectors)
    plain = FaqIndex.build(_docs(), analyzer)
    assert off.vectors is None
    assert off.search("市民税の納め方").candidates == plain.search("市民税の納め方").candidates


def test_state_roundtrip_with_vectors_gives_same_scores(analyzer, word_vectors):
    built = FaqIndex.build(_docs(), analyzer, vectors=word_vectors)
    again = FaqIndex.from_state(built.state, analyzer, vectors=word_vectors)
    assert built.search("猫の登録").candidates == again.search("猫の登録").candidates
