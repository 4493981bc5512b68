"""Review edits of knowledge/: exact changes, layout and comments kept, always valid."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from bot.knowledge.loader import load_knowledge
from bot.review.knowledge_edit import (
    FaqDraft, KnowledgeEditError, add_paraphrases, add_training_examples, create_faq, draft_faq, suggest_faq_id,
)

GOMI_WITH_COMMENTS = """\
# ごみの FAQ（コメントは残ること）
category: ごみ・リサイクル
department: gomi
faqs:
  - id: gomi-sodai-apply
    question: 粗大ごみの出し方を教えてください。
    paraphrases:
      - 粗大ゴミを捨てたい  # よくある聞き方
      - そだいごみ　申し込み
    answer: |
      粗大ごみは電話かインターネットで申し込んでください。料金は{{fee_sodai}}です。
    reviewed: 2026-10-01

  - id: gomi-spray
    question: スプレー缶はどうやって捨てればいいですか。
    answer: |
      中身を使い切ってから、有害ごみの日に出してください。
    reviewed: 2026-10-01

  - id: gomi-calendar
    question: ごみの収集日を知りたいです。
    answer: |
      収集日は地区ごとに決まっています。
    paraphrases:
      - 燃えるごみは何曜日？

    # 最後の FAQ の後のコメント
"""


@pytest.fixture
def kb_dir(tmp_path, fixture_kb_dir):
    target = tmp_path / "knowledge"
    shutil.copytree(fixture_kb_dir, target)
    (target / "faq" / "gomi.yml").write_text(GOMI_WITH_COMMENTS, encoding="utf-8")
    assert load_knowledge(target).ok
    return target


def test_add_paraphrases_appends_and_keeps_everything_else(kb_dir):
    result = add_paraphrases(kb_dir, "gomi-sodai-apply", ["ソファの捨て方", "粗大ゴミを捨てたい", "ソファの捨て方。",
                                                          "電話は［電話番号］です", "燃えるごみは何曜日？", "   "])
    assert result.added == ["ソファの捨て方"]
    assert result.skipped == [
        ("粗大ゴミを捨てたい", "このFAQにすでにあります"),
        ("ソファの捨て方。", "同じ文がすでに選ばれています"),
        ("電話は［電話番号］です", "個人情報を伏せた文のため追加しません"),
        ("燃えるごみは何曜日？", "FAQ「gomi-calendar」にすでにあります"),
        ("", "文字がないため追加しません"),
    ]
    expected = GOMI_WITH_COMMENTS.replace("      - そだいごみ　申し込み\n", "      - そだいごみ　申し込み\n      - ソファの捨て方\n")
    assert (kb_dir / "faq" / "gomi.yml").read_text(encoding="utf-8") == expected
    kb = load_knowledge(kb_dir)
    assert kb.ok
    assert kb.kb.by_id()["gomi-sodai-apply"].paraphrases[-1] == "ソファの捨て方"


def test_add_paraphrases_to_a_faq_without_any(kb_dir):
    add_paraphrases(kb_dir, "gomi-spray", ["カセットボンベの捨て方"])
    text = (kb_dir / "faq" / "gomi.yml").read_text(encoding="utf-8")
    assert ("    question: スプレー缶はどうやって捨てればいいですか。\n    paraphrases:\n      - カセットボンベの捨て方\n"
            "    answer: |\n") in text
    assert load_knowledge(kb_dir).ok


def test_add_paraphrases_to_the_last_list_keeps_the_trailing_comment(kb_dir):
    add_paraphrases(kb_dir, "gomi-calendar", ["ごみの日カレンダー"])
    text = (kb_dir / "faq" / "gomi.yml").read_text(encoding="utf-8")
    assert text.endswith("      - 燃えるごみは何曜日？\n      - ごみの日カレンダー\n\n    # 最後の FAQ の後のコメント\n")


def test_nothing_to_add_and_unknown_faq_change_nothing(kb_dir):
    before = (kb_dir / "faq" / "gomi.yml").read_bytes()
    with pytest.raises(KnowledgeEditError, match="nothing to add"):
        add_paraphrases(kb_dir, "gomi-sodai-apply", ["粗大ゴミを捨てたい"])
    with pytest.raises(KnowledgeEditError, match="FAQ 'no-such' was not found"):
        add_paraphrases(kb_dir, "no-such", ["x"])
    assert (kb_dir / "faq" / "gomi.yml").read_bytes() == before


def test_an_edit_that_breaks_validation_is_rolled_back(kb_dir, monkeypatch):
    import bot.review.knowledge_edit as ke

    before = (kb_dir / "faq" / "gomi.yml").read_bytes()
    real_dump = ke.dump_yaml

    def dump_with_a_broken_key(data):  # simulate an edit that produces an invalid file
        return real_dump(data).replace("  - id: gomi-spray", "  - id: Gomi Spray!")

    monkeypatch.setattr(ke, "dump_yaml", dump_with_a_broken_key)
    with pytest.raises(KnowledgeEditError, match="id は英小文字"):
        add_paraphrases(kb_dir, "gomi-sodai-apply", ["ソファの捨て方"])
    assert (kb_dir / "faq" / "gomi.yml").read_bytes() == before
    assert not list((kb_dir / "faq").glob(".*tmp"))


def test_existing_problems_do_not_block_an_edit(kb_dir):
    shimin = kb_dir / "faq" / "shimin.yml"
    shimin.write_text(shimin.read_text(encoding="utf-8").replace("department: shimin", "department: nowhere", 1), encoding="utf-8")
    assert not load_knowledge(kb_dir).ok
    assert add_paraphrases(kb_dir, "gomi-spray", ["スプレー缶 捨て方 穴"]).added == ["スプレー缶 捨て方 穴"]


def test_draft_is_prefilled_from_the_group(kb_dir):
    kb = load_knowledge(kb_dir).kb
    draft = draft_faq(kb_dir, kb, ["小型家電はどう捨てる", "電話は［電話番号］", "ドライヤー捨てたい", "粗大ゴミを捨てたい"],
                      suggested_faqs=["gomi-sodai-apply"])
    assert draft == FaqDraft(id="gomi-new-1", question="小型家電はどう捨てる", paraphrases=["ドライヤー捨てたい"],
                             department="gomi", file="gomi.yml")
    assert draft_faq(kb_dir, kb, ["国保の保険料"], department="kokuho").file == "kokuho.yml"


def test_create_faq_appends_in_the_files_layout(kb_dir):
    draft = FaqDraft(id="gomi-kaden-small", question="小型家電はどうやって捨てればいいですか。",
                     paraphrases=["ドライヤー捨てたい", "小型家電はどうやって捨てればいいですか。"],
                     answer="市役所の回収ボックスに入れてください。\n入らないものは燃やさないごみです。", department="gomi", file="gomi.yml")
    result = create_faq(kb_dir, draft, today=dt.date(2026, 11, 29))
    assert result.added == ["小型家電はどうやって捨てればいいですか。", "ドライヤー捨てたい"]
    text = (kb_dir / "faq" / "gomi.yml").read_text(encoding="utf-8")
    assert text == GOMI_WITH_COMMENTS + (
        "\n  - id: gomi-kaden-small\n"
        "    question: 小型家電はどうやって捨てればいいですか。\n"
        "    paraphrases:\n"
        "      - ドライヤー捨てたい\n"
        "    answer: |\n"
        "      市役所の回収ボックスに入れてください。\n"
        "      入らないものは燃やさないごみです。\n"
        "    reviewed: 2026-11-29\n"
    )
    faq = load_knowledge(kb_dir).kb.by_id()["gomi-kaden-small"]
    assert faq.department == "gomi" and faq.category == "ごみ・リサイクル"


def test_create_faq_in_a_new_file(kb_dir):
    create_faq(kb_dir, FaqDraft(id="ivent-hotaru", question="ホタル祭りはいつですか。", answer="6月に開きます。",
                                department="shimin", file="ivent.yml"), today=dt.date(2026, 11, 29))
    kb = load_knowledge(kb_dir)
    assert kb.ok and kb.kb.by_id()["ivent-hotaru"].category == "ivent"


@pytest.mark.parametrize("draft, message", [
    (FaqDraft(id="Bad Id", question="q", answer="a", file="gomi.yml"), "id 'Bad Id' is not valid"),
    (FaqDraft(id="gomi-spray", question="q", answer="a", file="gomi.yml"), "already used"),
    (FaqDraft(id="gomi-x", question="", answer="a", file="gomi.yml"), "question is empty"),
    (FaqDraft(id="gomi-x", question="q", answer=" ", file="gomi.yml"), "answer is empty"),
    (FaqDraft(id="gomi-x", question="q", answer="a", file="../city.yml"), "file name"),
    (FaqDraft(id="gomi-x", question="粗大ごみの出し方を教えてください。", answer="a", file="gomi.yml"), "同じです"),
    (FaqDraft(id="gomi-x", question="q", answer="{{unknown_value}}です", file="gomi.yml"), "values にありません"),
    (FaqDraft(id="x-new", question="q", answer="a", file="new.yml"), "needs a department"),
])
def test_create_faq_refuses_bad_drafts_and_changes_nothing(kb_dir, draft, message):
    before = {p.name: p.read_bytes() for p in (kb_dir / "faq").iterdir()}
    with pytest.raises(KnowledgeEditError, match=message):
        create_faq(kb_dir, draft)
    assert {p.name: p.read_bytes() for p in (kb_dir / "faq").iterdir()} == before


def test_suggested_ids_are_free(kb_dir):
    assert suggest_faq_id(kb_dir, "gomi.yml") == "gomi-new-1"
    create_faq(kb_dir, FaqDraft(id="gomi-new-1", question="新しい質問", answer="回答です。", file="gomi.yml"))
    assert suggest_faq_id(kb_dir, "gomi.yml") == "gomi-new-2"
    assert suggest_faq_id(kb_dir, "brand_new.yml") == "brand-new-new-1"


def test_training_examples_for_out_of_scope(tmp_path, project_root):
    nlu = tmp_path / "out_of_scope.yml"
    shutil.copy(project_root / "data" / "nlu" / "out_of_scope.yml", nlu)
    before = nlu.read_text(encoding="utf-8")
    added = add_training_examples(nlu, "out_of_scope", ["週末は晴れるかな", "今日の運勢は？", "［電話番号］に電話して", "/greet"])
    assert added == ["今日の運勢は？"]
    assert nlu.read_text(encoding="utf-8") == before.rstrip("\n") + "\n      - 今日の運勢は？\n"
    assert add_training_examples(nlu, "out_of_scope", ["今日の運勢は？"]) == []
    with pytest.raises(KnowledgeEditError, match="no intent 'nope'"):
        add_training_examples(nlu, "nope", ["x"])


def test_texts_in_other_languages_are_not_japanese_paraphrases(fixture_kb_dir):
    from bot.review.knowledge_edit import usable_texts

    kb = load_knowledge(fixture_kb_dir).kb
    usable, skipped = usable_texts(["ソファを処分したい", "How do I get rid of an old sofa?", "住民票", "대형 쓰레기는 어떻게 버려요?"], kb)
    assert usable == ["ソファを処分したい", "住民票"]  # kanji alone is Japanese enough
    assert skipped == [
        ("How do I get rid of an old sofa?", "英語の文のため追加しません（翻訳は knowledge/i18n/en/ に書きます）"),
        ("대형 쓰레기는 어떻게 버려요?", "韓国語の文のため追加しません（翻訳は knowledge/i18n/ko/ に書きます）"),
    ]


def test_paraphrases_reach_faqs_in_a_yaml_file_too(kb_dir):
    # The loader reads faq/*.yaml as well as faq/*.yml; the review edits both.
    (kb_dir / "faq" / "gomi.yml").rename(kb_dir / "faq" / "gomi.yaml")
    result = add_paraphrases(kb_dir, "gomi-spray", ["カセットボンベの捨て方"])
    assert result.added == ["カセットボンベの捨て方"]
    assert "カセットボンベの捨て方" in (kb_dir / "faq" / "gomi.yaml").read_text(encoding="utf-8")
    assert list(load_knowledge(kb_dir).kb.by_id()["gomi-spray"].paraphrases) == ["カセットボンベの捨て方"]
