"""Edit ``knowledge/`` from the review: add paraphrases, add a new FAQ.

Files are edited with ruamel.yaml in round-trip mode, so comments, order and layout stay
as staff wrote them. Every edit is validated with the same checker as ``bot kb check``
(:func:`bot.knowledge.loader.load_knowledge`); an edit that introduces a problem is
rolled back (the file is restored byte for byte) and reported. Files are written by
:mod:`bot.knowledge.files` (as ``bot kb import`` writes them): replaced atomically, so
the action server never reads half a file, and plain YAML without anchors or aliases.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.errors import MadoguchiError
from bot.i18n.detect import detect
from bot.i18n.languages import is_japanese, staff_label
from bot.knowledge.files import dump_yaml, knowledge_yaml, write_atomically
from bot.knowledge.loader import ID_PATTERN, Problem, load_knowledge, normalise_for_compare
from bot.knowledge.model import KnowledgeBase
from bot.privacy.masking import contains_placeholder

MAX_PARAPHRASE_CHARS = 200  # longer "questions" are stories, not ways of asking

_edit_lock = threading.Lock()  # one edit at a time within a process


class KnowledgeEditError(MadoguchiError):
    """An edit of ``knowledge/`` was not made (nothing was changed)."""

    def __init__(self, message: str, hint: str | None = None, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message, hint)
        self.problems = list(problems)


@dataclass
class EditResult:
    """What an edit did."""

    faq_id: str
    file: Path
    added: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (text, why)


@dataclass
class FaqFile:
    path: Path
    category: str
    department: str
    ids: list[str]


@dataclass
class FaqDraft:
    """A new FAQ as staff fill it in; pre-filled from a group of questions."""

    id: str
    question: str
    answer: str = ""
    paraphrases: list[str] = field(default_factory=list)
    department: str | None = None
    file: str = ""  # file name under faq/, e.g. gomi.yml
    url: str | None = None


def _load(path: Path):
    return knowledge_yaml().load(path.read_text(encoding="utf-8"))


def _problem_keys(problems: Iterable[Problem]) -> Counter:
    # Line numbers move when a file grows; compare problems by file and message.
    return Counter((p.path, p.message) for p in problems)


@contextmanager
def _validated(knowledge_dir: Path, path: Path) -> Iterator[None]:
    """Run an edit of ``path``; keep it only if it adds no problem to the knowledge base."""
    with _edit_lock:
        before_problems = _problem_keys(load_knowledge(knowledge_dir).problems)
        existed = path.exists()
        original = path.read_bytes() if existed else b""
        try:
            yield
            after = load_knowledge(knowledge_dir).problems
        except BaseException:
            _restore(path, existed, original)
            raise
        new = _problem_keys(after) - before_problems
        if new:
            _restore(path, existed, original)
            listing = [p for p in after if (p.path, p.message) in new]
            raise KnowledgeEditError(
                "the edit would make the knowledge base invalid, so it was not made:\n"
                + "\n".join(f"  {p}" for p in listing),
                hint="change the text or choose another FAQ; `bot kb check` shows the whole knowledge base",
                problems=listing,
            )


def _restore(path: Path, existed: bool, original: bytes) -> None:
    if existed:
        write_atomically(path, original)
    elif path.exists():
        path.unlink()


def faq_files(knowledge_dir: Path) -> list[FaqFile]:
    """The FAQ files with their category, default department and FAQ ids."""
    out = []
    faq_dir = knowledge_dir / "faq"
    for path in sorted(faq_dir.glob("*.yml")) + sorted(faq_dir.glob("*.yaml")):  # as the loader reads them
        try:
            data = _load(path)
        except Exception:  # noqa: BLE001 - a broken file is reported by kb check, not here
            continue
        if not isinstance(data, dict):
            continue
        ids = [str(e.get("id")) for e in (data.get("faqs") or []) if isinstance(e, dict) and e.get("id")]
        out.append(FaqFile(path, str(data.get("category") or path.stem), str(data.get("department") or ""), ids))
    return out


def find_faq_file(knowledge_dir: Path, faq_id: str) -> Path:
    for f in faq_files(knowledge_dir):
        if faq_id in f.ids:
            return f.path
    raise KnowledgeEditError(f"FAQ '{faq_id}' was not found under {knowledge_dir / 'faq'}",
                             hint="check the id with `bot kb stats` or pick one of the suggested FAQs")


def foreign_language(text: str) -> str | None:
    """The language of ``text`` when it is recognisably not Japanese, else None (a Japanese
    FAQ's paraphrases are Japanese; translations go to knowledge/i18n/<lang>/)."""
    language = detect(text).language
    return language if language is not None and not is_japanese(language) else None


def usable_texts(texts: Iterable[str], kb: KnowledgeBase, own_faq: str | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """Split resident questions into those usable as paraphrases and those skipped (with why)."""
    owner = {}
    for f in kb.faqs:
        for u in f.utterances:
            owner.setdefault(normalise_for_compare(u), f.id)
    usable: list[str] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw in texts:
        text = " ".join(str(raw).split())
        key = normalise_for_compare(text)
        if not key:
            skipped.append((text, "文字がないため追加しません"))
        elif contains_placeholder(text):
            skipped.append((text, "個人情報を伏せた文のため追加しません"))
        elif len(text) > MAX_PARAPHRASE_CHARS:
            skipped.append((text, f"{MAX_PARAPHRASE_CHARS}文字を超えるため追加しません"))
        elif foreign_language(text):
            # Groups hold questions in every language (grouped by the live ranking); the
            # Japanese FAQ keeps Japanese texts, translations live in knowledge/i18n/<lang>/.
            lang = foreign_language(text)
            skipped.append((text, f"{staff_label(lang)}の文のため追加しません（翻訳は knowledge/i18n/{lang}/ に書きます）"))
        elif key in seen:
            skipped.append((text, "同じ文がすでに選ばれています"))
        elif key in owner:
            where = "このFAQ" if owner[key] == own_faq else f"FAQ「{owner[key]}」"
            skipped.append((text, f"{where}にすでにあります"))
        else:
            usable.append(text)
        seen.add(key)
    return usable, skipped


def add_paraphrases(knowledge_dir: Path, faq_id: str, texts: Sequence[str]) -> EditResult:
    """Append ``texts`` to the paraphrases of FAQ ``faq_id``.

    Texts already known (in this or another FAQ), masked ones and over-long ones are
    skipped with the reason. Raises :class:`KnowledgeEditError` when the FAQ does not
    exist, nothing is left to add, or the result would not validate.
    """
    knowledge_dir = Path(knowledge_dir)
    path = find_faq_file(knowledge_dir, faq_id)
    kb = load_knowledge(knowledge_dir).kb
    usable, skipped = usable_texts(texts, kb, own_faq=faq_id)
    result = EditResult(faq_id, path, [], skipped)
    if not usable:
        raise KnowledgeEditError(
            f"nothing to add to FAQ '{faq_id}': " + "; ".join(f"「{t}」{why}" for t, why in skipped[:5]),
            hint="every question of the group is already known or cannot be used as it is",
        )
    with _validated(knowledge_dir, path):
        data = _load(path)
        entry = next(e for e in data["faqs"] if isinstance(e, dict) and str(e.get("id")) == faq_id)
        seq = entry.get("paraphrases")
        if not isinstance(seq, list):
            seq = CommentedSeq()
            keys = list(entry.keys())
            pos = keys.index("question") + 1 if "question" in keys else len(keys)
            entry.insert(pos, "paraphrases", seq)
        last = len(seq) - 1
        trailing = seq.ca.items.pop(last, None) if isinstance(seq, CommentedSeq) and last >= 0 else None
        seq.extend(usable)
        if trailing is not None:
            # A blank line or comment after the old last item stays after the list.
            seq.ca.items[len(seq) - 1] = trailing
        write_atomically(path, dump_yaml(data))
    result.added = usable
    return result


def suggest_faq_id(knowledge_dir: Path, file_name: str) -> str:
    """A free id for a new FAQ in ``file_name``: ``<prefix>-new-<n>``."""
    files = faq_files(Path(knowledge_dir))
    taken = {i for f in files for i in f.ids}
    target = next((f for f in files if f.path.name == file_name), None)
    prefixes = Counter(i.split("-")[0] for i in (target.ids if target else []))
    prefix = prefixes.most_common(1)[0][0] if prefixes else re.sub(r"[^a-z0-9]+", "-", Path(file_name).stem.lower()).strip("-") or "faq"
    n = 1
    while f"{prefix}-new-{n}" in taken:
        n += 1
    return f"{prefix}-new-{n}"


def draft_faq(
    knowledge_dir: Path,
    kb: KnowledgeBase,
    texts: Sequence[str],
    department: str | None = None,
    suggested_faqs: Sequence[str] = (),
) -> FaqDraft:
    """Pre-fill a new FAQ from a group's questions (most frequent first).

    The file is the one whose default department is ``department`` (else the file of
    the first suggested FAQ); the question is the first usable text, the paraphrases the
    other usable texts; staff write the answer.
    """
    knowledge_dir = Path(knowledge_dir)
    files = faq_files(knowledge_dir)
    by_id = kb.by_id()
    if not department:
        department = next((by_id[f].department for f in suggested_faqs if f in by_id), None)
    target = next((f for f in files if department and f.department == department), None)
    if target is None:
        target = next((f for f in files for s in suggested_faqs if s in f.ids), None)
    if target is None and files:
        target = files[0]
    file_name = target.path.name if target else "review.yml"
    usable, _ = usable_texts(texts, kb)
    question = usable[0] if usable else ""
    return FaqDraft(
        id=suggest_faq_id(knowledge_dir, file_name),
        question=question,
        paraphrases=usable[1:20],
        department=department,
        file=file_name,
    )


def create_faq(knowledge_dir: Path, draft: FaqDraft, today: dt.date | None = None) -> EditResult:
    """Add the FAQ ``draft`` at the end of its file (a new file needs a category).

    Raises :class:`KnowledgeEditError` for a bad id or file name, an empty question or
    answer, or anything the checker reports.
    """
    knowledge_dir = Path(knowledge_dir)
    fid = draft.id.strip()
    if not ID_PATTERN.match(fid):
        raise KnowledgeEditError(f"id '{fid}' is not valid", hint="use lower-case letters, digits and '-' (例: gomi-kaden-small)")
    if not draft.question.strip():
        raise KnowledgeEditError("the question is empty", hint="write the question as residents would ask it")
    if not draft.answer.strip():
        raise KnowledgeEditError("the answer is empty", hint="write a short, polite answer (です・ます)")
    file_name = (draft.file or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]+\.yml", file_name):
        raise KnowledgeEditError(f"file name '{draft.file}' is not valid", hint="use a name like gomi.yml under faq/")
    path = knowledge_dir / "faq" / file_name
    kb = load_knowledge(knowledge_dir).kb
    if fid in kb.by_id():
        raise KnowledgeEditError(f"FAQ id '{fid}' is already used", hint="choose another id")
    paraphrases, skipped = usable_texts(draft.paraphrases, kb, own_faq=fid)
    question_key = normalise_for_compare(draft.question)
    paraphrases = [p for p in paraphrases if normalise_for_compare(p) != question_key]
    entry = CommentedMap()
    entry["id"] = fid
    entry["question"] = draft.question.strip()
    if paraphrases:
        entry["paraphrases"] = CommentedSeq(paraphrases)
    entry["answer"] = LiteralScalarString(draft.answer.strip() + "\n")
    file_department = next((f.department for f in faq_files(knowledge_dir) if f.path == path), None)
    if draft.department and draft.department != file_department:
        entry["department"] = draft.department
    if draft.url:
        entry["url"] = draft.url.strip()
    entry["reviewed"] = today or dt.date.today()
    with _validated(knowledge_dir, path):
        if path.exists():
            _append_entry(path, entry)
        else:
            if not draft.department:
                raise KnowledgeEditError("a new FAQ file needs a department", hint="choose the department (担当課)")
            data = CommentedMap()
            data["category"] = Path(file_name).stem
            data["department"] = draft.department
            data["faqs"] = CommentedSeq([entry])
            write_atomically(path, dump_yaml(data))
    return EditResult(fid, path, [draft.question.strip(), *paraphrases], skipped)


def _append_entry(path: Path, entry: CommentedMap) -> None:
    """Append an FAQ to ``faqs`` keeping the file's layout (blank lines between FAQs)."""
    text = path.read_text(encoding="utf-8")
    data = knowledge_yaml().load(text)
    if not isinstance(data, dict) or not isinstance(data.get("faqs"), list):
        raise KnowledgeEditError(f"{path.name} has no faqs: list", hint="run `bot kb check` and fix the file first")
    if list(data.keys())[-1] == "faqs":
        # faqs: is the last key: add the entry as text at the end, as a person would.
        block = dump_yaml([entry])
        separated = bool(re.search(r"\n[ \t]*\n[ \t]*- id:", text))
        if not text.endswith("\n"):
            text += "\n"
        if separated and not text.endswith("\n\n"):
            text += "\n"
        write_atomically(path, text + block)
    else:
        data["faqs"].append(entry)
        write_atomically(path, dump_yaml(data))


def add_training_examples(nlu_file: Path, intent: str, texts: Sequence[str]) -> list[str]:
    """Append examples to ``intent`` in a Rasa NLU YAML file (e.g. data/nlu/out_of_scope.yml).

    Masked texts and texts already in the file are skipped. Returns the texts added.
    The file is restored when the result is not valid YAML with the examples in place.
    """
    nlu_file = Path(nlu_file)
    if not nlu_file.exists():
        raise KnowledgeEditError(f"{nlu_file} does not exist", hint="check the project directory")
    original = nlu_file.read_bytes()
    with _edit_lock:
        data = _load(nlu_file)
        block = next((b for b in (data.get("nlu") or []) if isinstance(b, dict) and b.get("intent") == intent), None)
        if block is None:
            raise KnowledgeEditError(f"{nlu_file.name} has no intent '{intent}'", hint="add the intent block first")
        existing = str(block.get("examples") or "")
        known = {normalise_for_compare(line.lstrip()[2:]) for line in existing.splitlines() if line.lstrip().startswith("- ")}
        added = []
        for raw in texts:
            t = " ".join(str(raw).split())
            key = normalise_for_compare(t)
            if not key or key in known or contains_placeholder(t) or len(t) > MAX_PARAPHRASE_CHARS or t.startswith(("/", "#")):
                continue
            known.add(key)
            added.append(t)
        if not added:
            return []
        body = existing if existing.endswith("\n") or not existing else existing + "\n"
        block["examples"] = LiteralScalarString(body + "".join(f"- {t}\n" for t in added))
        write_atomically(nlu_file, dump_yaml(data))
        try:
            check = _load(nlu_file)
            examples = next(b for b in check["nlu"] if b.get("intent") == intent)["examples"]
            assert all(f"- {t}" in examples for t in added)
        except Exception as exc:  # noqa: BLE001 - any failure means: put the file back
            write_atomically(nlu_file, original)
            raise KnowledgeEditError(f"could not add examples to {nlu_file.name}: {exc}") from None
    return added
