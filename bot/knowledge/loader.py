"""Load ``knowledge/`` into a :class:`KnowledgeBase` and report every problem with file:line."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bot.errors import KnowledgeError
from bot.knowledge.model import City, Department, Faq, KnowledgeBase

FAQ_KEYS = ("id", "question", "paraphrases", "answer", "department", "url", "reviewed", "tags")
FILE_KEYS = ("category", "department", "faqs")
CITY_KEYS = ("city", "departments", "values", "office")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")


@dataclass(frozen=True)
class Problem:
    """One problem in the knowledge base, located at file and line (1-based)."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadResult:
    kb: KnowledgeBase
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.allow_duplicate_keys = False
    return y


def _line(node: Any, key: str | None = None) -> int:
    """1-based line of a mapping (or of one of its keys) in its YAML file."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return 1
    try:
        if key is not None and key in node:
            return lc.key(key)[0] + 1
        return lc.line + 1
    except (AttributeError, KeyError, TypeError):
        return 1


def normalise_for_compare(text: str) -> str:
    """Text as compared for duplicates: NFKC, lower case, no spaces or punctuation."""
    t = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[\s、。,.!?！？・「」()（）]", "", t)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# Parsed documents by path: (text, document). Parsing with line numbers is slow (pure
# Python: about 4 s for the whole knowledge base), and one `rasa train` loads the knowledge
# base several times (the importer is asked for its data once per graph node); an
# unchanged file is parsed once per process. Documents are read-only for every caller.
_PARSED: dict[str, tuple[str, Any]] = {}


def _load_yaml(path: Path, problems: list[Problem], rel: str) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(Problem(rel, 1, "UTF-8 で読めません。ファイルを UTF-8 で保存してください。"))
        return None
    known = _PARSED.get(str(path))
    if known is not None and known[0] == raw:
        return known[1]
    try:
        document = _yaml().load(raw)
        _PARSED[str(path)] = (raw, document)
        return document
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.append(Problem(rel, line, f"YAML として読めません: {getattr(exc, 'problem', exc)}"))
        return None


def _load_city(path: Path, rel: str, problems: list[Problem]) -> tuple[City, dict[str, Department]]:
    if not path.exists():
        problems.append(Problem(rel, 1, "city.yml がありません。市の名前と担当課を書いてください。"))
        return City(), {}
    data = _load_yaml(path, problems, rel)
    if data is None:
        return City(), {}
    if not isinstance(data, dict):
        problems.append(Problem(rel, 1, "city.yml はマッピング（city:, departments:, values:）である必要があります。"))
        return City(), {}
    for key in data:
        if key not in CITY_KEYS:
            problems.append(Problem(rel, _line(data, key), f"不明な項目 '{key}' です（使える項目: {', '.join(CITY_KEYS)}）。"))
    city_data = data.get("city") or {}
    values = {str(k): _text(v) for k, v in (data.get("values") or {}).items()}
    city = City(
        name=_text(city_data.get("name")) or "（市の名前）",
        general_contact=_text(city_data.get("general_contact")),
        website=_text(city_data.get("website")),
        values=values,
        office=dict(data.get("office") or {}),
        emergency=_text(city_data.get("emergency")),
    )
    departments: dict[str, Department] = {}
    for dept_id, d in (data.get("departments") or {}).items():
        if not isinstance(d, dict) or not _text(d.get("name")):
            problems.append(Problem(rel, _line(data["departments"], dept_id), f"担当課 '{dept_id}' に name がありません。"))
            continue
        departments[str(dept_id)] = Department(
            id=str(dept_id),
            name=_text(d.get("name")),
            phone=_text(d.get("phone")),
            place=_text(d.get("place")),
            hours=_text(d.get("hours")),
        )
    return city, departments


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _load_faq_file(
    path: Path, rel: str, problems: list[Problem], departments: dict[str, Department], values: dict[str, str]
) -> list[Faq]:
    data = _load_yaml(path, problems, rel)
    if data is None:
        return []
    if not isinstance(data, dict) or "faqs" not in data:
        problems.append(Problem(rel, 1, "FAQ ファイルには category:, department:, faqs: が必要です。"))
        return []
    for key in data:
        if key not in FILE_KEYS:
            problems.append(Problem(rel, _line(data, key), f"不明な項目 '{key}' です（使える項目: {', '.join(FILE_KEYS)}）。"))
    category = _text(data.get("category")) or path.stem
    default_dept = _text(data.get("department"))
    faqs: list[Faq] = []
    entries = data.get("faqs") or []
    if not isinstance(entries, list):
        problems.append(Problem(rel, _line(data, "faqs"), "faqs: は FAQ の並び（- id: …）である必要があります。"))
        return []
    for entry in entries:
        line = _line(entry)
        if not isinstance(entry, dict):
            problems.append(Problem(rel, line, "FAQ は id:, question:, answer: などを持つマッピングである必要があります。"))
            continue
        fid = _text(entry.get("id"))
        label = f"FAQ '{fid}'" if fid else "FAQ"
        for key in entry:
            if key not in FAQ_KEYS:
                problems.append(Problem(rel, _line(entry, key), f"{label}: 不明な項目 '{key}' です（使える項目: {', '.join(FAQ_KEYS)}）。"))
        if not fid:
            problems.append(Problem(rel, line, "FAQ に id がありません。英小文字・数字・ハイフンの id を付けてください。"))
            continue
        if not ID_PATTERN.match(fid):
            problems.append(Problem(rel, _line(entry, "id"), f"{label}: id は英小文字・数字・ハイフンで書いてください（例: gomi-sodai-fee）。"))
        question = _text(entry.get("question"))
        answer = _text(entry.get("answer"))
        if not question:
            problems.append(Problem(rel, _line(entry, "question") if "question" in entry else line, f"{label}: question が空です。質問文を書いてください。"))
        if not answer:
            problems.append(Problem(rel, _line(entry, "answer") if "answer" in entry else line, f"{label}: answer が空です。回答文を書いてください。"))
        for name in PLACEHOLDER.findall(answer):
            if name != "city" and name not in values:
                problems.append(Problem(rel, _line(entry, "answer"), f"{label}: 回答の {{{{{name}}}}} が city.yml の values にありません。"))
        dept = _text(entry.get("department")) or default_dept
        if not dept:
            problems.append(Problem(rel, line, f"{label}: department（担当課）がありません。"))
        elif departments and dept not in departments:
            where = _line(entry, "department") if "department" in entry else _line(data, "department")
            problems.append(Problem(rel, where, f"{label}: 担当課 '{dept}' が city.yml の departments にありません（あるもの: {', '.join(sorted(departments))}）。"))
        raw_paraphrases = entry.get("paraphrases") or []
        if not isinstance(raw_paraphrases, list):
            problems.append(Problem(rel, _line(entry, "paraphrases"), f"{label}: paraphrases は「- 言い換え」の並びで書いてください。"))
            raw_paraphrases = []
        paraphrases = tuple(p for p in (_text(x) for x in raw_paraphrases) if p)
        if len(paraphrases) != len(raw_paraphrases):
            problems.append(Problem(rel, _line(entry, "paraphrases"), f"{label}: 空の言い換えがあります。削除してください。"))
        url = _text(entry.get("url")) or None
        if url and not url.startswith(("http://", "https://")):
            problems.append(Problem(rel, _line(entry, "url"), f"{label}: url は http:// か https:// で始めてください（今: {url}）。"))
        reviewed = None
        if entry.get("reviewed") is not None:
            try:
                reviewed = _parse_date(entry.get("reviewed"))
            except ValueError:
                problems.append(Problem(rel, _line(entry, "reviewed"), f"{label}: reviewed は YYYY-MM-DD の日付で書いてください。"))
        tags = tuple(_text(t) for t in (entry.get("tags") or []) if _text(t))
        faqs.append(
            Faq(
                id=fid,
                category=category,
                question=question,
                answer=answer,
                department=dept,
                paraphrases=paraphrases,
                url=url,
                reviewed=reviewed,
                tags=tags,
                source=f"{rel}:{line}",
                area=path.stem,
            )
        )
    return faqs


def _cross_checks(faqs: list[Faq], problems: list[Problem]) -> None:
    first_by_id: dict[str, Faq] = {}
    for f in faqs:
        if f.id in first_by_id:
            path, line = f.source.rsplit(":", 1)
            problems.append(Problem(path, int(line), f"FAQ '{f.id}': id が重複しています（最初は {first_by_id[f.id].source}）。別の id にしてください。"))
        else:
            first_by_id[f.id] = f
    owner: dict[str, Faq] = {}
    for f in faqs:
        for text in dict.fromkeys(normalise_for_compare(u) for u in f.utterances):
            if not text:
                continue
            other = owner.get(text)
            if other is not None and other.id != f.id:
                path, line = f.source.rsplit(":", 1)
                problems.append(
                    Problem(path, int(line), f"FAQ '{f.id}': 質問・言い換え「{text}」が FAQ '{other.id}'（{other.source}）と同じです。どちらか一方に絞ってください。")
                )
            else:
                owner[text] = f


def load_knowledge(directory: str | Path) -> LoadResult:
    """Load and validate the knowledge base in ``directory``.

    Returns the knowledge base (with every loadable FAQ) and the list of problems.
    Raises :class:`KnowledgeError` only when the directory does not exist.
    """
    root = Path(directory)
    if not root.is_dir():
        raise KnowledgeError(
            f"knowledge directory not found: {root}",
            hint="run from the project root, or set MADOGUCHI_KNOWLEDGE_DIR",
        )
    problems: list[Problem] = []
    city, departments = _load_city(root / "city.yml", _rel(root / "city.yml", root), problems)
    faqs: list[Faq] = []
    files = sorted((root / "faq").glob("*.yml")) + sorted((root / "faq").glob("*.yaml"))
    if not files:
        problems.append(Problem(_rel(root / "faq", root), 1, "FAQ ファイル（faq/*.yml）がありません。"))
    for path in files:
        faqs.extend(_load_faq_file(path, _rel(path, root), problems, departments, city.values))
    _cross_checks(faqs, problems)
    kb = KnowledgeBase(city=city, departments=departments, faqs=faqs)
    from bot.knowledge.translations import load_translations  # it builds on this module

    kb.translations = load_translations(root, kb, problems)
    return LoadResult(kb, problems)


def load_valid_knowledge(directory: str | Path) -> KnowledgeBase:
    """Load the knowledge base, raising :class:`KnowledgeError` listing every problem."""
    result = load_knowledge(directory)
    if result.problems:
        listing = "\n".join(f"  {p}" for p in result.problems[:50])
        more = f"\n  … and {len(result.problems) - 50} more" if len(result.problems) > 50 else ""
        raise KnowledgeError(
            f"the knowledge base has {len(result.problems)} problem(s):\n{listing}{more}",
            hint="fix them, then run `bot kb check`",
        )
    return result.kb


def _rel(path: Path, root: Path) -> str:
    return f"{root.name}/{path.relative_to(root).as_posix()}"
