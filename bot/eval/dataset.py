"""Read question files: plain questions (for `bot rank`) and labelled ones (for `bot eval`)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from bot.errors import MadoguchiError

NONE_LABEL = "none"


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    expected: str  # an FAQ id, or "none" when no FAQ should answer
    category: str = ""
    line: int = 0

    @property
    def in_scope(self) -> bool:
        return self.expected != NONE_LABEL


def read_questions(text: str) -> list[str]:
    """One question per line (blank lines and lines starting with # skipped)."""
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def read_labelled(path: Path) -> list[LabelledQuestion]:
    """A CSV with a header ``question,faq_id[,category]`` (or JSON lines with those keys).

    ``faq_id`` is the expected FAQ id, or ``none`` for questions no FAQ should answer.
    """
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MadoguchiError(f"question file not found: {path}") from None
    except UnicodeDecodeError:
        raise MadoguchiError(f"{path} is not UTF-8", hint="save the file as UTF-8") from None
    if path.suffix in (".jsonl", ".json"):
        rows = []
        for i, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    rows.append((i, json.loads(line)))
                except ValueError:
                    raise MadoguchiError(f"{path}:{i}: not a JSON object", hint='one {"question": ..., "faq_id": ...} per line') from None
    else:
        reader = csv.DictReader(io.StringIO(raw))
        if not reader.fieldnames or "question" not in reader.fieldnames or "faq_id" not in reader.fieldnames:
            raise MadoguchiError(
                f"{path}: expected a CSV header with question,faq_id; got {reader.fieldnames}",
                hint="first line: question,faq_id,category",
            )
        rows = [(i, r) for i, r in enumerate(reader, 2)]
    out = []
    for line, r in rows:
        q = str(r.get("question") or "").strip()
        fid = str(r.get("faq_id") or "").strip() or NONE_LABEL
        if not q:
            raise MadoguchiError(f"{path}:{line}: empty question")
        out.append(LabelledQuestion(q, fid, str(r.get("category") or "").strip(), line))
    if not out:
        raise MadoguchiError(f"{path}: no questions found")
    return out
