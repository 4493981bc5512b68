import shutil
from pathlib import Path

import pytest

from bot.errors import KnowledgeError
from bot.knowledge.loader import load_knowledge, load_valid_knowledge
from bot.knowledge.render import render_answer


@pytest.fixture
def kb_dir(tmp_path, fixture_kb_dir) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(fixture_kb_dir, target)
    return target


def write(kb_dir: Path, name: str, text: str) -> None:
    (kb_dir / "faq" / name).write_text(text, encoding="utf-8")


def messages(kb_dir):
    return [str(p) for p in load_knowledge(kb_dir).problems]


def test_fixture_is_valid(fixture_kb_dir):
    result = load_knowledge(fixture_kb_dir)
    assert result.problems == []
    assert len(result.kb.faqs) == 9
    assert result.kb.by_id()["juminhyo-get"].department == "shimin"


def test_duplicate_id_reported_with_file_and_line(kb_dir):
    write(kb_dir, "dup.yml", "category: x\ndepartment: shimin\nfaqs:\n  - id: juminhyo-get\n    question: 別の質問\n    answer: 別の答え\n")
    # Files are read in name order: dup.yml comes first, so shimin.yml holds the duplicate.
    assert "knowledge/faq/shimin.yml:4: FAQ 'juminhyo-get': id が重複しています（最初は knowledge/faq/dup.yml:4）。別の id にしてください。" in messages(kb_dir)


def test_empty_answer_and_unknown_field(kb_dir):
    write(kb_dir, "bad.yml", "category: x\ndepartment: shimin\nfaqs:\n  - id: a-1\n    question: 質問です\n    answer: ''\n    colour: red\n")
    ms = messages(kb_dir)
    assert "knowledge/faq/bad.yml:6: FAQ 'a-1': answer が空です。回答文を書いてください。" in ms
    assert any(m.startswith("knowledge/faq/bad.yml:7:") and "colour" in m for m in ms)


def test_paraphrase_shared_by_two_faqs(kb_dir):
    write(kb_dir, "share.yml", "category: x\ndepartment: gomi\nfaqs:\n  - id: share-1\n    question: 別の質問\n    paraphrases:\n      - 粗大ゴミを捨てたい\n    answer: 答え\n")
    ms = messages(kb_dir)
    assert any("share.yml:4" in m and "gomi-sodai-apply" in m for m in ms)


def test_unknown_department_and_placeholder(kb_dir):
    write(kb_dir, "x.yml", "category: x\ndepartment: nowhere\nfaqs:\n  - id: x-1\n    question: 質問\n    answer: 料金は{{no_such_fee}}です\n")
    ms = messages(kb_dir)
    assert any("担当課 'nowhere'" in m for m in ms)
    assert any("{{no_such_fee}}" in m for m in ms)


def test_broken_yaml_is_a_problem_not_a_crash(kb_dir):
    write(kb_dir, "broken.yml", "category: x\nfaqs:\n  - id: [unclosed\n")
    assert any(m.startswith("knowledge/faq/broken.yml:") and "YAML" in m for m in messages(kb_dir))


def test_bad_id_url_and_date(kb_dir):
    write(kb_dir, "y.yml", "category: x\ndepartment: shimin\nfaqs:\n  - id: Bad_ID!\n    question: 質問\n    answer: 答え\n    url: www.example.jp\n    reviewed: yesterday\n")
    ms = " ".join(messages(kb_dir))
    assert "id は英小文字" in ms and "url は http" in ms and "reviewed は YYYY-MM-DD" in ms


def test_missing_directory_raises_clear_error(tmp_path):
    with pytest.raises(KnowledgeError, match="knowledge directory not found"):
        load_knowledge(tmp_path / "nope")


def test_load_valid_lists_problems(kb_dir):
    write(kb_dir, "bad.yml", "category: x\ndepartment: shimin\nfaqs:\n  - id: a-1\n    question: ''\n    answer: a\n")
    with pytest.raises(KnowledgeError, match="question が空"):
        load_valid_knowledge(kb_dir)


def test_render_fills_values_and_appends_contact(fixture_kb_dir):
    kb = load_knowledge(fixture_kb_dir).kb
    text = render_answer(kb.by_id()["juminhyo-get"], kb)
    assert "1通300円" in text and "{{" not in text
    assert text.endswith("お問い合わせ：市民課（本庁舎1階・電話 0000-11-1111）")


def test_project_knowledge_base_is_valid(project_root):
    result = load_knowledge(project_root / "knowledge")
    assert [str(p) for p in result.problems] == []
