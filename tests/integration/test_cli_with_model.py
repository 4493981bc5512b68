"""`bot rank` and `bot eval` on the trained fixture model (the live NLU path)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli

pytestmark = pytest.mark.slow


def test_rank_and_eval(tmp_path, trained_model, fixture_kb_dir):
    runner = CliRunner(mix_stderr=False)
    result = runner.invoke(cli, ["--knowledge-dir", str(fixture_kb_dir), "rank", "--model", str(trained_model)],
                           input="住民票ってどこでもらえる？\n今日の天気は？\n", catch_exceptions=False)
    lines = [json.loads(x) for x in result.output.strip().splitlines() if x.startswith("{")]
    assert lines[0]["faq_id"] == "juminhyo-get" and lines[0]["type"] == "answer"
    assert lines[0]["candidates"][0]["faq_id"] == "juminhyo-get"
    assert lines[1]["type"] == "cannot_answer" and lines[1]["faq_id"] is None

    dev = tmp_path / "dev.csv"
    dev.write_text("question,faq_id\n住民票を取りたいんだけど,juminhyo-get\nスプレー缶の捨て方,gomi-spray\n"
                   "国民健康保険に加入したい,kokuho-join\n今日の天気は？,none\n株価を教えて,none\n", encoding="utf-8")
    result = runner.invoke(cli, ["--knowledge-dir", str(fixture_kb_dir), "eval", str(dev), "--model", str(trained_model), "--json"],
                           catch_exceptions=False)
    report = json.loads(result.output)
    o = report["overall"]
    assert (o["questions"], o["in_scope"], o["out_of_scope"]) == (5, 3, 2)
    assert o["top1"] == 1.0 and o["recall_at_3"] == 1.0
    assert o["cannot_answer_recall"] == 1.0 and o["cannot_answer_precision"] == 1.0
    assert set(report["by_category"]) == {"(out of scope)", "住民票・届出", "ごみ・リサイクル", "国民健康保険"}


def test_rasa_data_validate(project_root, fixture_settings):
    import subprocess
    import sys

    from bot.training import rasa_env

    proc = subprocess.run([sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
                          cwd=project_root, env=rasa_env(fixture_settings), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
