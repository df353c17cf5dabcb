"""FaqService: the one object the CLI, the HTTP API and the evaluation use.

It owns a store, an embedder and the scoring model; it turns files into a KB
(``ingest``) and questions into answers (``ask``). The in-memory index is
rebuilt when the store's KB version changes, so a long-running process picks
up an ingest without a restart, and a request that already holds an index
finishes on it.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faqtual.config import Settings
from faqtual.errors import BadQueryError, IndexNotReadyError, NotFoundError
from faqtual.ingest import parse_file, prepare
from faqtual.models import Answer, AskResult, FaqEntry, IngestReport, KbOptions
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import Embedder
from faqtual.retrieval.index import Index, Units, units_for
from faqtual.retrieval.lexicon import common_words
from faqtual.store.base import Store, StoredEntry
from faqtual.text import content_hash

DEFAULT_NO_ANSWER = (
    "Sorry, I don't have an answer to that in this FAQ. Try rephrasing your question, "
    "or ask your doctor or therapist."
)
#: A runner-up this close in confidence to the best answer is offered as "did you mean".
NEAR_TIE = 0.15

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Loaded:
    """One KB version ready to answer: its index and options."""

    version: int
    options: KbOptions
    index: Index


class FaqService:
    """Answers questions from one knowledge base.

    Args:
        store: where the KB lives.
        embedder: the query and passage encoder.
        scoring: rank weights and the confidence model.
        settings: resolved settings.
        name: a display name for the KB (defaults to the KB's own name option).
    """

    def __init__(
        self,
        store: Store,
        *,
        embedder: Embedder,
        scoring: ScoringModel,
        settings: Settings,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.scoring = scoring
        self.settings = settings
        self._name = name
        self._loaded: Loaded | None = None
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------

    def loaded(self) -> Loaded:
        """The index of the KB's current version, built on first use or after a change.

        Raises:
            IndexNotReadyError: the KB holds no entries.
        """
        current = self._loaded
        if current is not None and current.version == self.store.version():
            return current
        with self._lock:
            current = self._loaded
            snapshot = self.store.snapshot()
            if current is None or current.version != snapshot.version:
                if not snapshot.entries:
                    raise IndexNotReadyError(
                        "The KB has no entries yet. Add some with 'faqtual ingest FILE --kb PATH'."
                    )
                units = units_for(snapshot.entries)
                vectors = self._vectors_for(units)
                index = Index(snapshot.entries, units, vectors, common_words=common_words())
                current = Loaded(snapshot.version, snapshot.options, index)
                self._loaded = current
            return current

    @property
    def name(self) -> str:
        """The KB's display name."""
        if self._name:
            return self._name
        return self.loaded().options.name or "kb"

    def threshold(self) -> float:
        """The abstention threshold in force: flag/env, else the KB's, else the packaged default."""
        if self.settings.threshold >= 0:
            return self.settings.threshold
        options = self.loaded().options
        if options.threshold is not None:
            return options.threshold
        return self.scoring.default_threshold

    def entries(self) -> tuple[FaqEntry, ...]:
        """Every entry of the KB, in KB order."""
        return self.store.snapshot().entries

    def entry(self, entry_id: str) -> FaqEntry:
        """The entry with id ``entry_id``.

        Raises:
            NotFoundError: no such entry.
        """
        for entry in self.entries():
            if entry.id == entry_id:
                return entry
        raise NotFoundError(f"No entry with id {entry_id!r}. List the ids with 'faqtual entries'.")

    # -- answering -----------------------------------------------------------

    def ask(self, question: str, *, top: int | None = None) -> AskResult:
        """Answer one question (see :class:`AskResult` for the contract).

        Raises:
            BadQueryError: the question is empty, too long or not text.
            IndexNotReadyError: the KB holds no entries.
        """
        return self.ask_many([question], top=top)[0]

    def ask_many(self, questions: Sequence[str], *, top: int | None = None) -> list[AskResult]:
        """Answer several questions with one encoder call.

        Raises:
            BadQueryError: one of the questions is empty, too long or not text.
        """
        for question in questions:
            self.check_question(question)
        loaded = self.loaded()
        queries = [loaded.index.prepare(q) for q in questions]
        vectors = self.embedder.embed([q.text for q in queries])
        k = top if top is not None else self.settings.top
        return [self._result(loaded, q.raw, loaded.index.score(q, v), k) for q, v in zip(queries, vectors)]

    def check_question(self, question: str) -> None:
        """Raise :class:`BadQueryError` unless ``question`` is askable text."""
        if not isinstance(question, str) or not question.strip():
            raise BadQueryError("The question is empty. Type a question, e.g. 'What is synkinesis?'.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise BadQueryError(
                f"The question is {len(question):,} characters long; the limit is {limit:,}. "
                "Shorten it to the part you want answered."
            )
        controls = sum(1 for c in question if unicodedata.category(c) in {"Cc", "Cs", "Co", "Cn"} and c not in "\t\n\r")
        if controls or "\ufffd" in question:
            raise BadQueryError("The question contains binary or unreadable characters; send plain text.")
        if not any(c.isalnum() for c in question):
            raise BadQueryError(f"The question {question!r} has no words in it. Type a question in words.")

    def _result(self, loaded: Loaded, question: str, features: np.ndarray, k: int) -> AskResult:
        fused = self.scoring.fused(features)
        order = np.argsort(-fused, kind="stable")[: max(k, 4)]
        confidences = self.scoring.confidence(self.scoring.confidence_inputs(features, fused, order))
        entries = loaded.index.entries
        answers = tuple(
            Answer(
                entry_id=entries[i].id,
                question=entries[i].question,
                alternates=entries[i].alternates,
                answer=entries[i].answer,
                confidence=float(c),
                source=entries[i].source,
                url=entries[i].url,
            )
            for i, c in zip(order.tolist(), confidences.tolist())
        )
        threshold = self.threshold()
        answered = bool(answers) and answers[0].confidence >= threshold
        best = answers[0].confidence if answers else 0.0
        near = tuple(a.entry_id for a in answers[1:] if a.confidence >= max(best - NEAR_TIE, threshold / 2))
        related = tuple(a.question for a in answers[1:4] if a.entry_id not in near)
        options = loaded.options
        return AskResult(
            question=question,
            answered=answered,
            answers=answers[:k],
            message=None if answered else (options.no_answer_message or DEFAULT_NO_ANSWER),
            did_you_mean=near,
            related=related,
            kb=self._name or options.name,
            disclaimer=options.disclaimer,
        )

    # -- writing -------------------------------------------------------------

    def ingest(self, paths: Sequence[Path], *, replace: bool = False, progress: Progress | None = None) -> IngestReport:
        """Parse ``paths`` and write their entries to the KB in one transaction.

        Entries that came from the same files before and are gone now are
        removed; with ``replace`` every other entry is removed too. Nothing is
        written until every file has parsed and every new text is embedded.

        Raises:
            IngestError: a file cannot be read or parsed (nothing is written).
            StoreError: the KB cannot be written (nothing is written).
        """
        results = [parse_file(Path(p), display_name=str(p)) for p in paths]
        prepared = prepare(results)
        origins = {str(Path(p).resolve()) for p in paths}
        by_display = {str(p): str(Path(p).resolve()) for p in paths}
        existing = {s.entry.id: s for s in self.store.stored_entries()}
        new: list[StoredEntry] = []
        for entry in prepared.entries:
            origin = by_display.get(entry.provenance[0].file, "") if entry.provenance else ""
            new.append(StoredEntry(entry=entry, origin=origin, content_hash=entry_hash(entry)))
        new_ids = {s.entry.id for s in new}
        removed = [
            i for i, s in existing.items() if i not in new_ids and (replace or s.origin in origins)
        ]
        changed = [s for s in new if s.entry.id not in existing or existing[s.entry.id].content_hash != s.content_hash]
        units = units_for([s.entry for s in changed])
        missing = self._missing_vectors(units)
        vectors = self._embed(missing, progress=progress)
        version = self.store.write(
            entries=changed,
            remove_ids=removed,
            vectors=vectors,
            model_id=self.embedder.model_id,
            flags=prepared.flags,
            options=prepared.options if prepared.options != KbOptions() else None,
        )
        added = sum(1 for s in changed if s.entry.id not in existing)
        return IngestReport(
            kb_path=str(getattr(self.store, "path", "")),
            files=tuple(str(p) for p in paths),
            added=added,
            updated=len(changed) - added,
            unchanged=len(new) - len(changed),
            removed=len(removed),
            merged=prepared.merged,
            embedded=len(vectors),
            flags=prepared.flags,
            rejected=prepared.rejected,
            kb_version=version,
        )

    def set_threshold(self, threshold: float) -> int:
        """Store ``threshold`` as the KB's own abstention threshold; returns the new version."""
        options = self.store.snapshot().options
        return self.store.set_options(KbOptions(**{**options.__dict__, "threshold": threshold}))

    # -- vectors -------------------------------------------------------------

    def _missing_vectors(self, units: Units) -> dict[str, str]:
        hashes = {content_hash(t): t for t in units.texts}
        cached = self.store.vectors(hashes, model_id=self.embedder.model_id)
        return {h: t for h, t in hashes.items() if h not in cached}

    def _embed(self, texts: dict[str, str], *, progress: Progress | None) -> dict[str, np.ndarray]:
        hashes = list(texts)
        out: dict[str, np.ndarray] = {}
        step = 256
        for start in range(0, len(hashes), step):
            chunk = hashes[start : start + step]
            for h, v in zip(chunk, self.embedder.embed([texts[h] for h in chunk])):
                out[h] = v
            if progress is not None:
                progress(min(start + step, len(hashes)), len(hashes))
        return out

    def _vectors_for(self, units: Units) -> np.ndarray:
        hashes = [content_hash(t) for t in units.texts]
        cached = self.store.vectors(hashes, model_id=self.embedder.model_id)
        todo = {h: t for h, t in zip(hashes, units.texts) if h not in cached}
        cached.update(self._embed(todo, progress=None))
        if not hashes:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([cached[h] for h in hashes]).astype(np.float32)


def entry_hash(entry: FaqEntry) -> str:
    """Hash of everything about an entry that its answers and index depend on."""
    return content_hash(
        entry.question,
        *entry.alternates,
        "\x01",
        entry.answer,
        entry.source or "",
        entry.url or "",
        *entry.tags,
        *(str(p) for p in entry.provenance),
    )
