"""The search structure of one KB version: unit vectors, BM25, and per-entry features.

Each entry is embedded as several *units*: its question, each alternate, each
question joined with the answer, the whole answer and its first sentences.
Patients rarely echo the FAQ's question ("why does my eye shut when I smile?")
but often echo a sentence of the answer, so answer-side units carry recall.
Large KBs keep only the cheap units (questions, and questions joined with the
start of the answer), because embedding 21 M characters of answers would take
the better part of an hour on two cores.

A query is scored in two stages: candidate entries come from the dense units
(exact search while the KB is small, an HNSW index from ``usearch`` beyond
that) and from BM25; features are then computed for the candidates only, so a
query costs about the same on 15 entries as on 16,000.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

from faqtual.models import FaqEntry
from faqtual.retrieval import abbreviations
from faqtual.retrieval.lexicon import INTENT_NAMES, analyse, intents, stems
from faqtual.retrieval.postings import Postings, RecallTable, ranges
from faqtual.retrieval.spell import SpellFixer
from faqtual.text import content_words, prose_words, question_part, sentences, words

QUESTION, ANSWER, SENTENCE, QA = 0, 1, 2, 3
#: Column of each intent in an index's per-entry intent table.
_INTENT_COLUMN = {name: column for column, name in enumerate(INTENT_NAMES)}
#: When no candidate entry asks what the question asks, the kind of entry whose answer
#: usually covers it: a FAQ without an "is it inherited?" entry speaks of genes under its
#: cause ("mutations of genes" in the seed), and says what a condition looks like where
#: it says what the condition is.
_INTENT_FALLBACK = {"inheritance": "cause", "susceptibility": "cause", "symptoms": "definition"}

FEATURES = (
    "question_sim",
    "sentence_sim",
    "answer_sim",
    "bm25",
    "coverage",
    "kb_coverage",
    "qa_sim",
    "intent",
    "question_recall",
    "question_bm25",
    "query_length",
    "hubness",
    "answer_prose",
)
#: Prose words (:func:`faqtual.text.prose_words`) at which an answer counts as fully substantive.
PROSE_WORDS = 40

#: Above this many entries a KB is "large": fewer, shorter units per entry.
LARGE_KB = 2000
#: Above this many units dense candidates come from the HNSW index, not a full scan.
EXACT_LIMIT = 8192
#: Candidate entries taken from BM25 in a large KB, and nearest units from dense search.
#: On the hardest MedQuAD dev set (F), 40 BM25 candidates held a right entry for every
#: question and 16 missed 3 % (MRR@10 0.902 vs 0.882); more than 12 nearest units added
#: nothing on any set, and each costs HNSW search time (benchmarks/scale.py, "Shortlist").
LEXICAL_SHORTLIST = 40
DENSE_SHORTLIST = 12
#: BM25 candidates come from entries with a question word found in at most this share of
#: entries, when the question has one.
RARE_TERM_SHARE = 0.1
#: Characters of the answer joined to the question in a large KB's QA unit (~45 tokens).
SHORT_ANSWER_CHARS = 200
#: HNSW settings, chosen with the build settings in :func:`_build_ann`: an index of up
#: to this many vectors (MedQuAD: 32,000) stores int8 vectors and searches 16 wide ...
COMPACT_ANN_UNITS = 250_000
COMPACT_EXPANSION_SEARCH = 16
#: ... a bigger one stores f16 vectors and searches 128 wide, for recall@10 >= 0.98 at
#: 1M vectors (96 wide gave 0.978-0.988 from one build to the next; int8 got 0.92). On
#: MedQuAD the compact settings gave the same answers as f16 searched 96 wide, 0.5 ms
#: a query sooner (benchmarks/scale.py): BM25 candidates and the ranker make up for
#: the few neighbours they miss.
EXPANSION_SEARCH = 128
#: Bumped whenever the persisted layout or what it holds changes (7: "down" became a
#: content word); a cache of another version is rebuilt.
FORMAT_VERSION = 7


Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Units:
    """The texts to embed for a list of entries, with their entry and kind."""

    texts: tuple[str, ...]
    entry: IntArray
    kind: IntArray


def units_for(entries: Sequence[FaqEntry], *, large: bool | None = None, max_sentences: int = 8) -> Units:
    """Collect the embedding units of ``entries`` in a fixed, entry-contiguous order.

    Args:
        entries: the KB's entries.
        large: use the large-KB policy; default: decided by ``len(entries)``.
        max_sentences: answer sentences embedded per entry (small KBs).
    """
    large = len(entries) > LARGE_KB if large is None else large
    texts: list[str] = []
    entry_of: list[int] = []
    kind_of: list[int] = []
    for n, entry in enumerate(entries):
        if large:
            short = entry.answer[:SHORT_ANSWER_CHARS]
            units = [*((q, QUESTION) for q in entry.questions), (f"{entry.question} {short}", QA)]
        else:
            units = [
                *((q, QUESTION) for q in entry.questions),
                (entry.answer, ANSWER),
                *((f"{q} {entry.answer}", QA) for q in entry.questions),
                *((s, SENTENCE) for s in sentences(entry.answer)[:max_sentences]),
            ]
        for text, kind in units:
            texts.append(text)
            entry_of.append(n)
            kind_of.append(kind)
    return Units(tuple(texts), np.array(entry_of, dtype=np.int64), np.array(kind_of, dtype=np.int64))


@dataclass(frozen=True)
class Query:
    """A question after spelling repair: its texts, terms and intents.

    ``repaired`` is the lower-cased question with its spelling repaired; ``text``
    adds the long forms of the abbreviations it uses (terms and intents come from
    it); ``encoder_text`` is what the encoder reads: ``text``, or for a message
    longer than the encoder reads, its opening and the sentences that ask.
    """

    raw: str
    text: str
    terms: tuple[str, ...]
    intents: frozenset[str]
    repaired: str
    encoder_text: str


@dataclass(frozen=True)
class Scores:
    """Features of the candidate entries of one query.

    ``entries`` indexes :attr:`Index.entries`; ``features`` has one row per
    candidate and one column per name in :data:`FEATURES`.
    """

    entries: IntArray
    features: Array


class Index:
    """Search structure over one KB version. Immutable after construction.

    Build it with :meth:`build` (embedding already done) or :meth:`load` (from
    a folder written by :meth:`save`).
    """

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        *,
        vectors: Array,
        unit_entry: IntArray,
        unit_kind: IntArray,
        bm25: Any,
        question_bm25: Any,
        spell_words: dict[str, int],
        question_terms: list[list[list[str]]],
        common_words: Collection[str],
        prose: Array,
        defined: dict[str, str],
        ann: Any = None,
    ) -> None:
        self.entries = tuple(entries)
        self._vectors = vectors
        self._unit_entry = unit_entry
        self._unit_kind = unit_kind
        self._bm25 = bm25
        self._question_bm25 = question_bm25
        self._postings = Postings.of(bm25)
        self._question_postings = Postings.of(question_bm25)
        self._ann = ann
        self._spell_words = spell_words
        self._spell = SpellFixer(spell_words, common_words=common_words)
        self._common_words = common_words
        #: Abbreviations the KB defines (short -> long form), spelled out in questions.
        self._abbreviations = defined
        self._question_terms = question_terms
        n = len(self.entries)
        self._kinds = frozenset(np.unique(unit_kind).tolist())
        starts = np.searchsorted(unit_entry, np.arange(n + 1))
        self._unit_start = starts.astype(np.int64)
        # One row per entry, one column per intent name: does any of its questions ask it?
        self._intents = np.array(
            [
                [name in found for name in INTENT_NAMES]
                for found in (frozenset().union(*(intents(q) for q in e.questions)) for e in self.entries)
            ],
            dtype=np.float32,
        ).reshape(n, len(INTENT_NAMES))
        vocab = bm25.vocab_dict if bm25 is not None else {}
        self._term_id: dict[str, int] = {t: i for t, i in vocab.items() if t}
        df: Counter[str] = Counter(t for entry in question_terms for t in set(entry[0]) if entry)
        self._question_idf = {t: math.log(1 + n / c) for t, c in df.items()}
        self._recall = RecallTable.build(question_terms, self._question_idf)
        # Each question and alternate, as typed-question keys: a question asked word for word.
        self._exact: dict[str, int] = {}
        for number, entry in enumerate(self.entries):
            for q in entry.questions:
                self._exact.setdefault(question_key(q), number)
        questions = np.asarray(vectors[self._unit_start[:-1]], dtype=np.float32) if n else np.zeros((0, 1), np.float32)
        # Large KBs skip it (the feature stays 0): an all-pairs pass over 16,000
        # questions took ~3 s of every index rebuild, and the large-KB ranker gave it no weight.
        self._hubness = _hubness(questions) if n <= LARGE_KB else None
        # How much of each answer is real prose: an answer that only lists links
        # or repeats its question is a poor answer however well its question matches.
        self._prose = prose

    # -- construction ----------------------------------------------------------

    @classmethod
    def build(
        cls, entries: Sequence[FaqEntry], units: Units, vectors: Array, *, common_words: Collection[str]
    ) -> Index:
        """Index ``entries`` whose units (from :func:`units_for`) are embedded as ``vectors``."""
        entries = tuple(entries)
        bm25 = question_bm25 = None
        question_terms = [[analyse(q) for q in e.questions] for e in entries]
        if entries:
            bm25 = bm25s.BM25()
            bm25.index([analyse(" ".join((*e.questions, e.answer))) for e in entries], show_progress=False)
            # Questions alone: the rare words there (a disease, a drug) name an entry's focus.
            question_bm25 = bm25s.BM25()
            question_bm25.index(
                [[t for q in terms for t in q] or [""] for terms in question_terms], show_progress=False
            )
        large = len(entries) > LARGE_KB
        spell: Counter[str] = Counter()
        for e in entries:
            text = " ".join(e.questions) if large else " ".join((*e.questions, e.answer))
            spell.update(w.replace("'", "") for w in words(text))
        ann = _build_ann(vectors) if len(vectors) > EXACT_LIMIT else None
        topics = _Topics(question_terms)
        defined = abbreviations.mine((t for e in entries for t in (*e.questions, e.answer)), topics=topics.covers)
        return cls(
            entries,
            vectors=np.ascontiguousarray(vectors, dtype=np.float32),
            unit_entry=units.entry,
            unit_kind=units.kind,
            bm25=bm25,
            question_bm25=question_bm25,
            spell_words=dict(spell),
            question_terms=question_terms,
            common_words=common_words,
            ann=ann,
            prose=answer_prose(entries),
            defined=defined,
        )

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (which must be new or empty)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self._vectors)
        np.save(folder / "unit_entry.npy", self._unit_entry)
        np.save(folder / "unit_kind.npy", self._unit_kind)
        np.save(folder / "prose.npy", self._prose)
        if self._bm25 is not None:
            self._bm25.save(str(folder / "bm25"), show_progress=False)
            self._question_bm25.save(str(folder / "question_bm25"), show_progress=False)
        if self._ann is not None:
            self._ann.save(str(folder / "ann.usearch"))
        (folder / "lexicon.json").write_text(
            json.dumps(
                {
                    "spell_words": self._spell_words,
                    "question_terms": self._question_terms,
                    "abbreviations": self._abbreviations,
                }
            )
        )
        (folder / "format.json").write_text(json.dumps({"format_version": FORMAT_VERSION}))

    @classmethod
    def load(cls, folder: Path, entries: Sequence[FaqEntry], *, common_words: Collection[str]) -> Index:
        """Map an index written by :meth:`save` for exactly these ``entries``.

        Raises:
            ValueError: the folder was written by another format version or for other entries.
        """
        meta = json.loads((folder / "format.json").read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"index format {meta.get('format_version')} != {FORMAT_VERSION}")
        # A plain ndarray over the mapped file: memmap's own indexing is slower.
        vectors = np.asarray(np.load(folder / "vectors.npy", mmap_mode="r"))
        unit_entry = np.load(folder / "unit_entry.npy")
        if len(entries) and (len(unit_entry) == 0 or unit_entry[-1] != len(entries) - 1):
            raise ValueError("index does not match the KB's entries")
        bm25 = question_bm25 = None
        if (folder / "bm25").is_dir():
            bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
            question_bm25 = bm25s.BM25.load(str(folder / "question_bm25"), mmap=True, show_progress=False)
        ann = None
        if (folder / "ann.usearch").is_file():
            ann = _hnsw_class().restore(str(folder / "ann.usearch"), view=True)
            # usearch does not store the search width: without this a mapped index
            # searched with its default (64), so a restart could change answers.
            ann.expansion_search = ann_settings(len(vectors))[1]
        lexicon = json.loads((folder / "lexicon.json").read_text())
        return cls(
            entries,
            vectors=vectors,
            unit_entry=unit_entry,
            unit_kind=np.load(folder / "unit_kind.npy"),
            bm25=bm25,
            question_bm25=question_bm25,
            spell_words=lexicon["spell_words"],
            question_terms=lexicon["question_terms"],
            common_words=common_words,
            ann=ann,
            prose=np.load(folder / "prose.npy"),
            defined=lexicon["abbreviations"],
        )

    def __len__(self) -> int:
        return len(self.entries)

    # -- querying ----------------------------------------------------------------

    def exact_match(self, question: str) -> int | None:
        """The entry one of whose questions or alternates is ``question`` word for word (case,
        punctuation and spacing aside), if any."""
        return self._exact.get(question_key(question))

    def prepare(self, question: str) -> Query:
        """Repair the spelling of ``question`` against the KB's words."""

        repaired = self._spell.repair(question.lower(), keep=self._abbreviations)
        text = repaired
        spelled = abbreviations.expansions(question, self._abbreviations, common_words=self._common_words)
        if spelled:  # "mom has PKD" -> "mom has pkd (polycystic kidney disease)"
            text = f"{text} ({'; '.join(spelled)})"
        asking = question_part(text)
        # The kind of answer asked for comes from the sentences that ask, not the story around them.
        return Query(
            raw=question,
            text=text,
            terms=tuple(stems(content_words(text))),
            intents=intents(asking),
            repaired=repaired,
            encoder_text=for_encoder(text, asking),
        )

    def score(self, query: Query, query_vector: Array) -> Scores:
        """Features of the candidate entries for ``query`` (all entries of a small KB)."""
        n = len(self.entries)
        terms = [t for t in query.terms if t in self._term_id]
        term_ids = [self._term_id[t] for t in terms]
        bm, hits = self._postings.scores_and_hits(term_ids, n)
        candidates = self._candidates(query_vector, bm, term_ids)
        if len(candidates) == n:  # every entry (a small KB): no gathering
            sims = np.asarray(self._vectors) @ query_vector
            kinds = self._unit_kind
            segments = self._unit_start[:-1]
        else:  # units are contiguous per entry: gather every candidate's range at once
            starts = self._unit_start[candidates]
            units, segments = ranges(starts, self._unit_start[candidates + 1] - starts)
            sims = np.asarray(self._vectors[units]) @ query_vector
            kinds = self._unit_kind[units]
        out = np.zeros((len(candidates), len(FEATURES)), dtype=np.float32)
        # Every candidate has at least its question unit, so each segment is non-empty.
        # A kind no unit of the index has (large KBs embed no answers) would
        # reduce to -1 everywhere: it is left out, and the fallbacks below apply.
        best: dict[int, Array] = {
            kind: np.maximum.reduceat(np.where(kinds == kind, sims, -1.0), segments)
            for kind in (QUESTION, SENTENCE, ANSWER, QA)
            if kind in self._kinds
        }
        out[:, 0] = best[QUESTION]
        qa = best[QA] if QA in best else np.full(len(candidates), -1.0, dtype=np.float32)
        out[:, 6] = qa
        # Small KBs: an answer of one sentence has no sentence units. Large KBs
        # embed no whole answers; the QA unit stands in for both.
        answer = np.where(best[ANSWER] < 0, qa, best[ANSWER]) if ANSWER in best else qa
        sentence = np.where(best[SENTENCE] < 0, qa, best[SENTENCE]) if SENTENCE in best else qa
        out[:, 2] = answer
        out[:, 1] = np.maximum(sentence, answer)
        cb = bm[candidates]
        out[:, 3] = cb / (cb + 4.0)
        if query.terms:
            out[:, 4] = hits[candidates] / len(query.terms)
            out[:, 5] = len(terms) / len(query.terms)
        else:
            out[:, 4] = 1.0
            out[:, 5] = 1.0
        if query.intents:
            table = self._intents[candidates]
            asked = []
            for name in sorted(query.intents):
                column = _INTENT_COLUMN[name]
                if name in _INTENT_FALLBACK and not table[:, column].any():
                    column = _INTENT_COLUMN[_INTENT_FALLBACK[name]]
                asked.append(column)
            out[:, 7] = table[:, asked].sum(axis=1) / len(query.intents)
        out[:, 8] = self._recall.recall(candidates, query.terms)
        # Long, rambling questions score lower on every similarity even when the
        # answer is right; the confidence model needs to know the length.
        out[:, 10] = min(len(query.terms), 24) / 24
        if self._hubness is not None:
            out[:, 11] = self._hubness[candidates]
        out[:, 12] = self._prose[candidates]
        vocab = self._question_postings.vocab
        question_terms = [vocab[t] for t in terms if t in vocab]
        if question_terms:
            qb = self._question_postings.scores(question_terms, n)[candidates]
            out[:, 9] = qb / (qb + 4.0)
        return Scores(candidates, out)

    def _candidates(self, query_vector: Array, bm: Array, term_ids: Sequence[int]) -> IntArray:
        n = len(self.entries)
        if n <= LARGE_KB and len(self._vectors) <= EXACT_LIMIT:
            return np.arange(n, dtype=np.int64)
        if self._ann is not None:
            found = self._ann.search(query_vector, DENSE_SHORTLIST, threads=1)
            dense_units = np.asarray(found.keys, dtype=np.int64)
        else:
            sims = np.asarray(self._vectors) @ query_vector
            dense_units = np.argpartition(-sims, min(DENSE_SHORTLIST, len(sims)) - 1)[:DENSE_SHORTLIST]
        # The best BM25 entries among those with a rarer word of the question (its focus):
        # an entry matching only "symptoms" or "disease" is no candidate, and the
        # search runs over a few hundred entries instead of all of them.
        rare = [t for t in term_ids if self._postings.frequency(t) <= RARE_TERM_SHARE * n]
        pool = self._postings.documents(rare, n) if rare else np.flatnonzero(bm)
        if len(pool) > LEXICAL_SHORTLIST:
            pool = pool[np.argpartition(-bm[pool], LEXICAL_SHORTLIST - 1)[:LEXICAL_SHORTLIST]]
        # Sorted and unique, as np.union1d gives, in a fifth of its time (it is
        # generic Python code around two sorts).
        both = np.sort(np.concatenate((self._unit_entry[dense_units], pool)))
        return both[np.concatenate(([True], both[1:] != both[:-1]))]


#: Words of a message the encoder is given. all-MiniLM-L6-v2 reads at most 256 tokens
#: (about 180 words) and drops the rest, which in a long message is where the
#: question usually is.
ENCODER_WORDS = 160


def for_encoder(text: str, asking: str) -> str:
    """``text`` as the encoder should read it: whole, or if longer than
    :data:`ENCODER_WORDS` words, its opening (a subject line, who is ill) then
    ``asking``, the sentences that ask."""
    words = text.split()
    if len(words) <= ENCODER_WORDS:
        return text
    asked = asking.split()[:ENCODER_WORDS]
    if len(asked) >= len(words):  # nothing asks: the message itself, cut
        return " ".join(words[:ENCODER_WORDS])
    return " ".join(words[: ENCODER_WORDS - len(asked)] + asked)


def question_key(text: str) -> str:
    """``text`` reduced to its words, for matching a question word for word."""
    return " ".join(words(text))


class _Topics:
    """Which long forms name something the KB's questions are about (all its terms in one question)."""

    def __init__(self, question_terms: Sequence[Sequence[Sequence[str]]]) -> None:
        self._questions = [frozenset(q) for entry in question_terms for q in entry]
        self._having: dict[str, list[int]] = {}
        for number, terms in enumerate(self._questions):
            for term in terms:
                self._having.setdefault(term, []).append(number)

    def covers(self, long: str) -> bool:
        terms = set(analyse(long))
        if not terms or any(t not in self._having for t in terms):
            return False
        rarest = min(terms, key=lambda t: len(self._having[t]))
        return any(terms <= self._questions[n] for n in self._having[rarest])


def answer_prose(entries: Sequence[FaqEntry]) -> Array:
    """Per entry: the share of :data:`PROSE_WORDS` its answer's prose words make up (at most 1)."""
    return np.array([min(prose_words(e.answer), PROSE_WORDS) / PROSE_WORDS for e in entries], dtype=np.float32)


def _hubness(questions: Array, *, k: int = 3) -> Array:
    """Mean cosine of each entry's question to its ``k`` nearest other questions.

    A "hub" question sits close to many others (a generic "How do you prevent
    X in Bell's palsy?" near every Bell's palsy question) and so attracts
    queries meant for its neighbours; the rank model can discount it
    (cf. CSLS, Conneau et al. 2018).
    """
    n = len(questions)
    out = np.zeros(n, dtype=np.float32)
    if n < 2:
        return out
    k = min(k, n - 1)
    for start in range(0, n, 1024):
        block = questions[start : start + 1024] @ questions.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -1.0
        out[start : start + len(block)] = np.sort(np.partition(block, -k, axis=1)[:, -k:], axis=1).mean(axis=1)
    return out


def _hnsw_class() -> Any:
    """usearch's Index class, imported after onnxruntime.

    Importing onnxruntime *after* usearch (its numkong kernels) crashes the
    process with a segmentation fault (onnxruntime 1.32, usearch 2.26 here),
    so onnxruntime is imported first whenever it is installed.
    """
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pass
    from usearch.index import Index

    return Index


def ann_settings(vectors: int) -> tuple[str, int]:
    """usearch's scalar type and search width for an index of ``vectors`` vectors."""
    if vectors <= COMPACT_ANN_UNITS:
        return "i8", COMPACT_EXPANSION_SEARCH
    return "f16", EXPANSION_SEARCH


def _build_ann(vectors: Array, settings: tuple[str, int] | None = None) -> Any:
    """An HNSW index of ``vectors`` (keys: row numbers) with ``settings`` (default: :func:`ann_settings`)."""
    Hnsw = _hnsw_class()
    dtype, width = settings or ann_settings(len(vectors))
    ann = Hnsw(
        ndim=vectors.shape[1],
        metric="cos",
        dtype=dtype,
        connectivity=16,
        expansion_add=64,
        expansion_search=width,
    )
    ann.add(
        np.arange(len(vectors), dtype=np.uint64),
        np.ascontiguousarray(vectors, dtype=np.float32),
        threads=0,
        log=False,
    )
    return ann
