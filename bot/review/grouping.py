"""Group similar unanswered questions, so that 40 ways of asking one new topic are one row.

Each distinct question is described much as the FAQ search describes it: Sudachi
normalised content words plus their readings (熊 and クマ meet), and character 2/3-grams
of the katakana reading of the whole question (しょうひんけん meets 商品券).
Similarity is the weighted cosine of the two TF-IDF vectors; the IDF is estimated on the
questions together with a background corpus (the FAQ questions and paraphrases), so that
words every question uses (申請, 方法) count little. Groups are formed by average-link
agglomerative clustering cut at ``threshold`` (leader clustering above ``MAX_EXACT``
distinct texts, where the full distance matrix would be too big). Tuned on
tests/review/test_grouping.py. Pure code apart from the analyzer.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from scipy import sparse

from bot.knowledge.loader import normalise_for_compare
from bot.nlp.japanese import STOP_TERMS, JapaneseAnalyzer, has_meaningful_text, to_katakana
from bot.privacy.masking import PLACEHOLDER_PATTERN
from bot.review.store import Question

WORD_WEIGHT = 0.4  # short questions are often kana or mis-segmented: readings weigh more
READING_WEIGHT = 0.6
DEFAULT_THRESHOLD = 0.15  # average similarity at or above which questions are one topic
MAX_EXACT = 2500  # distinct texts clustered exactly (memory ~ n² floats); above, leader clustering


@dataclass(frozen=True)
class Suggestion:
    """An FAQ the assistant considered for the group's questions."""

    faq_id: str
    question: str
    score: float  # mean score over the questions that had it as a candidate
    votes: int  # how many questions had it as a candidate


@dataclass
class QuestionGroup:
    """Similar questions; ``key`` is the smallest question id (stable as the group grows)."""

    questions: list[Question]
    label: str = ""
    suggestions: list[Suggestion] = field(default_factory=list)

    @property
    def key(self) -> int:
        return min(q.id for q in self.questions)

    @property
    def ids(self) -> list[int]:
        return sorted(q.id for q in self.questions)

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def newest(self) -> dt.datetime:
        return max(q.created for q in self.questions)

    @property
    def oldest(self) -> dt.datetime:
        return min(q.created for q in self.questions)

    def texts(self) -> list[tuple[str, int]]:
        """Distinct texts with how often each was asked, most frequent first."""
        counts: Counter = Counter()
        first: dict[str, str] = {}
        for q in sorted(self.questions, key=lambda q: q.id):
            key = normalise_for_compare(q.text) or q.text
            counts[key] += 1
            first.setdefault(key, q.text)
        return [(first[k], n) for k, n in counts.most_common()]

    def outcomes(self) -> Counter:
        return Counter(q.outcome for q in self.questions)

    def channels(self) -> Counter:
        return Counter(q.channel for q in self.questions if q.channel)

    def languages(self) -> Counter:
        """How many questions were asked in each language (None: not recorded)."""
        return Counter(q.language for q in self.questions)

    def category(self) -> str | None:
        c = Counter(q.category for q in self.questions if q.category)
        return c.most_common(1)[0][0] if c else None

    def department(self) -> str | None:
        c = Counter(q.department for q in self.questions if q.department)
        return c.most_common(1)[0][0] if c else None


def _char_ngrams(reading: str) -> list[str]:
    grams = [reading[i : i + 2] for i in range(len(reading) - 1)]
    grams += [reading[i : i + 3] for i in range(len(reading) - 2)]
    if len(reading) == 1:
        grams.append(reading)
    return grams


def _tfidf(rows: Sequence[Sequence[str]], background: Sequence[Sequence[str]] = ()) -> sparse.csr_matrix:
    """Sublinear-tf, smoothed-idf, L2-normalised rows; IDF also counts ``background``."""
    vocab: dict[str, int] = {}
    df: Counter = Counter()
    for row in list(rows) + list(background):
        for t in set(row):
            df[t] += 1
            vocab.setdefault(t, len(vocab))
    n = len(rows) + len(background)
    indptr, indices, data = [0], [], []
    for row in rows:
        counts = Counter(row)
        vals = [(1 + math.log(c)) * (math.log((n + 1) / (df[t] + 1)) + 1) for t, c in counts.items()]
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        indices.extend(vocab[t] for t in counts)
        data.extend(v / norm for v in vals)
        indptr.append(len(indices))
    return sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
                              np.asarray(indptr)), shape=(len(rows), max(1, len(vocab))))


class QuestionGrouper:
    """Groups questions by meaning.

    Args:
        analyzer: The Sudachi analyzer (shared with the FAQ search).
        threshold: Average similarity (0–1) at or above which questions belong together.
        background: Texts that only inform the IDF (the FAQ questions and paraphrases).
    """

    def __init__(self, analyzer: JapaneseAnalyzer | None = None, threshold: float = DEFAULT_THRESHOLD,
                 background: Sequence[str] = ()) -> None:
        self.analyzer = analyzer or JapaneseAnalyzer("A")
        self.threshold = threshold
        self._background_texts = list(background)
        self._background: tuple[list[list[str]], list[list[str]]] | None = None
        self._cache: dict[str, tuple[list[str], str]] = {}

    def features(self, text: str) -> tuple[list[str], str]:
        """Words (terms and their readings) and the katakana reading of ``text``."""
        hit = self._cache.get(text)
        if hit is not None:
            return hit
        plain = PLACEHOLDER_PATTERN.sub(" ", text)  # ［電話番号］ says nothing about the topic
        words: list[str] = []
        reading: list[str] = []
        for m in self.analyzer.morphemes(plain):
            if m.pos == "補助記号":
                continue
            r = to_katakana(unicodedata.normalize("NFKC", m.reading if m.reading and m.reading != "キゴウ" else m.surface).lower())
            reading.append(r)
            # Question words (どこ, いつ) are pronouns: they say how, not what, is asked.
            if m.is_content and m.pos != "代名詞":
                term = self.analyzer.term(m)
                if term and term not in STOP_TERMS and has_meaningful_text(term):
                    words.extend((term, "~" + r))
        hit = (words, "".join(reading))
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[text] = hit
        return hit

    def _background_rows(self) -> tuple[list[list[str]], list[list[str]]]:
        if self._background is None:
            analysed = [self.features(t) for t in self._background_texts]
            self._background = ([a[0] for a in analysed], [_char_ngrams(a[1]) for a in analysed])
        return self._background

    def _vectors(self, texts: Sequence[str]) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        analysed = [self.features(t) for t in texts]
        bg_words, bg_grams = self._background_rows()
        words = _tfidf([a[0] for a in analysed], bg_words)
        readings = _tfidf([_char_ngrams(a[1]) for a in analysed], bg_grams)
        return words, readings

    def similarity_matrix(self, texts: Sequence[str]) -> np.ndarray:
        """Pairwise similarities (dense, n×n, float32) of ``texts``."""
        words, readings = self._vectors(texts)
        rsim = (readings @ readings.T).toarray()
        sim = (words @ words.T).toarray()
        sim *= WORD_WEIGHT
        sim += READING_WEIGHT * rsim
        # A text without content words is compared by its reading alone.
        no_words = np.asarray(words.getnnz(axis=1) == 0)
        if no_words.any():
            sim[no_words, :] = rsim[no_words, :]
            sim[:, no_words] = rsim[:, no_words]
        del rsim
        np.fill_diagonal(sim, 1.0)
        return np.clip(sim, 0.0, 1.0, out=sim)

    def cluster_texts(self, texts: Sequence[str], weights: Sequence[int] | None = None) -> list[int]:
        """A cluster number for each text."""
        n = len(texts)
        if n == 0:
            return []
        if n == 1:
            return [0]
        if n > MAX_EXACT:
            return self._leader(texts, weights or [1] * n)
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import squareform

        dist = self.similarity_matrix(texts)
        np.subtract(1.0, dist, out=dist)
        np.fill_diagonal(dist, 0.0)
        # squareform reads the upper triangle; the matrix is symmetric up to rounding.
        tree = linkage(squareform(dist, checks=False).astype(np.float64), method="average")
        labels = fcluster(tree, t=1.0 - self.threshold, criterion="distance")
        return [int(x) - 1 for x in labels]

    def _leader(self, texts: Sequence[str], weights: Sequence[int], block: int = 256) -> list[int]:
        """Greedy clustering for many texts: most frequent first, each joins the most similar
        leader or becomes one. Similarities are computed a block of rows at a time."""
        words, readings = self._vectors(texts)
        order = np.argsort(-np.asarray(weights), kind="stable")
        words, readings = words[order], readings[order]
        words_t, readings_t = words.T.tocsc(), readings.T.tocsc()
        n = len(texts)
        labels = np.full(n, -1, dtype=np.int64)
        leaders = np.empty(n, dtype=np.int64)
        count = 0
        for start in range(0, n, block):
            stop = min(n, start + block)
            sims = WORD_WEIGHT * (words[start:stop] @ words_t).toarray() + READING_WEIGHT * (readings[start:stop] @ readings_t).toarray()
            for k, i in enumerate(range(start, stop)):
                if count:
                    row = sims[k, leaders[:count]]
                    best = int(np.argmax(row))
                    if row[best] >= self.threshold:
                        labels[i] = labels[leaders[best]]
                        continue
                labels[i] = count
                leaders[count] = i
                count += 1
        result = [0] * n
        for position, original in enumerate(order):
            result[int(original)] = int(labels[position])
        return result

    def group(self, questions: Iterable[Question], sort: str = "frequent") -> list[QuestionGroup]:
        """Group ``questions``; ``sort`` is "frequent" (count, then newest) or "newest"."""
        questions = list(questions)
        by_text: dict[str, list[Question]] = defaultdict(list)
        for q in questions:
            by_text[normalise_for_compare(q.text) or q.text].append(q)
        keys = list(by_text)
        texts = [by_text[k][0].text for k in keys]
        labels = self.cluster_texts(texts, [len(by_text[k]) for k in keys])
        members: dict[int, list[Question]] = defaultdict(list)
        for key, label in zip(keys, labels):
            members[label].extend(by_text[key])
        groups = [QuestionGroup(qs) for qs in members.values()]
        for g in groups:
            g.label = g.texts()[0][0]
            g.suggestions = suggestions_for(g.questions)
        return sort_groups(groups, sort)


def sort_groups(groups: list[QuestionGroup], sort: str = "frequent") -> list[QuestionGroup]:
    if sort == "newest":
        return sorted(groups, key=lambda g: (g.newest, g.count), reverse=True)
    return sorted(groups, key=lambda g: (g.count, g.newest), reverse=True)


def suggestions_for(questions: Iterable[Question], limit: int = 3) -> list[Suggestion]:
    """FAQs the assistant considered most often and most strongly for these questions."""
    total: dict[str, float] = defaultdict(float)
    votes: Counter = Counter()
    titles: dict[str, str] = {}
    for q in questions:
        for c in q.candidates:
            fid = c.get("faq_id")
            if not fid:
                continue
            total[fid] += float(c.get("score") or 0.0)
            votes[fid] += 1
            titles.setdefault(fid, c.get("question") or "")
        if q.faq_id and q.outcome != "answer":  # the FAQ that did not help is a candidate too
            votes[q.faq_id] += 1
            titles.setdefault(q.faq_id, "")
        if q.next_action == "picked_candidate" and q.next_faq_id:
            # The resident chose it: the strongest hint that this FAQ answers the question.
            total[q.next_faq_id] += 1.0
            votes[q.next_faq_id] += 1
            titles.setdefault(q.next_faq_id, "")
    ranked = sorted(votes, key=lambda f: (total[f], votes[f]), reverse=True)
    return [Suggestion(f, titles[f], round(total[f] / votes[f], 4), votes[f]) for f in ranked[:limit]]
