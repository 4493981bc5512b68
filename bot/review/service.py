"""The review workflow as the console and the CLI use it: list groups, act on a group.

Each action changes ``knowledge/`` (when it is an FAQ edit) and then closes the group's
questions in the review log with a resolution row, so that they leave the list.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from bot.contract import OUT_OF_SCOPE_INTENT
from bot.db import open_database
from bot.errors import MadoguchiError
from bot.knowledge.cache import KnowledgeCache
from bot.knowledge.model import KnowledgeBase
from bot.review import knowledge_edit
from bot.review.grouping import QuestionGroup, QuestionGrouper, suggestions_for
from bot.review.knowledge_edit import EditResult, FaqDraft
from bot.review.store import Question, ReviewFilter, ReviewLog, Status
from bot.settings import Settings

OUT_OF_SCOPE_NLU_FILE = Path("data") / "nlu" / "out_of_scope.yml"


class GroupNotFound(MadoguchiError):
    """No open question group with that key."""


@dataclass(frozen=True)
class ActionOutcome:
    """What a review action did, for a message to staff."""

    action: str
    question_ids: list[int]
    resolution_id: int
    edit: EditResult | None = None
    examples_added: tuple[str, ...] = ()

    def summary(self) -> str:
        n = len(self.question_ids)
        if self.action == Status.PARAPHRASED.value and self.edit:
            skipped = f"（{len(self.edit.skipped)}件は追加しませんでした）" if self.edit.skipped else ""
            return f"FAQ「{self.edit.faq_id}」に言い換えを{len(self.edit.added)}件追加しました{skipped}。学習すると反映されます。"
        if self.action == Status.NEW_FAQ.value and self.edit:
            return f"新しいFAQ「{self.edit.faq_id}」を {self.edit.file.name} に追加しました。学習すると反映されます。"
        if self.action == Status.OUT_OF_SCOPE.value:
            extra = f"対象外の学習例を{len(self.examples_added)}件追加しました。" if self.examples_added else ""
            return f"{n}件の質問を対象外にしました。{extra}"
        return f"{n}件の質問を対応不要にしました。"


class ReviewService:
    """Review operations on one installation.

    Args:
        settings: Paths (knowledge, var) of the installation.
        log: The review log (default: opened from ``settings.database``).
        grouper: The question grouper (default: Sudachi, FAQ texts as IDF background).
    """

    def __init__(self, settings: Settings, log: ReviewLog | None = None, grouper: QuestionGrouper | None = None) -> None:
        self.settings = settings
        self.log = log or ReviewLog(open_database(settings.database))
        self._knowledge = KnowledgeCache(settings.knowledge_dir)
        self._grouper = grouper
        self._grouper_stamp: tuple | None = None
        self._groups_cache: dict[tuple, list[QuestionGroup]] = {}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ reading
    def knowledge(self) -> KnowledgeBase:
        return self._knowledge.get()

    def grouper(self) -> QuestionGrouper:
        """The grouper; its IDF background follows the current FAQ texts."""
        with self._lock:
            stamp = self._knowledge.stamp()
            if self._grouper is None or (self._grouper_stamp is not None and stamp != self._grouper_stamp):
                kb = self.knowledge()
                analyzer = self._grouper.analyzer if self._grouper else None
                self._grouper = QuestionGrouper(analyzer, background=[u for f in kb.faqs for u in f.utterances])
                self._grouper_stamp = stamp
            return self._grouper

    def groups(self, filters: ReviewFilter = ReviewFilter(), sort: str = "frequent", limit: int = 5000) -> list[QuestionGroup]:
        """Open questions matching ``filters``, grouped; FAQ suggestions limited to existing FAQs.

        Grouping a few thousand questions takes a second or two, so the result is kept
        until a question is logged, a group is resolved or ``knowledge/`` changes.
        """
        key = (filters, sort, limit, self._data_version(), self._knowledge.stamp())
        with self._lock:
            cached = self._groups_cache.get(key)
        if cached is not None:
            return list(cached)
        questions = self.log.questions(filters, limit=limit)
        groups = self.grouper().group(questions, sort=sort)
        known = self.knowledge().by_id()
        for g in groups:
            g.suggestions = [s for s in suggestions_for(g.questions, limit=6) if s.faq_id in known][:3]
        with self._lock:
            if len(self._groups_cache) >= 16:
                self._groups_cache.pop(next(iter(self._groups_cache)))
            self._groups_cache[key] = groups
        return list(groups)

    def _data_version(self) -> tuple:
        row = self.log.query(
            "SELECT (SELECT MAX(id) FROM review_questions) AS q, (SELECT MAX(id) FROM review_resolutions) AS r, "
            "(SELECT COUNT(*) FROM review_questions WHERE status = 'open') AS o")[0]
        return row["q"], row["r"], row["o"]

    def find_group(self, key: int, filters: ReviewFilter = ReviewFilter()) -> QuestionGroup:
        """The open group containing question ``key`` (as ``bot review list`` shows it)."""
        for g in self.groups(filters):
            if any(q.id == int(key) for q in g.questions):
                return g
        raise GroupNotFound(f"no open group contains question #{key}",
                            hint="run `bot review list` to see the open groups and their numbers")

    def open_questions(self, ids: Sequence[int]) -> list[Question]:
        """The still-open questions among ``ids`` (raises when there is none)."""
        qs = [q for q in self.log.by_ids(ids) if q.status == Status.OPEN.value]
        if not qs:
            raise GroupNotFound("these questions are no longer open (someone else may have handled them)",
                                hint="reload the list")
        return qs

    # ------------------------------------------------------------------ actions
    def add_paraphrases(self, ids: Sequence[int], faq_id: str, texts: Sequence[str] | None = None,
                        staff: str | None = None) -> ActionOutcome:
        """Add the questions (or the chosen ``texts`` of them) as paraphrases of ``faq_id``."""
        qs = self.open_questions(ids)
        chosen = list(texts) if texts is not None else _distinct_texts(qs)
        edit = knowledge_edit.add_paraphrases(self.settings.knowledge_dir, faq_id, chosen)
        rid = self.log.resolve([q.id for q in qs], Status.PARAPHRASED, faq_id=faq_id, file=_rel(edit.file, self.settings),
                               staff=staff, texts_added=edit.added)
        return ActionOutcome(Status.PARAPHRASED.value, [q.id for q in qs], rid, edit)

    def draft(self, ids: Sequence[int]) -> FaqDraft:
        """A pre-filled new FAQ for these questions."""
        qs = self.open_questions(ids)
        group = QuestionGroup(qs)
        return knowledge_edit.draft_faq(
            self.settings.knowledge_dir, self.knowledge(), [t for t, _ in group.texts()],
            department=group.department(), suggested_faqs=[s.faq_id for s in suggestions_for(qs, limit=6)],
        )

    def create_faq(self, ids: Sequence[int], draft: FaqDraft, staff: str | None = None) -> ActionOutcome:
        qs = self.open_questions(ids)
        edit = knowledge_edit.create_faq(self.settings.knowledge_dir, draft)
        rid = self.log.resolve([q.id for q in qs], Status.NEW_FAQ, faq_id=edit.faq_id, file=_rel(edit.file, self.settings),
                               staff=staff, texts_added=edit.added)
        return ActionOutcome(Status.NEW_FAQ.value, [q.id for q in qs], rid, edit)

    def mark_out_of_scope(self, ids: Sequence[int], add_training_examples: bool = False,
                          staff: str | None = None) -> ActionOutcome:
        """Close the questions as out of scope; optionally teach the classifier with them."""
        qs = self.open_questions(ids)
        added: list[str] = []
        if add_training_examples:
            nlu_file = self.settings.project_dir / OUT_OF_SCOPE_NLU_FILE
            added = knowledge_edit.add_training_examples(nlu_file, OUT_OF_SCOPE_INTENT, _distinct_texts(qs))
        rid = self.log.resolve([q.id for q in qs], Status.OUT_OF_SCOPE, staff=staff, texts_added=added,
                               file=str(OUT_OF_SCOPE_NLU_FILE) if added else None)
        return ActionOutcome(Status.OUT_OF_SCOPE.value, [q.id for q in qs], rid, None, tuple(added))

    def dismiss(self, ids: Sequence[int], staff: str | None = None, note: str | None = None) -> ActionOutcome:
        qs = self.open_questions(ids)
        rid = self.log.resolve([q.id for q in qs], Status.DISMISSED, staff=staff, note=note)
        return ActionOutcome(Status.DISMISSED.value, [q.id for q in qs], rid)


def _distinct_texts(questions: Sequence[Question]) -> list[str]:
    return [t for t, _ in QuestionGroup(list(questions)).texts()]


def _rel(path: Path, settings: Settings) -> str:
    try:
        return str(path.relative_to(settings.project_dir))
    except ValueError:
        return str(path)
