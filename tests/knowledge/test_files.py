"""bot.knowledge.files: the one atomic writer and YAML layout of knowledge/ files."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from bot.knowledge import files
from bot.knowledge.files import dump_yaml, knowledge_yaml, write_atomically


def test_a_shared_value_is_written_out_each_time_not_as_an_alias():
    day = dt.date(2026, 12, 7)
    tags = ["ごみ", "粗大"]
    text = dump_yaml({"faqs": [{"id": "a", "reviewed": day, "tags": tags}, {"id": "b", "reviewed": day, "tags": tags}]})
    assert text == ("faqs:\n"
                    "  - id: a\n    reviewed: 2026-12-07\n    tags:\n      - ごみ\n      - 粗大\n"
                    "  - id: b\n    reviewed: 2026-12-07\n    tags:\n      - ごみ\n      - 粗大\n")


def test_a_hand_written_file_round_trips_with_comments_and_quotes():
    text = ("# ごみの出し方\ncategory: ごみ\nfaqs:\n  - id: gomi-1\n    question: \"ごみの日は？\"\n"
            "    answer: |\n      地区ごとに決まっています。\n")
    assert dump_yaml(knowledge_yaml().load(text)) == text


def test_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "gomi.yml"
    path.write_text("old\n", encoding="utf-8")
    os.chmod(path, 0o640)
    write_atomically(path, "新しい内容\n")
    assert path.read_text(encoding="utf-8") == "新しい内容\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    write_atomically(tmp_path / "new.yml", b"bytes\n")
    assert (tmp_path / "new.yml").read_bytes() == b"bytes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gomi.yml", "new.yml"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "gomi.yml"
    path.write_text("old\n", encoding="utf-8")
    synced: list[int] = []

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", lambda fd: synced.append(fd))
    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gomi.yml"]
    assert synced  # the temporary file was flushed to disk before the rename
