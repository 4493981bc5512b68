"""FAQ retrieval over Sudachi-normalised questions, paraphrases and answers.

Each FAQ is matched through every way it can be asked (question + paraphrases) and its
answer. Three lexical signals, each a cosine similarity of TF-IDF vectors:

* ``word``: Sudachi normalised content words (引越し = 引っ越し, ﾏｲﾅﾝﾊﾞｰ = マイナンバー);
* ``reading``: character 2/3-grams of the katakana reading, so that kana-only or
  mis-segmented input (じゅうみんひょう) still meets 住民票;
* ``answer``: the share of the question's words found in the FAQ's answer, which
  matters when a FAQ has a single canonical question (real municipal data).

and, when word vectors are given (bot/nlp/word_vectors.py), a fourth by meaning:

* ``dense``: cosine of IDF-weighted sums of word vectors (the question vs. all of an
  FAQ's questions), so that 飼い猫 meets ペット and ＰＣ meets パソコン.

and, when a sentence encoder is given (bot/nlp/encoder.py), two by the meaning of the
whole sentence, so that 「会社を辞めた」 meets 国民健康保険の加入:

* ``semantic``: the best cosine between the question and one of the FAQ's questions and
  paraphrases (passage vectors computed at training time, stored in the model), or one
  of its translated questions (``IndexDocument.translations``, knowledge/i18n/): those
  count by meaning only, never by words, so that 「쓰레기는 어떻게 분리하나요」 meets the
  FAQ's Korean question without Sudachi reading Hangul;
* ``semantic_answer``: the cosine between the question and the FAQ's answer, weighted
  like ``answer`` (it matters most when an FAQ has a single question; ``semantic``
  also weighs more then).

Encoder cosines live in a narrow band (multilingual-e5: about 0.8 for unrelated
sentences), so each is rescaled per question against its median over all FAQs:
(cos − median) / (1 − median), clipped to [0, 1]. That needs no constant tied to one
model, and an FAQ that is no closer than the rest gets nothing. Translated questions are
rescaled per language, against the median of that language's FAQs, and an FAQ takes its
best rescaled value: two texts in the same language are closer than two in different
ones whatever they say, so a Korean question would otherwise prefer any FAQ with a
Korean translation to the right FAQ without one.

The FAQ score is the weighted sum, scaled to [0, 1]. Weights were measured on the dev
set with and without paraphrases (docs/benchmarks.md, "Hybrid retrieval"). Pure code:
the analysed terms and passage vectors are stored in the Rasa model, so loading needs
no Sudachi pass and no encoding.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

import numpy as np
from scipy import sparse

from bot.nlp.japanese import JapaneseAnalyzer
from bot.nlp.scripts import main_scripts, script_counts
from bot.nlp.tfidf import TfidfSpace, char_ngrams

if TYPE_CHECKING:  # pragma: no cover
    from bot.nlp.word_vectors import WordVectors

# word/reading: mix of the two similarities; utterance: weight of the best single
# question/paraphrase against all of an FAQ's questions together; answer: weight of the
# answer, divided by the mean number of questions per FAQ (answers matter most when an
# FAQ has a single question, as in most published municipal FAQ data).
# dense: weight of the word-vector similarity (used only when vectors are given).
# semantic / semantic_answer: sentence-encoder similarities (used only with an encoder),
# the first × (1 + 1 / questions per FAQ), the second ÷ questions per FAQ; dev set, top-1
# with / without paraphrases: lexical 0.956 / 0.789, hybrid 0.965 / 0.903.
# translated / translated_answer: a translated question's (answer's) rescaled similarity
# counts this much of a Japanese one's; an FAQ takes the best (eval/dev-languages.csv:
# at full weight the FAQs translated into a language are pulled up for every question
# in it, and the others lose; docs/benchmarks.md, "Translated questions by meaning").
DEFAULT_WEIGHTS = {"word": 0.55, "reading": 0.45, "utterance": 0.0, "answer": 0.25, "dense": 0.5,
                   "semantic": 0.87, "semantic_answer": 0.75, "translated": 0.6, "translated_answer": 1.0}
# A word found only in an FAQ's answer is weaker evidence than one in its questions.
ANSWER_COVERAGE_WEIGHT = 0.5
# Reading-based coverage counts a little less than word coverage (readings are ambiguous).
READING_COVERAGE_WEIGHT = 0.9
# The word signals count for a question with at least this many letters in a script the
# FAQs' questions are written in (kana/kanji; Latin too when translated questions are
# indexed). Without, they are noise: Sudachi reads "Where can I get a residence card" as
# unknown Latin words and katakana readings, and pulls FAQs with English loanwords up.
MIN_LETTERS_IN_INDEX_SCRIPT = 2
# A language with translations of fewer FAQs than this is not used by meaning: the median
# of a handful of FAQs says little, and against the Japanese median (another language's
# scale) its few FAQs would be pulled up for every question in a related language (test
# fixture: two English and four Vietnamese FAQs put 「ソファ」 under スプレー缶 for English).
MIN_FAQS_PER_LANGUAGE = 10


@dataclass(frozen=True)
class IndexDocument:
    """What the index needs of one FAQ."""

    faq_id: str
    category: str
    department: str
    question: str
    utterances: tuple[str, ...]
    answer: str
    # Translated questions (knowledge/i18n/) as (language, question): passage vectors
    # only, no words (Sudachi analyses other languages badly: docs/benchmarks.md, "Languages").
    translations: tuple[tuple[str, str], ...] = ()
    # Translated answers as (language, answer): passage vectors only, like the questions.
    translated_answers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Candidate:
    faq_id: str
    question: str
    category: str
    department: str
    score: float
    word: float
    reading: float
    answer: float
    dense: float = 0.0
    semantic: float = 0.0  # best encoder cosine with one of the FAQ's questions
    semantic_answer: float = 0.0  # encoder cosine with the FAQ's answer


class PassageEncoder(Protocol):
    """What the index needs of a sentence encoder (bot/nlp/encoder.py)."""

    identity: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass
class PassageVectors:
    """Unit vectors of every question/paraphrase (row order of the index's utterances),
    of every answer, and of every translated question (FAQ by FAQ, in the order of
    ``IndexDocument.translations``), from the encoder named by ``identity``."""

    identity: str
    utterances: np.ndarray
    answers: np.ndarray
    translations: np.ndarray | None = None  # None: none (a model trained before them)
    translated_answers: np.ndarray | None = None  # likewise, ``IndexDocument.translated_answers``

    FILE = "passage_vectors.npz"

    def __post_init__(self) -> None:
        dim = self.utterances.shape[1] if self.utterances.ndim == 2 else 0
        if self.translations is None:
            self.translations = np.zeros((0, dim), dtype=np.float32)
        if self.translated_answers is None:
            self.translated_answers = np.zeros((0, dim), dtype=np.float32)

    def save(self, directory) -> None:
        np.savez(f"{directory}/{self.FILE}", identity=np.array(self.identity),
                 utterances=self.utterances.astype(np.float32), answers=self.answers.astype(np.float32),
                 translations=self.translations.astype(np.float32),
                 translated_answers=self.translated_answers.astype(np.float32))

    @classmethod
    def load(cls, directory) -> "PassageVectors | None":
        path = f"{directory}/{cls.FILE}"
        if not os.path.exists(path):
            return None
        with np.load(path) as data:
            optional = {name: data[name].astype(np.float32) if name in data.files else None
                        for name in ("translations", "translated_answers")}
            return cls(str(data["identity"]), data["utterances"].astype(np.float32), data["answers"].astype(np.float32),
                       **optional)


@dataclass
class SearchResult:
    """Ranked candidates plus the query-level signals the decision needs."""

    candidates: list[Candidate]
    query_terms: list[str]
    coverage: float  # IDF share of the query's words that the top FAQ knows about
    known_terms: float  # IDF share of the query's words that occur anywhere in the KB
    category: str | None = None
    department: str | None = None
    extra: dict = field(default_factory=dict)
    # False: the question is in a script the FAQs are not asked in (FaqIndex.reads) and
    # was ranked by its meaning alone; its scores have another scale (own thresholds).
    words: bool = True


@dataclass(frozen=True)
class _Blocks:
    """Where the rows of one passage matrix are: the Japanese texts, then each language's
    translations (a block each), every block's rows grouped by FAQ. One ``reduceat``
    over ``segments`` gives the best row of every (block, FAQ) pair; ``cells`` places
    those in a blocks × FAQs grid."""

    segments: np.ndarray  # first row of every (block, FAQ) pair that has rows
    cells: np.ndarray  # its place in the flattened blocks × FAQs grid
    n_blocks: int  # the first is the Japanese one; the others are translations


def _grouped(vectors: np.ndarray, doc_of: np.ndarray, translated: np.ndarray, translated_of: list[tuple[int, str]],
             n_docs: int) -> tuple[np.ndarray, _Blocks]:
    """The rows of the Japanese texts, then of each language's translations, each block
    sorted by FAQ, as one matrix; and where each block is."""
    by_language: dict[str, list[int]] = defaultdict(list)
    for row, (_, language) in enumerate(translated_of):
        by_language[language].append(row)
    sources = [(None, vectors, np.asarray(doc_of, dtype=np.int32))] + [
        (language, translated[rows], np.asarray([translated_of[r][0] for r in rows], dtype=np.int32))
        for language, rows in sorted(by_language.items())
        if len({translated_of[r][0] for r in rows}) >= MIN_FAQS_PER_LANGUAGE]
    blocks, segments, cells, start = [], [], [], 0
    for b, (language, block, docs) in enumerate(sources):
        order = np.argsort(docs, kind="stable")
        blocks.append(block[order])
        counts = np.bincount(docs, minlength=n_docs)
        has = counts > 0
        segments.append((start + np.concatenate([[0], np.cumsum(counts)[:-1]])).astype(np.int64)[has])
        cells.append(b * n_docs + np.flatnonzero(has))
        start += len(order)
    layout = _Blocks(np.concatenate(segments), np.concatenate(cells), len(sources))
    return np.concatenate(blocks).astype(np.float32), layout


def _best_per_faq(sims: np.ndarray, layout: _Blocks, n: int, translated_weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Per FAQ: the best raw cosine of its rows, and the best rescaled one, each block
    against its own median (the Japanese one over all FAQs, as without translations),
    a translated block's × ``translated_weight``. A fixed number of array operations,
    however many languages."""
    grid = np.full(layout.n_blocks * n, np.nan, dtype=np.float32)
    if len(sims):
        grid[layout.cells] = np.maximum.reduceat(sims, layout.segments)
    grid = grid.reshape(layout.n_blocks, n)
    grid[0] = np.nan_to_num(grid[0], nan=-1.0)  # the Japanese block: every FAQ, -1 without a question
    medians = np.full(layout.n_blocks, float(np.median(grid[0])), dtype=np.float32)
    if layout.n_blocks > 1:
        medians[1:] = _row_medians(grid[1:])
    weights = np.full((layout.n_blocks, 1), translated_weight, dtype=np.float32)
    weights[0] = 1.0
    scaled = np.clip((grid - medians[:, None]) / np.maximum(1e-6, 1.0 - medians)[:, None], 0.0, 1.0) * weights
    best = np.nan_to_num(np.fmax.reduce(grid, axis=0), nan=-1.0)
    rescaled = np.nan_to_num(np.fmax.reduce(scaled, axis=0), nan=0.0)
    return best.astype(np.float32), rescaled.astype(np.float32)


def _row_medians(grid: np.ndarray) -> np.ndarray:
    """The median of each row's numbers (NaN = no value; every row has one): one sort,
    where np.nanmedian takes 15× as long on these small grids."""
    ordered = np.sort(grid, axis=1)  # NaN sort last
    k = (~np.isnan(grid)).sum(axis=1)
    rows = np.arange(len(grid))
    return (ordered[rows, (k - 1) // 2] + ordered[rows, k // 2]) / 2


def _rescale(cosines: np.ndarray, median: float | None = None) -> np.ndarray:
    """(cos − median) / (1 − median), clipped to [0, 1]; by default the median of ``cosines``."""
    if not len(cosines):
        return cosines
    median = float(np.median(cosines)) if median is None else median
    return np.clip((cosines - median) / max(1e-6, 1.0 - median), 0.0, 1.0).astype(np.float32)


class FaqIndex:
    """Search FAQs by a resident's question.

    Build with :meth:`build` (analyses the texts) or :meth:`from_state` (from the
    analysed terms stored in a trained model).
    """

    def __init__(self, state: dict, analyzer: JapaneseAnalyzer, weights: dict | None = None,
                 vectors: "WordVectors | None" = None, passages: PassageVectors | None = None,
                 encoder: PassageEncoder | None = None) -> None:
        self.state = state
        self.analyzer = analyzer
        self.weights = {**DEFAULT_WEIGHTS, **(weights or {})}
        self.vectors = vectors if self.weights["dense"] > 0 else None
        self.docs = [IndexDocument(**{**d, "utterances": tuple(d["utterances"]),
                                      "translations": tuple(tuple(t) for t in d.get("translations", ())),
                                      "translated_answers": tuple(tuple(t) for t in d.get("translated_answers", ()))})
                     for d in state["docs"]]
        utt_terms = state["utterance_terms"]
        utt_grams = [char_ngrams(r) for r in state["utterance_readings"]]
        self._utt_doc = np.asarray(state["utterance_doc"], dtype=np.int32)
        # Share of the FAQs asked in more than one way (a question and ≥ 1 paraphrase): the
        # retriever's choice of thresholds (few_paraphrases_*), fixed for a trained index.
        self.paraphrase_share = (float(np.mean(np.bincount(self._utt_doc, minlength=len(self.docs)) >= 2))
                                 if self.docs else 0.0)
        self._word = TfidfSpace(utt_terms + state["answer_terms"])
        self._reading = TfidfSpace(utt_grams)  # its IDF also weighs reading coverage
        # Per-utterance vectors are needed only when the best single utterance counts.
        self._word_utt = self._word.transform(utt_terms) if self.weights["utterance"] > 0 else None
        self._reading_utt = self._reading.matrix
        # Per-FAQ sets of known words, for coverage: how people ask it, and its answer.
        utt_sets: list[set[str]] = [set() for _ in self.docs]
        for terms, d in zip(utt_terms, state["utterance_doc"]):
            utt_sets[d].update(terms)
        self._utterance_terms = utt_sets
        self._answer_terms = [set(a) for a in state["answer_terms"]]
        gram_sets: list[set[str]] = [set() for _ in self.docs]
        for grams, d in zip(utt_grams, state["utterance_doc"]):
            gram_sets[d].update(grams)
        self._utterance_grams = gram_sets
        self._max_idf = float(self._word.idf.max()) if len(self._word.idf) else 1.0
        self._reading_max_idf = float(self._reading.idf.max()) if len(self._reading.idf) else 1.0
        # FAQ level: every way of asking an FAQ together (best on the dev set: top-1
        # 0.963 vs 0.900 for the best single paraphrase).
        word_bags = self._bags(utt_terms)
        self._doc_word = TfidfSpace(word_bags)
        self._doc_reading = TfidfSpace(self._bags(utt_grams))
        n_utt = len(utt_terms)
        self._answer_weight = self.weights["answer"] / max(1.0, n_utt / max(1, len(self.docs)))
        # Meaning: one unit vector per FAQ from all of its questions (IDF-weighted words).
        self._dense = None
        if self.vectors is not None and word_bags:
            self._dense = np.stack([self.vectors.embed(b, self._idf) for b in word_bags])
        self._dense_weight = self.weights["dense"] if self._dense is not None else 0.0
        # Meaning of whole sentences: passage vectors from the training-time encoder.
        self.passages = passages
        self.encoder = encoder
        if passages is not None:
            n_translated = sum(len(d.translations) for d in self.docs)
            n_translated_answers = sum(len(d.translated_answers) for d in self.docs)
            if (passages.utterances.shape[0] != n_utt or passages.answers.shape[0] != len(self.docs)
                    or passages.translations.shape[0] != n_translated
                    or passages.translated_answers.shape[0] != n_translated_answers):
                raise ValueError(f"passage vectors do not fit the index: {passages.utterances.shape[0]} utterance, "
                                 f"{passages.answers.shape[0]} answer, {passages.translations.shape[0]} translation "
                                 f"and {passages.translated_answers.shape[0]} translated-answer vectors for {n_utt} "
                                 f"utterances, {len(self.docs)} FAQs, {n_translated} translated questions and "
                                 f"{n_translated_answers} translated answers; retrain the model")
            if encoder is not None and encoder.identity != passages.identity:
                raise ValueError(f"the model's FAQ vectors come from encoder {passages.identity}, but the configured "
                                 f"encoder is {encoder.identity}; retrain the model (`bot train --force`)")
            # One matrix of every question vector: the Japanese questions, then each
            # language's translated questions, each block grouped by FAQ, so that the best
            # per FAQ and block is one reduceat (a longer matrix, one product per question);
            # the answers likewise.
            self._sem_utt, self._sem_blocks = _grouped(
                passages.utterances, self._utt_doc, passages.translations,
                [(i, language) for i, d in enumerate(self.docs) for language, _ in d.translations], len(self.docs))
            self._sem_ans, self._sem_ans_blocks = _grouped(
                passages.answers, np.arange(len(self.docs), dtype=np.int32), passages.translated_answers,
                [(i, language) for i, d in enumerate(self.docs) for language, _ in d.translated_answers], len(self.docs))
        ratio = max(1.0, n_utt / max(1, len(self.docs)))
        semantic_on = passages is not None
        # Sentence meaning matters more when an FAQ has few ways of asking it (published
        # data: one question), the answer's meaning most of all; measured on the dev set
        # with and without paraphrases (docs/benchmarks.md, "Hybrid retrieval").
        self._semantic_weight = self.weights["semantic"] * (1.0 + 1.0 / ratio) if semantic_on else 0.0
        self._semantic_answer_weight = self.weights["semantic_answer"] / ratio if semantic_on else 0.0
        # Scripts the FAQs are asked in (kana and kanji count as one): see MIN_LETTERS_IN_INDEX_SCRIPT.
        self.scripts = main_scripts(u for d in self.docs for u in d.utterances) | {"kana"}

    def reads(self, text: str) -> bool:
        """Whether the word signals mean anything for ``text``: it has letters in a script
        the FAQs are asked in (a question in English or Korean, against Japanese FAQs, is
        found by its meaning alone)."""
        counts = script_counts(text)
        counts["kana"] += counts.pop("han")
        return sum(n for script, n in counts.items() if script in self.scripts) >= MIN_LETTERS_IN_INDEX_SCRIPT

    def _idf(self, term: str) -> float:
        return self._word.idf_of(term, self._max_idf)

    def _bags(self, rows: list[list[str]]) -> list[list[str]]:
        bags: list[list[str]] = [[] for _ in self.docs]
        for row, d in zip(rows, self.state["utterance_doc"]):
            bags[d].extend(row)
        return bags

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls, documents: Iterable[IndexDocument], analyzer: JapaneseAnalyzer, weights: dict | None = None,
        vectors: "WordVectors | None" = None, encoder: PassageEncoder | None = None,
        passage_encoder: PassageEncoder | None = None,
    ) -> "FaqIndex":
        """Analyse the documents; with ``encoder``, also encode every question, paraphrase
        and answer as passages (through ``passage_encoder`` when given: a cache)."""
        docs = list(documents)
        utterance_terms, utterance_readings, utterance_doc, answer_terms = [], [], [], []
        for i, d in enumerate(docs):
            for u in dict.fromkeys(d.utterances):
                terms, reading = analyzer.analyse(u)
                utterance_terms.append(terms)
                utterance_readings.append(reading)
                utterance_doc.append(i)
            answer_terms.append(analyzer.content_terms(d.answer))
        state = {
            "version": 1,
            "split_mode": analyzer.split_mode,
            "docs": [asdict(d) for d in docs],
            "utterance_terms": utterance_terms,
            "utterance_readings": utterance_readings,
            "utterance_doc": utterance_doc,
            "answer_terms": answer_terms,
        }
        passages = None
        if encoder is not None:
            source = passage_encoder or encoder
            texts = [u for d in docs for u in dict.fromkeys(d.utterances)]
            translated = [text for d in docs for _, text in d.translations]
            translated_answers = [text for d in docs for _, text in d.translated_answers]
            passages = PassageVectors(encoder.identity, source.encode_passages(texts),
                                      source.encode_passages([d.answer for d in docs]),
                                      source.encode_passages(translated) if translated else None,
                                      source.encode_passages(translated_answers) if translated_answers else None)
        return cls(state, analyzer, weights, vectors, passages, encoder)

    @classmethod
    def from_state(cls, state: dict, analyzer: JapaneseAnalyzer, weights: dict | None = None,
                   vectors: "WordVectors | None" = None, passages: PassageVectors | None = None,
                   encoder: PassageEncoder | None = None) -> "FaqIndex":
        return cls(state, analyzer, weights, vectors, passages, encoder)

    def __len__(self) -> int:
        return len(self.docs)

    # ------------------------------------------------------------------ searching
    def search(self, text: str, k: int = 5, query_vector: np.ndarray | None = None,
               meaning: bool = True) -> SearchResult:
        """Rank FAQs for ``text``; returns the top ``k`` with their signals.

        With passage vectors, the question is encoded once here unless ``query_vector``
        (its encoder vector) is given; ``meaning=False`` searches by its words alone (the
        scores keep the scale of the full search, without the sentence-meaning part).
        """
        terms, reading = self.analyzer.analyse(text)
        words = not self.uses_encoder or self.reads(text)
        if not meaning:
            return self.search_analysed(terms, reading, k, None, words=words)
        if self.passages is not None and query_vector is None and self.encoder is not None:
            query_vector = self.encoder.encode_queries([text])[0]
        return self.search_analysed(terms, reading, k, query_vector, words=words)

    @property
    def uses_encoder(self) -> bool:
        return self.passages is not None

    def semantic_scores(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per FAQ: best cosine with its questions (translated ones too), cosine with its answer, and both
        rescaled against this question's median over all FAQs (see the module doc)."""
        assert self.passages is not None
        q = np.asarray(query_vector, dtype=np.float32)
        n = len(self.docs)
        best, rescaled = _best_per_faq(self._sem_utt @ q, self._sem_blocks, n, self.weights["translated"])
        ans, ans_rescaled = _best_per_faq(self._sem_ans @ q, self._sem_ans_blocks, n, self.weights["translated_answer"])
        return best, ans, rescaled, ans_rescaled

    def search_analysed(self, terms: list[str], reading: str, k: int = 5,
                        query_vector: np.ndarray | None = None, words: bool = True) -> SearchResult:
        """``words=False``: the question is in a script the FAQs are not asked in, and only
        its meaning (``query_vector``) counts."""
        n_docs = len(self.docs)
        if n_docs == 0:
            return SearchResult([], terms, 0.0, 0.0)
        if not words:
            terms, reading = [], ""
        w = self.weights
        grams = char_ngrams(reading)
        best_word = self._cosine(self._doc_word, self._doc_word.matrix, terms)
        best_reading = self._cosine(self._doc_reading, self._doc_reading.matrix, grams)
        best = w["word"] * best_word + w["reading"] * best_reading
        if w["utterance"] > 0:
            utt = w["word"] * self._cosine(self._word, self._word_utt, terms) + w["reading"] * self._cosine(
                self._reading, self._reading_utt, grams)
            best_utt = np.zeros(n_docs, dtype=np.float32)
            np.maximum.at(best_utt, self._utt_doc, utt)
            best = (1 - w["utterance"]) * best + w["utterance"] * best_utt
        dense = np.zeros(n_docs, dtype=np.float32)
        if self._dense is not None:
            dense = np.maximum(self._dense @ self.vectors.embed(terms, self._idf), 0.0)
            best = best + self._dense_weight * dense
        sem_raw = sem_ans_raw = sem = np.zeros(n_docs, dtype=np.float32)
        semantic_on = self.passages is not None and query_vector is not None and bool(np.any(query_vector))
        if semantic_on:
            sem_raw, sem_ans_raw, sem, sem_ans = self.semantic_scores(query_vector)
            best = best + self._semantic_weight * sem + self._semantic_answer_weight * sem_ans

        idf = {t: self._word.idf_of(t, self._max_idf) for t in set(terms)}
        total = sum(idf.values())
        top_pre = np.argsort(-best)[: max(k, 20)]
        answer_scores = np.zeros(n_docs, dtype=np.float32)
        if total > 0:
            for i in top_pre:
                a = self._answer_terms[i]
                answer_scores[i] = sum(v for t, v in idf.items() if t in a) / total
        scores = best + self._answer_weight * answer_scores
        order = np.argsort(-scores)[:k]
        total_weight = w["word"] + w["reading"] + self._answer_weight + self._dense_weight
        if self.passages is not None:  # the scale stays the same whether or not this question had a vector
            total_weight += self._semantic_weight + self._semantic_answer_weight
        candidates = [
            Candidate(
                faq_id=self.docs[i].faq_id,
                question=self.docs[i].question,
                category=self.docs[i].category,
                department=self.docs[i].department,
                score=round(float(scores[i]) / total_weight, 4),
                word=round(float(best_word[i]), 4),
                reading=round(float(best_reading[i]), 4),
                answer=round(float(answer_scores[i]), 4),
                dense=round(float(dense[i]), 4),
                semantic=round(float(sem_raw[i]), 4),
                semantic_answer=round(float(sem_ans_raw[i]), 4),
            )
            for i in order
            if scores[i] > 0
        ]
        coverage = 0.0
        known = 0.0
        if total > 0:
            known = sum(v for t, v in idf.items() if t in self._word.vocab) / total
            if candidates:
                coverage = self._coverage(int(order[0]), idf, total)
        if candidates:
            # Kana-only or mis-segmented questions (じゅうみんひょう) have few usable words;
            # their reading still shows how much of the question the FAQ covers.
            coverage = max(coverage, READING_COVERAGE_WEIGHT * self._reading_coverage(int(order[0]), reading))
            if semantic_on:
                # A question that shares no word with the FAQ can still mean the same
                # (「会社を辞めた」): the rescaled sentence similarity counts as coverage too.
                # Dev set, AUC of answering right vs the rest: 0.873 → 0.892 without
                # paraphrases, 0.963 either way with them (docs/benchmarks.md).
                coverage = max(coverage, float(sem[int(order[0])]))
        category, department = self._guess_category(candidates)
        return SearchResult(candidates, terms, round(coverage, 4), round(known, 4), category, department, words=words)

    def _coverage(self, doc: int, idf: dict[str, float], total: float) -> float:
        """IDF share of the question's words this FAQ knows: fully when residents ask it
        with them, half when only its answer mentions them."""
        asked, answered = self._utterance_terms[doc], self._answer_terms[doc]
        got = sum(v if t in asked else (ANSWER_COVERAGE_WEIGHT * v if t in answered else 0.0) for t, v in idf.items())
        return got / total

    def _reading_coverage(self, doc: int, reading: str) -> float:
        grams = set(char_ngrams(reading))
        if not grams:
            return 0.0
        idf = {g: self._reading.idf_of(g, self._reading_max_idf) for g in grams}
        total = sum(idf.values())
        known = self._utterance_grams[doc]
        return sum(v for g, v in idf.items() if g in known) / total if total else 0.0

    @staticmethod
    def _cosine(space: TfidfSpace, matrix: sparse.csr_matrix, terms: Sequence[str]) -> np.ndarray:
        cols, vals = space.vector_parts(terms)
        if not cols:
            return np.zeros(matrix.shape[0], dtype=np.float32)
        # A dense query vector: sparse matrix × dense vector is one pass over the matrix
        # (a 1-row sparse query made scipy build and multiply two sparse matrices: 8× slower).
        q = np.zeros(matrix.shape[1], dtype=np.float32)
        q[cols] = vals
        return np.asarray(matrix @ q, dtype=np.float32).ravel()

    @staticmethod
    def _guess_category(candidates: list[Candidate]) -> tuple[str | None, str | None]:
        """The category (and its usual department) that most of the score mass points to."""
        if not candidates:
            return None, None
        mass: dict[str, float] = defaultdict(float)
        depts: dict[str, Counter] = defaultdict(Counter)
        for c in candidates:
            mass[c.category] += c.score
            depts[c.category][c.department] += 1
        total = sum(mass.values())
        category, m = max(mass.items(), key=lambda kv: kv[1])
        if total <= 0 or m / total < 0.6 or candidates[0].score < 0.2:
            return None, None
        return category, depts[category].most_common(1)[0][0]
