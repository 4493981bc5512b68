"""Grouping unanswered questions by topic."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.review.grouping import QuestionGroup, QuestionGrouper, sort_groups, suggestions_for
from bot.review.store import Question

TOPICS = {
    "商品券": ["プレミアム商品券はどこで買えますか", "プレミアム付き商品券の販売場所を教えて", "商品券　いつから販売",
            "ぷれみあむしょうひんけん", "プレミアム商品券の申し込み方法", "プレミアム商品券って売り切れ？",
            "商品券はどこで使えますか", "プレミアム付商品券の購入方法"],
    "給付金": ["物価高騰の給付金はもらえますか", "物価高騰対策給付金の申請方法", "物価高騰の給付金　いつ振り込まれる",
            "きゅうふきん　もらえる？", "低所得世帯向け給付金の対象は", "給付金の申請書をなくしました"],
    "熊": ["クマが出たらどこに連絡すればいい", "クマの目撃情報を知りたい", "くまがでた", "公園に熊が出たって本当？"],
    "ホタル": ["ホタル祭りはいつですか", "ほたるまつりの日程", "蛍祭りの駐車場"],
    "暗証番号": ["マイナンバーカードの暗証番号を忘れた", "暗証番号忘れた"],
}
SINGLES = ["今日の天気は？", "市長の好きな食べ物は？", "😀", "株価を教えて", "パスポートの写真のサイズ", "犬が逃げました"]


@pytest.fixture(scope="module")
def grouper(project_root):
    from bot.knowledge.loader import load_knowledge

    kb = load_knowledge(project_root / "knowledge").kb
    return QuestionGrouper(background=[u for f in kb.faqs for u in f.utterances])


def q(i: int, text: str, minutes: int = 0, **kw) -> Question:
    created = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return Question(id=i, created_at=created.isoformat(), conversation_id=f"c{i}", channel=kw.pop("channel", "rest"),
                    text=text, outcome=kw.pop("outcome", "cannot_answer"), **kw)


def test_forty_ways_of_asking_one_topic_form_one_group_each(grouper):
    texts = [t for ts in TOPICS.values() for t in ts] + SINGLES
    topic_of = {t: name for name, ts in TOPICS.items() for t in ts}
    groups = grouper.group([q(i, t) for i, t in enumerate(texts, 1)])
    found = sorted(sorted(topic_of.get(x.text, x.text) for x in g.questions) for g in groups)
    expected = sorted([[name] * len(ts) for name, ts in TOPICS.items()] + [[s] for s in SINGLES])
    assert found == expected


def test_masked_placeholders_do_not_pull_questions_together(grouper):
    groups = grouper.group([q(1, "電話は［電話番号］です。ホタル祭りはいつ"), q(2, "［電話番号］に連絡ください。犬が逃げました"),
                            q(3, "ほたるまつりの日程")])
    assert sorted(sorted(x.id for x in g.questions) for g in groups) == [[1, 3], [2]]


def test_sorting_frequent_and_newest(grouper):
    questions = [q(1, "ホタル祭りはいつですか", 0), q(2, "ほたるまつりの日程", 5), q(3, "蛍祭りの駐車場", 10),
                 q(4, "犬が逃げました", 60)]
    frequent = grouper.group(questions)
    assert [g.key for g in frequent] == [1, 4]
    assert frequent[0].count == 3 and frequent[0].label == "ホタル祭りはいつですか"
    assert [g.key for g in sort_groups(frequent, "newest")] == [4, 1]


def test_identical_texts_are_counted(grouper):
    groups = grouper.group([q(1, "ホタル祭り"), q(2, "ホタル祭り。"), q(3, "ほたる祭り")])
    [g] = groups
    assert g.texts()[0] == ("ホタル祭り", 2)
    assert g.count == 3 and g.ids == [1, 2, 3]


def test_group_facts_and_suggestions():
    c1 = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみ", "score": 0.3}, {"faq_id": "gomi-spray", "question": "スプレー", "score": 0.2}]
    c2 = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみ", "score": 0.5}]
    g = QuestionGroup([q(1, "a", candidates=c1, category="ごみ", department="gomi", channel="web"),
                       q(2, "b", candidates=c2, outcome="clarify", category="ごみ", department="gomi", channel="line"),
                       q(3, "c", outcome="feedback_negative", faq_id="gomi-calendar", channel="web")])
    assert g.category() == "ごみ" and g.department() == "gomi"
    assert g.outcomes() == {"cannot_answer": 1, "clarify": 1, "feedback_negative": 1}
    assert g.channels() == {"web": 2, "line": 1}
    s = suggestions_for(g.questions)
    assert [(x.faq_id, x.votes, x.score) for x in s] == [("gomi-sodai-apply", 2, 0.4), ("gomi-spray", 1, 0.2), ("gomi-calendar", 1, 0.0)]


def test_leader_clustering_for_many_texts(grouper, monkeypatch):
    import bot.review.grouping as grouping

    monkeypatch.setattr(grouping, "MAX_EXACT", 3)
    texts = ["ホタル祭りはいつですか", "ほたるまつりの日程", "プレミアム商品券はどこで買えますか", "プレミアム商品券の購入方法", "犬が逃げました"]
    labels = grouper.cluster_texts(texts, [5, 1, 4, 1, 1])
    assert labels[0] == labels[1] and labels[2] == labels[3]
    assert len({labels[0], labels[2], labels[4]}) == 3


def test_empty_and_single():
    g = QuestionGrouper()
    assert g.group([]) == []
    [only] = g.group([q(1, "😀")])
    assert only.label == "😀"


def test_the_candidate_a_resident_picked_comes_first():
    cands = [{"faq_id": "a", "question": "A", "score": 0.5}, {"faq_id": "b", "question": "B", "score": 0.45}]
    picked = q(1, "x", outcome="clarify", candidates=cands, next_action="picked_candidate", next_faq_id="b")
    assert [s.faq_id for s in suggestions_for([picked, q(2, "y", candidates=cands)])] == ["b", "a"]


def ranking(*pairs) -> list[dict]:
    """A logged live ranking: ``ranking(("gomi-sodai-apply", 0.46), …)``, best first."""
    return [{"faq_id": f, "question": "", "score": s} for f, s in pairs]


SODAI = ranking(("gomi-sodai-apply", 0.46), ("gomi-spray", 0.24))
SODAI_FEE = ranking(("gomi-sodai-fee", 0.41), ("gomi-sodai-apply", 0.38))


def test_questions_in_any_language_with_the_same_faq_on_top_are_one_group(grouper):
    groups = grouper.group([
        q(1, "How do I throw away an old sofa?", candidates=ranking(("gomi-sodai-apply", 0.23), ("gomi-spray", 0.15)), language="en"),
        q(2, "大きい家具を捨てたいんですけど", outcome="clarify", candidates=SODAI, language="ja"),
        q(3, "Tôi muốn vứt cái ghế sofa cũ", candidates=ranking(("gomi-sodai-apply", 0.29), ("kokuho-join", 0.07)), language="vi"),
        q(4, "I want to throw away a big sofa", candidates=ranking(("gomi-sodai-apply", 0.32)), language="en"),
        # shares 粗大ごみ with the others, but the assistant ranked another FAQ first: its own group
        q(5, "粗大ごみの料金はいくら", outcome="clarify", candidates=SODAI_FEE, language="ja"),
    ])
    assert sorted((g.ids, g.top_faq) for g in groups) == [([1, 2, 3, 4], "gomi-sodai-apply"), ([5], "gomi-sodai-fee")]
    sofa = next(g for g in groups if g.top_faq == "gomi-sodai-apply")
    assert sofa.label == "大きい家具を捨てたいんですけど"  # staff read Japanese: a Japanese question names the group
    assert sofa.languages() == {"en": 2, "ja": 1, "vi": 1}
    assert sofa.suggestions[0].faq_id == "gomi-sodai-apply"


def test_rows_without_a_usable_ranking_are_grouped_by_words(grouper):
    groups = grouper.group([
        q(1, "ホタル祭りはいつですか", candidates=ranking(("event-calendar", 0.31))),
        # logged before the ranking was stored: joins the ranked group its words are close to
        q(2, "ほたるまつりの日程"),
        # the classifier vetoed it as off-topic: its ranking is no topic, whatever is on top
        q(3, "今日の天気は？", reason="out_of_scope", candidates=ranking(("event-calendar", 0.33))),
        # a Japanese question whose best FAQ scored this low has no FAQ: words decide (alone here)
        q(4, "犬が逃げました", reason="low_confidence", candidates=ranking(("event-calendar", 0.12)), language="ja"),
        # the same low score in another language is the encoder's ranking alone: it counts
        q(5, "When is the firefly festival?", reason="low_confidence", candidates=ranking(("event-calendar", 0.12)),
          language="en"),
        q(6, "お天気を教えて"),
    ])
    by_ids = {tuple(g.ids): g.top_faq for g in groups}
    assert by_ids == {(1, 2, 5): "event-calendar", (3, 6): None, (4,): None}


def test_a_follow_up_takes_the_ranking_of_its_question(grouper):
    groups = grouper.group([
        q(1, "Tôi muốn vứt cái ghế sofa cũ", candidates=SODAI, language="vi"),
        # the hand-off request is logged with the question's text and no ranking of its own
        q(2, "Tôi muốn vứt cái ghế sofa cũ", outcome="handoff_requested", language="vi"),
        # a negative feedback's ranking is the FAQ it was answered with
        q(3, "Can I leave my sofa out on Monday?", outcome="feedback_negative", faq_id="gomi-sodai-apply", language="en"),
        q(4, "保険証をなくしました", outcome="feedback_negative", faq_id="kokuho-card"),
    ])
    assert sorted((g.ids, g.top_faq) for g in groups) == [([1, 2, 3], "gomi-sodai-apply"), ([4], "kokuho-card")]


def test_a_tie_on_top_is_broken_by_words(grouper):
    tie = ranking(("gomi-calendar", 0.3712), ("gomi-sodai-apply", 0.3712))
    groups = grouper.group([
        q(1, "ごみの収集日を教えて", candidates=ranking(("gomi-calendar", 0.52))),
        q(2, "粗大ごみを出したい", candidates=ranking(("gomi-sodai-apply", 0.55))),
        q(3, "粗大ごみの出し方", candidates=tie),
        q(4, "ごみの収集日はいつ", candidates=list(reversed(tie))),
    ])
    assert sorted((g.ids, g.top_faq) for g in groups) == [([1, 4], "gomi-calendar"), ([2, 3], "gomi-sodai-apply")]


def test_words_compare_within_a_language_when_an_old_row_joins_a_mixed_group(grouper):
    """A group of mostly other languages does not dilute the words of its Japanese questions."""
    groups = grouper.group([
        q(1, "ソファを処分したい", candidates=SODAI, language="ja"),
        *[q(i, t, candidates=SODAI, language=lang) for i, (t, lang) in enumerate(
            [("How do I get rid of an old sofa?", "en"), ("I want to throw away a big sofa", "en"),
             ("Tôi muốn vứt cái ghế sofa cũ", "vi"), ("오래된 소파를 버리고 싶어요", "ko"),
             ("Quero jogar fora um sofá velho", "pt-BR"), ("Paano magtapon ng lumang sofa?", "fil"),
             ("我想扔掉旧沙发", "zh-Hans"), ("큰 가구는 어떻게 버려요?", "ko")], 2)],
        q(12, "古いソファを処分したい"),  # logged before the ranking and the language were stored
    ])
    [group] = groups  # averaged over all nine members, its words would be too far (0.13 < 0.15)
    assert group.ids == [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]
    assert group.languages() == {"ko": 2, "en": 2, "ja": 1, "zh-Hans": 1, "vi": 1, "pt-BR": 1, "fil": 1, None: 1}
    assert list(group.languages()) == ["en", "ko", "ja", "zh-Hans", "vi", "pt-BR", "fil", None]  # most first, then the menus' order
