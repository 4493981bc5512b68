"""bot.knowledge.cache: the one knowledge cache of the action server and the review."""

from __future__ import annotations

import logging
import os
import shutil

import pytest

import actions.knowledge as action_knowledge
from bot.knowledge.cache import KnowledgeCache
from bot.review.service import ReviewService
from bot.settings import Settings

NEW_FAQ = """category: 行事
department: shimin
faqs:
  - id: event-hotaru
    question: ホタル祭りはいつですか。
    answer: |
      毎年6月の第2土曜日です。
"""


@pytest.fixture
def kb_dir(tmp_path, fixture_kb_dir):
    shutil.copytree(fixture_kb_dir, tmp_path / "knowledge")
    return tmp_path / "knowledge"


def touch(path):
    """A later modification time than any the file had (the stamp must change)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def break_shimin(kb_dir):
    path = kb_dir / "faq" / "shimin.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("question: 住民票の写しはどこで取れますか。", "question:"),
                    encoding="utf-8")
    touch(path)


def test_a_new_yaml_file_is_loaded_like_a_yml_file(kb_dir):
    cache = KnowledgeCache(kb_dir)
    assert "event-hotaru" not in cache.get().by_id()
    (kb_dir / "faq" / "event.yaml").write_text(NEW_FAQ, encoding="utf-8")
    assert cache.get().by_id()["event-hotaru"].question == "ホタル祭りはいつですか。"


def test_loaded_once_until_a_file_changes(kb_dir):
    cache = KnowledgeCache(kb_dir)
    first = cache.get()
    assert cache.get() is first
    touch(kb_dir / "i18n" / "glossary.yml")
    assert cache.get() is not first


def test_a_broken_edit_keeps_the_last_good_version_with_a_logged_error(kb_dir, caplog):
    cache = KnowledgeCache(kb_dir)
    good = cache.get()
    break_shimin(kb_dir)
    with caplog.at_level(logging.ERROR, logger="bot.knowledge.cache"):
        assert cache.get() is good
    [record] = [r for r in caplog.records if r.name == "bot.knowledge.cache"]
    assert record.levelno == logging.ERROR
    assert "1 new problem(s)" in record.getMessage() and "previous version is still served" in record.getMessage()
    assert "shimin.yml" in record.getMessage() and "question が空です" in record.getMessage()
    (kb_dir / "faq" / "event.yaml").write_text(NEW_FAQ, encoding="utf-8")  # still broken: still the good one
    assert cache.get() is good
    path = kb_dir / "faq" / "shimin.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("question:\n", "question: 住民票の写しはどこで取れますか。\n", 1),
                    encoding="utf-8")
    touch(path)
    fixed = cache.get()
    assert fixed is not good and "event-hotaru" in fixed.by_id()


def test_a_known_problem_does_not_freeze_the_cache(kb_dir):
    break_shimin(kb_dir)
    cache = KnowledgeCache(kb_dir)
    assert "juminhyo-get" in cache.get().by_id()  # loadable FAQs are served from the start
    (kb_dir / "faq" / "event.yaml").write_text(NEW_FAQ, encoding="utf-8")
    assert "event-hotaru" in cache.get().by_id()  # the problem was there already: not a new one


def test_the_action_server_and_the_review_share_the_cache(kb_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MADOGUCHI_KNOWLEDGE_DIR", str(kb_dir))
    monkeypatch.setattr(action_knowledge, "_cache", None)
    service = ReviewService(Settings(knowledge_dir=kb_dir, var_dir=tmp_path / "var").resolved())
    assert isinstance(service._knowledge, KnowledgeCache)
    good_for_actions, good_for_review = action_knowledge.knowledge(), service.knowledge()
    assert isinstance(action_knowledge._cache, KnowledgeCache)
    break_shimin(kb_dir)
    assert action_knowledge.knowledge() is good_for_actions
    assert service.knowledge() is good_for_review
    (kb_dir / "faq" / "event.yaml").write_text(NEW_FAQ, encoding="utf-8")
    assert "event-hotaru" not in service.knowledge().by_id()


def test_check_every_looks_at_the_files_at_most_that_often(kb_dir, monkeypatch):
    import bot.knowledge.cache as cache_module

    clock = [1000.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    cache = KnowledgeCache(kb_dir, check_every=1.0)
    first = cache.get()
    (kb_dir / "faq" / "event.yaml").write_text(NEW_FAQ, encoding="utf-8")
    clock[0] += 0.5
    assert cache.get() is first  # not looked at again yet
    clock[0] += 0.6
    assert "event-hotaru" in cache.get().by_id()  # a second later the edit is served


def test_the_action_server_looks_at_most_once_a_second(kb_dir, monkeypatch):
    monkeypatch.setattr(action_knowledge, "_cache", None)
    monkeypatch.setenv("MADOGUCHI_KNOWLEDGE_DIR", str(kb_dir))
    action_knowledge.knowledge()
    assert action_knowledge._cache.check_every == action_knowledge.CHECK_EVERY_SECONDS == 1.0
