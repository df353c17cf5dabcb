"""Lexical scoring read straight from arrays: BM25 posting lists and question-term recall.

Both are pure NumPy over structures built once per index version, so a query
costs a few array operations. :class:`Postings` reads ``bm25s``'s precomputed
posting lists (and keeps a small KB's as a dense matrix); :class:`RecallTable`
gives each entry the IDF-weighted share of its best question's terms that a
query contains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: Postings kept as a dense (terms x documents) matrix up to this many cells (4 MB):
#: a small KB's BM25 is then two row sums instead of scattered adds.
DENSE_POSTINGS = 1_000_000


@dataclass(frozen=True)
class RecallTable:
    """Every entry question's terms and IDF weights, flattened for vectorised lookups.

    ``recall`` gives, per entry, the IDF-weighted share of its best question's
    terms that a query contains: a query that names an entry's focus ("Marfan
    syndrome") covers the rare words of that entry's question.
    """

    vocab: dict[str, int]
    term: IntArray  # per occurrence: term id, in entry then question order
    weight: Array  # per occurrence: the term's IDF
    question: IntArray  # per occurrence: global question number
    opens: npt.NDArray[np.bool_]  # per occurrence: the first of its question
    total: Array  # per question: the sum of its weights
    question_entry: IntArray  # per question: its entry
    entry_start: IntArray  # per entry (+1): first occurrence

    @classmethod
    def build(cls, question_terms: Sequence[Sequence[Sequence[str]]], idf: dict[str, float]) -> RecallTable:
        vocab: dict[str, int] = {}
        term: list[int] = []
        weight: list[float] = []
        question: list[int] = []
        opens: list[bool] = []
        total: list[float] = []
        question_entry: list[int] = []
        entry_start = [0]
        for e, entry in enumerate(question_terms):
            for own in entry:
                weights = [idf.get(t, 1.0) for t in own]
                if not own or not sum(weights):
                    continue
                number = len(total)
                for position, (t, w) in enumerate(zip(own, weights, strict=True)):
                    term.append(vocab.setdefault(t, len(vocab)))
                    weight.append(w)
                    question.append(number)
                    opens.append(position == 0)
                total.append(sum(weights))
                question_entry.append(e)
            entry_start.append(len(term))
        return cls(
            vocab,
            np.array(term, dtype=np.int64),
            np.array(weight, dtype=np.float32),
            np.array(question, dtype=np.int64),
            np.array(opens, dtype=bool),
            np.array(total, dtype=np.float32),
            np.array(question_entry, dtype=np.int64),
            np.array(entry_start, dtype=np.int64),
        )

    @cached_property
    def question_starts(self) -> IntArray:
        """Per question: its first occurrence."""
        return np.flatnonzero(self.opens)

    def recall(self, candidates: IntArray, terms: Sequence[str]) -> Array:
        """Best-question weighted term recall of each candidate entry for a query's ``terms``."""
        out = np.zeros(len(candidates), dtype=np.float32)
        ids = [self.vocab[t] for t in set(terms) if t in self.vocab]
        if not ids:
            return out
        asked = np.zeros(len(self.vocab), dtype=bool)
        asked[ids] = True
        if len(candidates) == len(self.entry_start) - 1:  # every entry: no gathering
            # Questions are numbered in occurrence order and each opened once, so
            # every question is its own number and owners need no search.
            found = np.where(asked[self.term], self.weight, 0.0)
            first, totals, owners = self.question_starts, self.total, self.question_entry
        else:  # whole entries are gathered, so each question's occurrences stay together
            starts = self.entry_start[candidates]
            occurrences, _ = ranges(starts, self.entry_start[candidates + 1] - starts)
            found = np.where(asked[self.term[occurrences]], self.weight[occurrences], 0.0)
            first = np.flatnonzero(self.opens[occurrences])
            questions = self.question[occurrences[first]]
            totals, owners = self.total[questions], np.searchsorted(candidates, self.question_entry[questions])
        if not len(first):
            return out
        np.maximum.at(out, owners, np.add.reduceat(found, first) / totals)
        return out


def ranges(starts: IntArray, lengths: IntArray) -> tuple[IntArray, IntArray]:
    """The index ranges ``[start, start + length)`` end to end, and where each begins in the result."""
    offsets = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(offsets - starts, lengths), offsets


@dataclass(frozen=True)
class Postings:
    """``bm25s``'s precomputed posting lists, read straight from its arrays.

    The arrays are taken out of the ``bm25s`` object once per index: a loaded
    index maps them as ``np.memmap``, whose Python-level slicing cost ~20 us per
    query term, against ~1 us for a plain array over the same memory.
    """

    vocab: dict[str, int]
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int32]
    data: Array
    nonoccurrence: Array | None
    #: A small KB's postings as a (terms, documents) matrix, and which cells hold one.
    dense: Array | None = None
    present: npt.NDArray[np.bool_] | None = None

    @classmethod
    def of(cls, bm25: Any) -> Postings:
        """The posting lists of a ``bm25s.BM25`` index (empty for ``None``, a KB with no entries)."""
        if bm25 is None:
            empty = np.zeros(0, dtype=np.float32)
            return cls({}, np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), empty, None)
        postings = bm25.scores
        indptr, indices, data = (np.asarray(postings[k]) for k in ("indptr", "indices", "data"))
        terms, documents = len(indptr) - 1, int(postings["num_docs"])
        dense = present = None
        if terms * documents <= DENSE_POSTINGS:
            dense = np.zeros((terms, documents), dtype=np.float32)
            rows = np.repeat(np.arange(terms), np.diff(indptr))
            dense[rows, indices] = data
            present = np.zeros((terms, documents), dtype=bool)
            present[rows, indices] = True
        return cls(bm25.vocab_dict, indptr, indices, data, bm25.nonoccurrence_array, dense, present)

    def _dense_rows(self, term_ids: Sequence[int], n: int) -> tuple[Array, npt.NDArray[np.bool_]] | None:
        """The dense rows of ``term_ids``, when this index keeps them for exactly ``n`` documents."""
        if self.dense is None or self.present is None or not term_ids or self.dense.shape[1] != n:
            return None
        return self.dense[list(term_ids)], self.present[list(term_ids)]

    def scores_and_hits(self, term_ids: Sequence[int], n: int) -> tuple[Array, Array]:
        """BM25 scores of all ``n`` documents for ``term_ids``, and how many of the terms each contains."""
        dense = self._dense_rows(term_ids, n)
        if dense is not None:
            # Rows are summed in term order, as np.add.at below adds: the same float32 sums.
            return self._with_nonoccurrence(dense[0].sum(axis=0), term_ids), dense[1].sum(axis=0, dtype=np.float32)
        docs, data = self._postings_of(term_ids)
        hits = np.zeros(n, dtype=np.float32)
        # A float32 one: a Python float sends np.add.at down its casting slow path (40x slower).
        np.add.at(hits, docs, np.float32(1.0))
        return self._add(docs, data, term_ids, n), hits

    def scores(self, term_ids: Sequence[int], n: int) -> Array:
        """BM25 scores of all ``n`` documents for ``term_ids`` (no term counts)."""
        dense = self._dense_rows(term_ids, n)
        if dense is not None:
            return self._with_nonoccurrence(dense[0].sum(axis=0), term_ids)
        docs, data = self._postings_of(term_ids)
        return self._add(docs, data, term_ids, n)

    def frequency(self, term_id: int) -> int:
        """How many documents contain the term ``term_id``."""
        return int(self.indptr[term_id + 1] - self.indptr[term_id])

    def documents(self, term_ids: Sequence[int], n: int) -> npt.NDArray[np.intp]:
        """The documents (of ``n``) that contain any of ``term_ids``, sorted, each once."""
        # Marks in an n-long mask: 2-3x faster than np.unique's sort of the lists end to end.
        found = np.zeros(n, dtype=bool)
        for a, b in self._spans(term_ids):
            found[self.indices[a:b]] = True
        return np.flatnonzero(found)

    def _spans(self, term_ids: Sequence[int]) -> list[tuple[int, int]]:
        """Where each term's posting list starts and ends in :attr:`indices` and :attr:`data`."""
        return [(int(self.indptr[t]), int(self.indptr[t + 1])) for t in term_ids]

    def _postings_of(self, term_ids: Sequence[int]) -> tuple[npt.NDArray[np.intp], Array]:
        """The posting lists of ``term_ids`` end to end: document numbers and score contributions."""
        if not term_ids:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        spans = self._spans(term_ids)
        docs = np.concatenate([self.indices[a:b] for a, b in spans]).astype(np.intp)
        return docs, np.concatenate([self.data[a:b] for a, b in spans])

    def _add(self, docs: npt.NDArray[np.intp], data: Array, term_ids: Sequence[int], n: int) -> Array:
        # np.add.at adds in array order, that is term by term: each document's
        # score is the same float32 sum as one indexed add per term gives, at a
        # third of the cost (no int32 -> intp copy and temporary per term).
        scores = np.zeros(n, dtype=np.float32)
        np.add.at(scores, docs, data)
        return self._with_nonoccurrence(scores, term_ids)

    def _with_nonoccurrence(self, scores: Array, term_ids: Sequence[int]) -> Array:
        if self.nonoccurrence is not None:  # BM25L/BM25+ variants; the default has none
            scores += self.nonoccurrence[list(term_ids)].sum()
        return scores
