"""Import FAQ files as municipalities publish them (CSV in UTF-8 or Shift_JIS, JSON).

Columns are mapped by name, so the 子育てオープンデータ協議会 layout (ID / 問い合わせ文 /
応答文 / カテゴリ …), its JSON arrangement (faq_id / question / answer / category1 …) and
plain ``id,question,answer,category,department`` all work.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml.scalarstring import LiteralScalarString

from bot.errors import KnowledgeError
from bot.knowledge.files import dump_yaml, knowledge_yaml, write_atomically

COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "faq_id", "faqid", "番号", "no", "no.", "管理番号", "識別子"),
    "question": ("question", "問い合わせ文", "問合せ文", "質問", "質問文", "問い", "faq"),
    "answer": ("answer", "応答文", "回答", "回答文", "答え", "応答"),
    "category": ("category", "category1", "カテゴリ", "カテゴリー", "カテゴリ1", "大分類", "分類"),
    "subcategory": ("category2", "subcategory", "カテゴリ2", "中分類", "サブカテゴリ"),
    "department": ("department", "担当課", "担当部署", "所管課", "担当", "問い合わせ先"),
    "url": ("url", "関連url", "参考url", "リンク", "詳細url"),
    "paraphrases": ("paraphrases", "言い換え", "類似質問", "別の聞き方"),
}
ENCODINGS = ("utf-8-sig", "cp932", "shift_jis", "euc_jp")


@dataclass
class ImportedFaq:
    id: str
    question: str
    answer: str
    category: str
    department: str | None = None
    url: str | None = None
    paraphrases: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    faqs: int
    files: list[Path]
    departments_added: list[str]
    skipped: list[str]
    encoding: str


def _norm_header(name: str) -> str:
    return unicodedata.normalize("NFKC", str(name)).strip().lower().replace(" ", "")


def map_columns(headers: list[str]) -> dict[str, str]:
    """Our field name → the file's column name, matched by known names."""
    normalised = {_norm_header(h): h for h in headers}
    mapping = {}
    for ours, names in COLUMN_NAMES.items():
        for n in names:
            if n in normalised:
                mapping[ours] = normalised[n]
                break
    return mapping


def decode(data: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Bytes to text: UTF-8 (with or without BOM), else CP932/Shift_JIS, else EUC-JP."""
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise KnowledgeError(f"cannot decode the file as {encoding}: {exc}", hint="try --encoding auto") from None
    for enc in ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise KnowledgeError("cannot tell the file's encoding", hint="save it as UTF-8 or Shift_JIS, or pass --encoding")


def _rows_from_json(text: str) -> list[dict]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise KnowledgeError(f"not valid JSON: {exc}") from None
    if isinstance(data, dict):
        for key in ("faqs", "data", "items", "records"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise KnowledgeError("JSON must be a list of FAQ objects (or {\"faqs\": [...]})")
    return data


def _rows_from_csv(text: str) -> list[dict]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return list(csv.DictReader(io.StringIO(text), dialect=dialect))


def _slug(text: str, fallback: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKC", text).lower()).strip("-")
    return s or fallback


def parse_faq_file(path: Path, encoding: str = "auto", prefix: str | None = None) -> tuple[list[ImportedFaq], list[str], str]:
    """Read a CSV or JSON FAQ file into :class:`ImportedFaq` rows; returns rows, skipped, encoding."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KnowledgeError(f"file not found: {path}") from None
    text, used = decode(raw, encoding)
    rows = _rows_from_json(text) if path.suffix.lower() == ".json" else _rows_from_csv(text)
    if not rows:
        raise KnowledgeError(f"{path}: no FAQ rows found")
    mapping = map_columns(list(rows[0].keys()))
    missing = [f for f in ("question", "answer") if f not in mapping]
    if missing:
        raise KnowledgeError(
            f"{path}: no column for {', '.join(missing)} (columns found: {', '.join(map(str, rows[0].keys()))})",
            hint="name the columns question/answer (or 問い合わせ文/応答文)",
        )
    pfx = prefix or _slug(path.stem, "faq")
    faqs: list[ImportedFaq] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for n, row in enumerate(rows, 1):
        def get(f: str) -> str:
            col = mapping.get(f)
            v = row.get(col) if col else None
            return "" if v is None else str(v).strip()

        q, a = get("question"), get("answer")
        if not q or not a:
            skipped.append(f"row {n}: empty {'question' if not q else 'answer'}")
            continue
        raw_id = get("id") or str(n)
        fid = f"{pfx}-{_slug(raw_id, str(n))}"
        if fid in seen:
            fid = f"{fid}-{n}"
        seen.add(fid)
        category = get("category") or "未分類"
        sub = get("subcategory")
        paraphrases = [p.strip() for p in re.split(r"[|\n]", get("paraphrases")) if p.strip()]
        faqs.append(ImportedFaq(fid, q, a, category if not sub else category, get("department") or None,
                                get("url") or None, paraphrases))
    return faqs, skipped, used


def write_knowledge(faqs: list[ImportedFaq], out_dir: Path, default_department: str | None = None,
                    city_name: str = "（市の名前）", prefix: str = "imported") -> tuple[list[Path], list[str]]:
    """Write FAQs as knowledge/faq/<category>.yml, adding unknown departments to city.yml.

    Files are written as the review's edits write them (:mod:`bot.knowledge.files`):
    atomically, and as plain YAML (the ``reviewed`` date that every FAQ shares is
    written on each FAQ, not as an anchor and aliases).
    """
    y = knowledge_yaml()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "faq").mkdir(exist_ok=True)
    city_path = out_dir / "city.yml"
    if city_path.exists():
        city = y.load(city_path.read_text(encoding="utf-8")) or {}
    else:
        city = {"city": {"name": city_name, "general_contact": f"{city_name}役所（電話番号を city.yml に書いてください）"},
                "departments": {}, "values": {}}
    departments = city.setdefault("departments", {}) or {}
    city["departments"] = departments
    by_name = {str(d.get("name")): k for k, d in departments.items() if isinstance(d, dict)}
    added: list[str] = []

    def dept_id(name: str | None) -> str:
        if default_department:
            return default_department
        label = name or "担当課（未設定）"
        if label in departments:
            return label
        if label in by_name:
            return by_name[label]
        new_id = f"dept-{len(departments) + 1}"
        departments[new_id] = {"name": label, "phone": "（電話番号）", "place": "", "hours": ""}
        by_name[label] = new_id
        added.append(label)
        return new_id

    groups: "OrderedDict[str, list[ImportedFaq]]" = OrderedDict()
    for f in faqs:
        groups.setdefault(f.category, []).append(f)
    today = dt.date.today()
    files = []
    for i, (category, items) in enumerate(groups.items(), 1):
        entries = []
        for f in items:
            e = {"id": f.id, "question": f.question}
            if f.paraphrases:
                e["paraphrases"] = f.paraphrases
            e["answer"] = LiteralScalarString(f.answer.replace("\r\n", "\n").strip() + "\n")
            e["department"] = dept_id(f.department)
            if f.url and f.url.startswith(("http://", "https://")):
                e["url"] = f.url
            e["reviewed"] = today
            entries.append(e)
        path = out_dir / "faq" / f"{prefix}-{i:02d}.yml"
        write_atomically(path, dump_yaml({"category": category, "faqs": entries}))
        files.append(path)
    write_atomically(city_path, dump_yaml(city))
    return files, added


def _drop_duplicates(faqs: list[ImportedFaq], out_dir: Path, skipped: list[str]) -> list[ImportedFaq]:
    """Skip rows asking exactly what an existing FAQ (or an earlier row) already asks."""
    from bot.knowledge.loader import load_knowledge, normalise_for_compare

    owners: dict[str, str] = {}
    if (out_dir / "city.yml").exists():
        for f in load_knowledge(out_dir).kb.faqs:
            for u in f.utterances:
                owners.setdefault(normalise_for_compare(u), f.id)
    kept = []
    for f in faqs:
        keys = [normalise_for_compare(u) for u in (f.question, *f.paraphrases)]
        clash = next((owners[k] for k in keys if k in owners), None)
        if clash is not None:
            skipped.append(f"{f.id}: same question as FAQ '{clash}'")
            continue
        for k in keys:
            owners.setdefault(k, f.id)
        kept.append(f)
    return kept


def import_faq_file(path: Path, out_dir: Path, encoding: str = "auto", prefix: str | None = None,
                    default_department: str | None = None) -> ImportReport:
    faqs, skipped, used = parse_faq_file(path, encoding, prefix)
    faqs = _drop_duplicates(faqs, out_dir, skipped)
    files, added = write_knowledge(faqs, out_dir, default_department, prefix=prefix or _slug(path.stem, "faq"))
    return ImportReport(len(faqs), files, added, skipped, used)
