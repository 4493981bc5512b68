"""CLI tests with click's CliRunner (no servers)."""

from __future__ import annotations

import json
import shutil

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli


def invoke(*args, **kw):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kw)


def all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))
        else:
            yield prefix + (name,), cmd


@pytest.mark.parametrize("path, cmd", list(all_commands(cli)), ids=lambda x: " ".join(x) if isinstance(x, tuple) else "")
def test_every_command_has_help_with_example(path, cmd):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output, f"bot {' '.join(path)} --help has no Example"


def test_kb_check_ok(fixture_kb_dir):
    result = invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "check")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "OK: 9 FAQs, 27 paraphrases, 3 departments"


def test_kb_check_reports_stale_and_missing_translations_without_failing(fixture_kb_dir):
    result = invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "check")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "translations vi: 3/9 current, 1 stale, 5 missing" in lines
    assert "translations en: 2/9 current, 0 stale, 7 missing" in lines
    assert "translations ja-easy: 1/9 current, 0 stale, 8 missing" in lines
    [stale] = [line for line in lines if "STALE" in line]
    assert stale.startswith("  knowledge/i18n/vi/gomi.yml:14: STALE vi 'gomi-spray':")
    assert "0123abcd4567" in stale and "bfd6a320218b" in stale
    assert not any("MISSING" in line for line in lines)


def test_kb_check_missing_lists_untranslated_faqs(fixture_kb_dir):
    result = invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "check", "--missing")
    assert "  MISSING vi 'tennyu-deadline'" in result.output.splitlines()
    assert "  MISSING vi 'juminhyo-get'" not in result.output.splitlines()


def test_kb_check_fails_on_a_broken_translation(tmp_path, fixture_kb_dir):
    shutil.copytree(fixture_kb_dir, tmp_path / "k")
    path = tmp_path / "k" / "i18n" / "en" / "shimin.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("The fee is {{fee_juminhyo}}.", "The fee is 300 yen."), encoding="utf-8")
    result = CliRunner().invoke(cli, ["--knowledge-dir", str(tmp_path / "k"), "kb", "check"])
    assert result.exit_code == 1
    assert "k/i18n/en/shimin.yml:6: en の FAQ 'juminhyo-get': 差し込み項目が日本語の回答と違います（ありません: {{fee_juminhyo}}）" in result.output


def test_kb_check_reports_problems_with_file_and_line(tmp_path, fixture_kb_dir):
    shutil.copytree(fixture_kb_dir, tmp_path / "k")
    (tmp_path / "k" / "faq" / "bad.yml").write_text(
        "category: x\ndepartment: shimin\nfaqs:\n  - id: b-1\n    question: 質問\n    answer:\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--knowledge-dir", str(tmp_path / "k"), "kb", "check"])
    assert result.exit_code == 1
    assert "k/faq/bad.yml:6: FAQ 'b-1': answer が空です。回答文を書いてください。" in result.output
    assert "1 problem(s)" in result.output


def test_kb_check_missing_dir(tmp_path):
    result = CliRunner().invoke(cli, ["--knowledge-dir", str(tmp_path / "none"), "kb", "check"])
    assert result.exit_code == 1 and "knowledge directory not found" in result.output
    assert "Traceback" not in result.output


def test_kb_stats_json(fixture_kb_dir):
    result = invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "stats", "--json")
    data = json.loads(result.output)
    assert data["faqs"] == 9
    assert {c["category"]: c["faqs"] for c in data["categories"]} == {"ごみ・リサイクル": 3, "国民健康保険": 2, "住民票・届出": 4}
    assert [f["id"] for f in data["not_reviewed_recently"]] == ["tennyu-deadline"]


def test_kb_stats_text(fixture_kb_dir):
    result = invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "stats")
    assert result.output.startswith("9 FAQs, 27 paraphrases, 3 departments")
    assert "not reviewed for over a year: 1" in result.output
    assert "  vi          3/9   33.3%  (1 stale, 5 missing)" in result.output.splitlines()


def test_kb_stats_json_has_translation_coverage(fixture_kb_dir):
    data = json.loads(invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "stats", "--json").output)
    by_language = {t["language"]: t for t in data["translations"]}
    assert list(by_language) == ["ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR", "fil"]
    assert by_language["vi"] == {"language": "vi", "faqs": 9, "current": 3, "stale": 1, "missing": 5, "share": 0.333}


def test_kb_import_cli(tmp_path):
    src = tmp_path / "city.csv"
    src.write_bytes("ID,問い合わせ文,応答文,カテゴリ\n1,ごみの日は？,地区ごとです。,ごみ\n".encode("cp932"))
    result = invoke("kb", "import", str(src), "--out", str(tmp_path / "k"), "--prefix", "c")
    assert "imported 1 FAQs (cp932)" in result.output
    assert invoke("--knowledge-dir", str(tmp_path / "k"), "kb", "check").exit_code == 0


def test_kb_import_bad_file(tmp_path):
    src = tmp_path / "x.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["kb", "import", str(src), "--out", str(tmp_path / "k")])
    assert result.exit_code == 1 and "no column for question" in result.output


def test_eval_without_model_says_what_to_do(tmp_path, fixture_kb_dir):
    q = tmp_path / "q.csv"
    q.write_text("question,faq_id\n住民票,juminhyo-get\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--knowledge-dir", str(fixture_kb_dir), "eval", str(q), "--model", str(tmp_path / "none.tar.gz")])
    assert result.exit_code == 1 and "no trained model" in result.output and "bot train" in result.output


def test_eval_rejects_unknown_labels(tmp_path, fixture_kb_dir):
    q = tmp_path / "q.csv"
    q.write_text("question,faq_id\n住民票,no-such-faq\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--knowledge-dir", str(fixture_kb_dir), "eval", str(q)])
    assert result.exit_code == 1 and "no-such-faq" in result.output


def test_kb_stats_reports_the_essential_faqs_when_listed(fixture_kb_dir, tmp_path):
    import shutil

    kb_dir = tmp_path / "knowledge"
    shutil.copytree(fixture_kb_dir, kb_dir)
    (kb_dir / "i18n" / "essential.txt").write_text("# area shimin\njuminhyo-get\nmynumber-lost  # comment\n\n# gomi\ngomi-spray\n",
                                                   encoding="utf-8")
    data = json.loads(invoke("--knowledge-dir", str(kb_dir), "kb", "stats", "--json").output)
    by_language = {e["language"]: e for e in data["essential"]}
    assert by_language["vi"] == {"language": "vi", "essential": 3, "current": 1, "missing": ["mynumber-lost"]}  # gomi-spray is stale
    assert by_language["zh-Hans"] == {"language": "zh-Hans", "essential": 3, "current": 1, "missing": ["juminhyo-get", "gomi-spray"]}
    text = invoke("--knowledge-dir", str(kb_dir), "kb", "stats").output.splitlines()
    assert "  vi          1/3  (1 missing)" in text
    assert "essential" not in invoke("--knowledge-dir", str(fixture_kb_dir), "kb", "stats").output
