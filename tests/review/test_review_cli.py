"""`bot review …` with click's CliRunner on a seeded database and a copy of the knowledge base."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.knowledge.loader import load_knowledge
from bot.review.export import conversation_key
from bot.review.store import ReviewFilter
from tests.review.test_dashboard import D18, D20, seed

ALL = ReviewFilter(outcomes=(), status=None)


@pytest.fixture
def run(review_settings, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(review_settings.var_dir))

    def invoke(*args):
        return CliRunner().invoke(cli, ["--project-dir", str(review_settings.project_dir), "review", *args],
                                  catch_exceptions=False)

    return invoke


@pytest.fixture
def seeded(log, clock):
    seed(log, clock)
    return log


def group_of(log, text: str) -> int:
    return min(q.id for q in log.questions() if q.text == text)


def test_list_and_show(run, seeded):
    result = run("list")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("#") and "  2×  ほたる祭り\n" in result.output
    data = json.loads(run("list", "--json").output)
    assert sum(g["count"] for g in data) == 8  # 6 unanswered questions + 2 follow-ups
    hotaru = next(g for g in data if g["label"] in ("ほたる祭り", "ホタル祭りの日程"))
    assert hotaru["count"] == 2 and hotaru["outcomes"] == {"clarify": 1, "cannot_answer": 1}
    shown = run("show", str(hotaru["group"]))
    assert f"#{hotaru['group']}: 2 questions\n    1× ほたる祭り\n    1× ホタル祭りの日程\n" in shown.output


def test_filters_by_channel_and_day(run, seeded):
    data = json.loads(run("list", "--json", "--channel", "line", "--since", "2026-11-19", "--until", "2026-11-19").output)
    assert sorted(t for g in data for t, _ in g["texts"]) == ["ほたる祭り", "粗大ごみの予約の変更", "😀"]


def test_export_csv(run, seeded, tmp_path):
    out = run("export", "--csv")
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith("id,created_at_jst,day,conversation,channel,outcome")
    assert "w2" not in out.output and conversation_key("w2") in out.output  # no raw conversation ids
    assert len(lines) == 12
    target = tmp_path / "daily.csv"
    result = run("export", "--csv", "--kind", "daily", "--since", str(D18), "--until", str(D20), "--out", str(target), "--excel")
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8").splitlines() == [
        "\ufeffday,questions,answered,clarified,cannot_answer,handed_off",
        "2026-11-18,3,2,1,0,0", "2026-11-19,3,0,1,1,1", "2026-11-20,2,1,0,1,0"]


def test_paraphrase_then_the_group_is_gone(run, seeded, review_settings):
    key = group_of(seeded, "粗大ごみの予約の変更")
    result = run("paraphrase", str(key), "--faq", "gomi-sodai-apply")
    assert result.exit_code == 0, result.output
    assert "  + 粗大ごみの予約の変更" in result.output
    assert "粗大ごみの予約の変更" in load_knowledge(review_settings.knowledge_dir).kb.by_id()["gomi-sodai-apply"].paraphrases
    assert f"#{key} " not in run("list").output


def test_draft_and_new_faq(run, seeded, review_settings):
    key = group_of(seeded, "ホタル祭りの日程")
    draft = run("draft", str(key)).output
    assert "- id: " in draft and "  answer: |" in draft
    result = run("new-faq", str(key), "--id", "event-hotaru", "--question", "ホタル祭りはいつですか。",
                 "--answer", "毎年6月です。", "--file", "shimin.yml", "--department", "shimin")
    assert result.exit_code == 0, result.output
    faq = load_knowledge(review_settings.knowledge_dir).kb.by_id()["event-hotaru"]
    assert faq.answer == "毎年6月です。" and set(faq.paraphrases) <= {"ほたる祭り", "ホタル祭りの日程"}


def test_out_of_scope_and_dismiss(run, seeded, review_settings):
    key = group_of(seeded, "😀")
    assert "1件の質問を対象外にしました。" in run("out-of-scope", str(key)).output
    key = group_of(seeded, "ほたる祭り")
    assert "対応不要にしました" in run("dismiss", str(key), "--note", "テスト送信").output
    assert seeded.resolutions()[0]["note"] == "テスト送信"


def test_unknown_group_is_a_clear_error(run, seeded):
    result = run("paraphrase", "999", "--faq", "gomi-spray")
    assert result.exit_code == 1
    assert "no open group contains question #999" in result.output and "bot review list" in result.output
    result = run("paraphrase", str(group_of(seeded, "😀")), "--faq", "nope")
    assert result.exit_code == 1 and "FAQ 'nope' was not found" in result.output


def test_retrain_refuses_an_invalid_knowledge_base(run, review_settings):
    shimin = review_settings.knowledge_dir / "faq" / "shimin.yml"
    shimin.write_text(shimin.read_text(encoding="utf-8").replace("department: shimin", "department: nowhere", 1), encoding="utf-8")
    result = run("retrain", "--no-reload")
    assert result.exit_code == 1
    assert "ナレッジに" in result.output and "問題があります" in result.output and "retraining failed" in result.output


def test_dashboard_json(run, seeded):
    data = json.loads(run("dashboard", "--since", str(D18), "--until", str(D20), "--json").output)
    assert data["questions"] == 8 and data["self_resolution_rate"] == 0.375
    text = run("dashboard", "--since", str(D18), "--until", str(D20)).output
    assert "8 questions, self-resolved 37.5%" in text


def test_list_shows_and_filters_languages(run, log, clock):
    sodai = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.3}]
    log.record("c-ja", "web", "ソファを処分したい", "clarify", sodai, language="ja")
    log.record("c-vi", "web", "Tôi muốn vứt cái ghế sofa cũ", "cannot_answer", sodai, language="vi")
    log.record("c-old", "rest", "古いソファを処分したい", "cannot_answer", [])  # logged before the language and ranking
    [group] = json.loads(run("list", "--json").output)
    assert group["languages"] == {"ja": 1, "vi": 1, "unknown": 1}
    assert "languages: ja 1, vi 1, unknown 1" in run("list").output
    [only_vi] = json.loads(run("list", "--json", "--language", "vi").output)
    assert only_vi["texts"] == [["Tôi muốn vứt cái ghế sofa cũ", 1]]
    bad = run("list", "--language", "xx")
    assert bad.exit_code == 2 and "xx" in bad.output
