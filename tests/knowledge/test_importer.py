"""Importing FAQ files as municipalities publish them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge.importer import import_faq_file, map_columns
from bot.knowledge.loader import load_knowledge

KOSODATE_CSV = "ID,問い合わせ文,応答文,カテゴリ,担当課\n1,母子手帳はどこでもらえますか,保健センターでお渡しします。,妊娠・出産,健康課\n2,\"児童手当の申請方法は？\",\"出生の翌日から15日以内に申請してください。\",手当,こども課\n"
PLAIN_CSV = "id,question,answer,category,department\nq1,ごみの日は？,地区ごとに決まっています。,ごみ,環境課\nq2,粗大ごみは？,申込制です。,ごみ,環境課\n"


def check(out: Path, n: int):
    result = load_knowledge(out)
    assert [str(p) for p in result.problems] == []
    assert len(result.kb.faqs) == n
    return result.kb


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "shift_jis"])
def test_kosodate_csv_layout_in_any_encoding(tmp_path, encoding):
    src = tmp_path / "faq.csv"
    src.write_bytes(KOSODATE_CSV.encode(encoding))
    report = import_faq_file(src, tmp_path / "k", prefix="city")
    kb = check(tmp_path / "k", 2)
    assert report.encoding in ("utf-8-sig", "cp932", "shift_jis")
    faq = kb.by_id()["city-2"]
    assert faq.question == "児童手当の申請方法は？" and faq.category == "手当"
    assert kb.departments[faq.department].name == "こども課"
    assert set(report.departments_added) == {"健康課", "こども課"}


def test_plain_csv(tmp_path):
    src = tmp_path / "plain.csv"
    src.write_text(PLAIN_CSV, encoding="utf-8")
    import_faq_file(src, tmp_path / "k")
    kb = check(tmp_path / "k", 2)
    assert [f.id for f in kb.faqs] == ["plain-q1", "plain-q2"]


def test_json_layout(tmp_path):
    rows = [{"faq_id": 7, "question": "保育園の申込は？", "answer": "11月に受け付けます。", "category1": "保育", "category2": "入所", "service_name": "保育"}]
    src = tmp_path / "faq.json"
    src.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    import_faq_file(src, tmp_path / "k", prefix="ks")
    assert check(tmp_path / "k", 1).by_id()["ks-7"].category == "保育"


def test_shared_kosodate_dataset_if_present(tmp_path, project_root):
    src = project_root.parent / "shared" / "data" / "kosodate-faq" / "faq.json"
    if not src.exists():
        pytest.skip("shared dataset not on this machine")
    report = import_faq_file(src, tmp_path / "k", prefix="kosodate")
    assert report.faqs == 661
    check(tmp_path / "k", 661)


def test_into_existing_knowledge_reuses_departments(tmp_path, fixture_kb_dir):
    import shutil

    shutil.copytree(fixture_kb_dir, tmp_path / "k")
    src = tmp_path / "x.csv"
    src.write_text("id,question,answer,department\n1,新しい質問です,新しい答えです,市民課\n", encoding="utf-8")
    report = import_faq_file(src, tmp_path / "k", prefix="new")
    assert report.departments_added == []
    assert check(tmp_path / "k", 10).by_id()["new-1"].department == "shimin"


def test_missing_columns_explained(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="no column for question, answer"):
        import_faq_file(src, tmp_path / "k")


def test_broken_json_explained(tmp_path):
    src = tmp_path / "bad.json"
    src.write_text("{oops", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid JSON"):
        import_faq_file(src, tmp_path / "k")


def test_empty_rows_are_skipped_and_reported(tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("id,question,answer\n1,,答え\n2,質問,\n3,質問です,答えです\n", encoding="utf-8")
    report = import_faq_file(src, tmp_path / "k")
    assert report.faqs == 1 and len(report.skipped) == 2


def test_column_mapping_by_name():
    assert map_columns(["ID", "問い合わせ文", "応答文", "カテゴリ"]) == {"id": "ID", "question": "問い合わせ文", "answer": "応答文", "category": "カテゴリ"}


def test_duplicate_questions_are_skipped_and_reported(tmp_path, fixture_kb_dir):
    import shutil

    shutil.copytree(fixture_kb_dir, tmp_path / "k")
    src = tmp_path / "d.csv"
    src.write_text("id,question,answer\n1,住民票の写しはどこで取れますか。,市民課です。\n2,新しい質問,答え\n3,新しい質問,別の答え\n", encoding="utf-8")
    report = import_faq_file(src, tmp_path / "k", prefix="d")
    assert report.faqs == 1
    assert report.skipped == ["d-1: same question as FAQ 'juminhyo-get'", "d-3: same question as FAQ 'd-2'"]
    check(tmp_path / "k", 10)


def test_an_import_writes_plain_yaml_that_round_trips(tmp_path):
    """Every FAQ shares the day's ``reviewed`` date: it is written on each, never as &id001/*id001."""
    import datetime as dt

    from bot.knowledge.files import dump_yaml, knowledge_yaml

    src = tmp_path / "same-day.csv"
    src.write_text("id,question,answer,category\n1,ごみの日は？,地区ごとに決まっています。,ごみ\n"
                   "2,粗大ごみは？,申込制です。,ごみ\n3,資源ごみは？,水曜日です。,ごみ\n", encoding="utf-8")
    report = import_faq_file(src, tmp_path / "k", prefix="day")
    [path] = report.files
    written = [path.read_text(encoding="utf-8"), (tmp_path / "k" / "city.yml").read_text(encoding="utf-8")]
    for text in written:
        assert "&id" not in text and "*id" not in text
    today = dt.date.today().isoformat()
    assert written[0].count(f"    reviewed: {today}\n") == 3
    assert dump_yaml(knowledge_yaml().load(written[0])) == written[0]  # staff can edit and save it as it is
    kb = check(tmp_path / "k", 3)
    assert {f.reviewed for f in kb.faqs} == {dt.date.today()}
    assert [p.name for p in (tmp_path / "k" / "faq").iterdir()] == [path.name]  # no temporary file left behind
