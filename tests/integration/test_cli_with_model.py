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

    from bot.runtime.training import rasa_env

    proc = subprocess.run([sys.executable, "-m", "rasa", "data", "validate", "--fail-on-warnings"],
                          cwd=project_root, env=rasa_env(fixture_settings), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_rank_top_k(trained_model, fixture_kb_dir):
    runner = CliRunner(mix_stderr=False)
    args = ["--knowledge-dir", str(fixture_kb_dir), "rank", "--model", str(trained_model)]
    result = runner.invoke(cli, args + ["--top", "8"], input="ごみの出し方\n", catch_exceptions=False)
    [line] = [json.loads(x) for x in result.output.strip().splitlines() if x.startswith("{")]
    assert len(line["candidates"]) == 8  # the fixture has 9 FAQs; 3 is the default
    scores = [c["score"] for c in line["candidates"]]
    assert scores == sorted(scores, reverse=True)
    result = runner.invoke(cli, args + ["--top", "21"], input="ごみ\n")
    assert result.exit_code == 2 and "21" in result.output + result.stderr


def test_review_suggestions_are_the_live_ranking(trained_model, fixture_kb_dir, fixture_settings, tmp_path, monkeypatch):
    """One retriever everywhere: what the review suggests for a question is what the live
    assistant ranked for it, in that order."""
    from dataclasses import replace

    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    import actions.knowledge as knowledge_module
    from actions.faq import ActionAnswerFaq
    from bot.eval.parser import ModelParser
    from bot.review.service import ReviewService

    settings = replace(fixture_settings, var_dir=tmp_path / "var")
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(settings.var_dir))
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(fixture_kb_dir))
    parser = ModelParser(trained_model)
    text = "ごみのことで聞きたいことがあります"
    parse = parser.parse(text)
    parser.close()
    md = parse["madoguchi"]
    assert md["type"] in ("clarify", "cannot_answer")  # a question the review will see
    latest = {**parse, "text": text}
    tracker = Tracker("r1", {}, latest, [{"event": "user", "text": text, "input_channel": "rest", "parse_data": latest}],
                      False, None, {}, "action_listen")
    ActionAnswerFaq().run(CollectingDispatcher(), tracker, {})
    [group] = ReviewService(settings).groups()
    live = [r["faq_id"] for r in md["ranking"]]
    assert [s.faq_id for s in group.suggestions] == live[:3]
