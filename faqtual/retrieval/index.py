"""The in-memory index of one KB version: vectors, BM25 and per-entry features.

Each entry is embedded as several *units*: its question, each alternate
question, its whole answer and the first sentences of its answer. Patients
rarely echo the FAQ's question ("why does my eye shut when I smile?") but
often echo one sentence of the answer, so sentence units carry much of the
recall. Scores per entry are maxima over the entry's units of each kind.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import numpy.typing as npt

from faqtual.models import FaqEntry
from faqtual.retrieval.lexicon import analyse, intents, stems
from faqtual.retrieval.spell import SpellFixer
from faqtual.text import content_words, sentences, words

QUESTION, ANSWER, SENTENCE, QA = 0, 1, 2, 3
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

FEATURES = ("question_sim", "sentence_sim", "answer_sim", "bm25", "coverage", "kb_coverage", "qa_sim", "intent")


@dataclass(frozen=True)
class Units:
    """The texts to embed for a list of entries, with their entry and kind."""

    texts: tuple[str, ...]
    entry: npt.NDArray[np.int64]
    kind: npt.NDArray[np.int64]


def units_for(entries: Sequence[FaqEntry], *, max_sentences: int = 8) -> Units:
    """Collect the embedding units of ``entries`` in a fixed order."""
    texts: list[str] = []
    entry_of: list[int] = []
    kind_of: list[int] = []
    for n, entry in enumerate(entries):
        for text, kind in (
            *((q, QUESTION) for q in entry.questions),
            (entry.answer, ANSWER),
            *((f"{q} {entry.answer}", QA) for q in entry.questions),
            *((s, SENTENCE) for s in sentences(entry.answer)[:max_sentences]),
        ):
            texts.append(text)
            entry_of.append(n)
            kind_of.append(kind)
    return Units(tuple(texts), np.array(entry_of, dtype=np.int64), np.array(kind_of, dtype=np.int64))


@dataclass(frozen=True)
class Query:
    """A question after spelling repair: the text to embed and its terms."""

    raw: str
    text: str
    terms: tuple[str, ...]
    intents: frozenset[str]


class Index:
    """Search structure over one KB version. Immutable after construction.

    Args:
        entries: the KB's entries, in KB order.
        units: what :func:`units_for` gave for ``entries``.
        vectors: unit vectors, one row per unit.
        common_words: words that are spelled right (see :mod:`spell`).
    """

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        units: Units,
        vectors: npt.NDArray[np.float32],
        *,
        common_words: Collection[str],
    ) -> None:
        self.entries = tuple(entries)
        self._vectors = vectors
        self._unit_entry = units.entry
        self._unit_kind = units.kind
        docs = [analyse(" ".join((*e.questions, e.answer))) for e in self.entries]
        self._bm25 = bm25s.BM25()
        if self.entries:
            self._bm25.index(docs, show_progress=False)
        self._doc_terms = [frozenset(d) for d in docs]
        self._intents = [frozenset().union(*(intents(q) for q in e.questions)) for e in self.entries]
        vocab: Counter[str] = Counter()
        for e in self.entries:
            vocab.update(w.replace("'", "") for w in words(" ".join((*e.questions, e.answer))))
        self._kb_terms = frozenset(t for d in docs for t in d)
        self._spell = SpellFixer(dict(vocab), common_words=common_words)

    def __len__(self) -> int:
        return len(self.entries)

    def prepare(self, question: str) -> Query:
        """Repair the spelling of ``question`` against the KB's words."""
        def repair(match: re.Match[str]) -> str:
            bare = match.group(0).replace("'", "")
            fixed = self._spell.fix(bare)
            return match.group(0) if fixed == bare else fixed

        text = _WORD.sub(repair, question.lower())
        return Query(raw=question, text=text, terms=tuple(stems(content_words(text))), intents=intents(text))

    def score(self, query: Query, query_vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Feature matrix ``(n_entries, len(FEATURES))`` for ``query``."""
        n = len(self.entries)
        sims = self._vectors @ query_vector
        out = np.zeros((n, len(FEATURES)), dtype=np.float32)
        for column, kind in ((0, QUESTION), (1, SENTENCE), (2, ANSWER), (6, QA)):
            mask = self._unit_kind == kind
            best = np.full(n, -1.0, dtype=np.float32)
            np.maximum.at(best, self._unit_entry[mask], sims[mask])
            out[:, column] = best
        out[:, 1] = np.maximum(out[:, 1], out[:, 2])  # an answer of one sentence has no sentence units
        terms = list(query.terms)
        if terms and n:
            bm = self._bm25.get_scores(terms).astype(np.float32)
            out[:, 3] = bm / (bm + 4.0)
            known = sum(t in self._kb_terms for t in terms) / len(terms)
            out[:, 4] = [sum(t in d for t in terms) / len(terms) for d in self._doc_terms]
            out[:, 5] = known
        else:
            out[:, 4] = 1.0
            out[:, 5] = 1.0
        if query.intents:
            out[:, 7] = [len(query.intents & i) / len(query.intents) for i in self._intents]
        return out
