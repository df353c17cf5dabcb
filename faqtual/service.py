"""FaqService: the one object the CLI, the HTTP API and the evaluation use.

It owns a store, an embedder and the scoring model; it turns files into a KB
(``ingest``) and questions into answers (``ask``). The in-memory index is
rebuilt when the store's KB version changes, so a long-running process picks
up an ingest without a restart, and a request that already holds an index
finishes on it.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from faqtual.config import Settings
from faqtual.errors import BadQueryError, IndexNotReadyError, KbChangedError, NotFoundError, StoreError
from faqtual.indexing import IndexBuilder, Progress
from faqtual.ingest import parse_file, prepare
from faqtual.models import Answer, AskResult, FaqEntry, IngestReport, KbOptions
from faqtual.privacy import scrub
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import Embedder
from faqtual.retrieval.index import LARGE_KB, Index, Scores, units_for
from faqtual.safety import SafetyHit, SafetyRules
from faqtual.store.base import Store, StoredEntry
from faqtual.store.logs import Feedback, LoggedQuery, LogStore, QuestionGroup
from faqtual.text import content_hash, entry_id_for

#: How often an ingest redoes its diff when concurrent ingests keep changing the KB.
INGEST_ATTEMPTS = 5

#: Seconds in a day (log retention is set in days).
DAY = 86_400.0

DEFAULT_NO_ANSWER = (
    "Sorry, I don't have an answer to that in this FAQ. Try rephrasing your question, or ask your doctor or therapist."
)
#: Confidence of an entry whose own question or alternate is the question asked, word for word.
EXACT_MATCH_CONFIDENCE = 0.99
#: Answers below this confidence are listed for the curator even when answered ("Possible match").
GOOD_MATCH = 0.85
#: The origin of entries written through the curator API (not from any file).
CURATOR_ORIGIN = "curator"

logger = logging.getLogger(__name__)


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
        safety: rules checked before retrieval; a rule that fires wins over any answer.
    """

    def __init__(
        self,
        store: Store,
        *,
        embedder: Embedder,
        scoring: ScoringModel,
        settings: Settings,
        name: str | None = None,
        safety: SafetyRules | None = None,
    ) -> None:
        self.store = store
        self.safety = safety
        self.embedder = embedder
        self.scoring = scoring
        self.settings = settings
        self._name = name
        # An unnamed KB is known by its file name (e.g. "medquad" for medquad.sqlite).
        self._store_label = Path(str(getattr(store, "path", "kb"))).stem
        self._loaded: Loaded | None = None
        self._indexing = IndexBuilder(store, embedder=embedder, settings=settings)
        self._lock = threading.Lock()
        #: Question log lines (and feedback comments) dropped because scrubbing failed.
        self.dropped_log_lines = 0

    # -- reading -------------------------------------------------------------

    def loaded(self) -> Loaded:
        """The index of the KB's current version, built on first use or after a change.

        Raises:
            IndexNotReadyError: the KB holds no entries.
        """
        current = self._loaded
        if current is not None and current.version == self.store.version():
            return current
        # While one request builds the new version's index, the others keep
        # answering from the old one instead of queueing behind the build.
        if not self._lock.acquire(blocking=current is None):
            assert current is not None
            return current
        try:
            current = self._loaded
            snapshot = self.store.snapshot()
            if current is None or current.version != snapshot.version:
                if not snapshot.entries:
                    raise IndexNotReadyError(
                        "The KB has no entries yet. Add some with 'faqtual ingest FILE --kb PATH'."
                    )
                index = self._indexing.index_for(snapshot.entries)
                current = Loaded(snapshot.version, snapshot.options, index)
                self._loaded = current
            return current
        finally:
            self._lock.release()

    @property
    def name(self) -> str:
        """The KB's display name."""
        if self._name:
            return self._name
        return self.loaded().options.name or "kb"

    def threshold(self) -> float:
        """The abstention threshold in force: flag/env, else the KB's, else the packaged default."""
        return self._threshold_for(self.loaded())

    def _threshold_for(self, loaded: Loaded) -> float:
        if self.settings.threshold >= 0:
            return self.settings.threshold
        if loaded.options.threshold is not None:
            return loaded.options.threshold
        return self.scoring.for_size(len(loaded.index)).default_threshold

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
        vectors = self.embedder.embed([q.encoder_text for q in queries])
        k = top if top is not None else self.settings.top
        safety = self.safety
        if safety is not None and safety.needs_vectors(self.embedder.model_id):
            with self._lock:  # embed the rules' examples once, with this service's model
                safety = self.safety = safety.with_vectors(self.embedder)
        results = []
        for q, v in zip(queries, vectors, strict=True):
            hit = None
            if safety is not None:  # the spelling-repaired text catches typos such as "sudenly"
                repaired = q.repaired != q.raw.lower()  # check() lower-cases: a spelling repair is new text
                hit = safety.check(q.raw, v) or (safety.check(q.repaired) if repaired else None)
            scores = None if hit else loaded.index.score(q, v)
            results.append(self._result(loaded, q.raw, scores, k, safety=hit))
        return results

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
        # A printable string has none of those categories: the per-character scan
        # is needed only for text with line breaks, tabs or worse.
        controls = not question.isprintable() and any(
            unicodedata.category(c) in {"Cc", "Cs", "Co", "Cn"} and c not in "\t\n\r" for c in question
        )
        if controls or "\ufffd" in question:
            raise BadQueryError("The question contains binary or unreadable characters; send plain text.")
        if not any(c.isalnum() for c in question):
            raise BadQueryError(f"The question {question!r} has no words in it. Type a question in words.")

    def _result(
        self, loaded: Loaded, question: str, scores: Scores | None, k: int, *, safety: SafetyHit | None = None
    ) -> AskResult:
        options = loaded.options
        if safety is not None or scores is None:
            # A safety rule wins over any FAQ answer (issue 6); the question text is not logged.
            assert safety is not None
            logger.info("safety rule %r fired (%s via %s)", safety.rule, safety.disposition.value, safety.via)
            return AskResult(
                question=question,
                answered=False,
                answers=(),
                message=safety.message,
                kb=self._name or options.name or self._store_label,
                disclaimer=options.disclaimer,
                safety=safety,
                kb_version=loaded.version,
            )
        model = self.scoring.for_size(len(loaded.index))
        ranked = model.rank(scores.features, depth=max(k, 4))
        order, confidences = scores.entries[ranked.order], ranked.confidence
        near_positions = set(ranked.near_ties())
        exact = loaded.index.exact_match(question)
        if exact is not None:
            # The curator mapped this very question to that entry: it is right by curation.
            keep = [n for n, i in enumerate(order.tolist()) if i != exact][: len(order) - 1]
            top = max(float(confidences[0]), EXACT_MATCH_CONFIDENCE) if len(confidences) else EXACT_MATCH_CONFIDENCE
            order = np.concatenate([np.array([exact], dtype=np.int64), order[keep]])
            confidences = np.concatenate([np.array([top], dtype=np.float32), confidences[keep]])
            near_positions = set()
        entries = loaded.index.entries
        kb = self._name or options.name or self._store_label
        answers = tuple(
            _answer(entries[i], c, kb=kb) for i, c in zip(order.tolist(), confidences.tolist(), strict=True)
        )
        threshold = self._threshold_for(loaded)  # the index that answered, not a fresh read
        answered = bool(answers) and answers[0].confidence >= threshold
        # Near ties are offered with an answer, never instead of one.
        near = tuple(answers[i].entry_id for i in sorted(near_positions) if i < len(answers)) if answered else ()
        related = tuple(a.question for a in answers[1:4] if a.entry_id not in near)
        return AskResult(
            question=question,
            answered=answered,
            answers=answers[:k],
            message=None if answered else (options.no_answer_message or DEFAULT_NO_ANSWER),
            did_you_mean=near,
            related=related,
            kb=kb,
            disclaimer=options.disclaimer,
            kb_version=loaded.version,
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
        new: list[StoredEntry] = []
        for entry in prepared.entries:
            origin = by_display.get(entry.provenance[0].file, "") if entry.provenance else ""
            new.append(StoredEntry(entry=entry, origin=origin, content_hash=entry_hash(entry)))
        new_ids = {s.entry.id for s in new}
        embedded: dict[str, np.ndarray] = {}
        # The diff is read outside the write transaction (embedding takes a while), so
        # the write names the version it was read from; if another ingest committed
        # meanwhile, read the KB again and redo the diff (vectors already made are kept).
        for attempt in range(1, INGEST_ATTEMPTS + 1):
            read_version = self.store.version()  # before the entries: a write in between is caught
            existing = {s.entry.id: s for s in self.store.stored_entries()}
            removed = [i for i, s in existing.items() if i not in new_ids and (replace or s.origin in origins)]
            changed = [
                s for s in new if s.entry.id not in existing or existing[s.entry.id].content_hash != s.content_hash
            ]
            # The unit policy follows the size of the whole KB after this ingest,
            # so re-ingesting one entry of a large KB embeds what its index uses.
            total = len(set(existing) - set(removed) | new_ids)
            units = units_for([s.entry for s in changed], large=total > LARGE_KB)
            missing = self._indexing.missing_vectors(units)
            embedded.update(
                self._indexing.embed({h: t for h, t in missing.items() if h not in embedded}, progress=progress)
            )
            vectors = {h: embedded[h] for h in missing}
            try:
                version = self.store.write(
                    entries=changed,
                    remove_ids=removed,
                    vectors=vectors,
                    model_id=self.embedder.model_id,
                    flags=prepared.flags,
                    options=prepared.options if prepared.options != KbOptions() else None,
                    expected_version=read_version,
                )
                break
            except KbChangedError as exc:
                if attempt == INGEST_ATTEMPTS:
                    raise StoreError(
                        f"{exc} Another ingest kept changing the KB; run this ingest again when it ends."
                    ) from exc
                logger.info("the KB changed while this ingest ran; reading it again (%s)", exc)
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

    # -- curation and logs (web) --

    def _logs(self) -> LogStore:
        if not isinstance(self.store, LogStore):
            kind = type(self.store).__name__
            raise StoreError(f"The {kind} KB keeps no question log or feedback; use a SQLite KB.")
        return self.store

    def log_query(self, query_id: str, result: AskResult) -> bool:
        """Log an answered question for the curator, if the ``log_questions`` setting is on.

        The question is scrubbed of personal identifiers (:func:`faqtual.privacy.scrub`)
        before anything is written, and logged questions older than
        ``log_retention_days`` are deleted on the same write. Fails closed: if
        scrubbing raises, nothing is written, the drop is counted in
        :attr:`dropped_log_lines` and a warning names the reason (never the text);
        a store that cannot be written (a full disk) drops the line the same way.

        Returns:
            Whether the question was stored (privacy: off by default).
        """
        if not self.settings.log_questions:
            return False
        try:
            question = scrub(result.question)
        except Exception as exc:  # fail closed: drop the line, keep answering
            self.dropped_log_lines += 1
            logger.warning("question log line dropped: the scrubber failed (%s)", type(exc).__name__)
            return False
        best = result.answers[0] if result.answers else None
        now = time.time()
        logs = self._logs()
        record = LoggedQuery(
            query_id=query_id,
            asked_at=now,
            question=question,
            answered=result.answered,
            entry_id=best.entry_id if best else None,
            confidence=best.confidence if best else 0.0,
            kb_version=self.store.version(),
        )
        try:
            logs.log_query(record)
            if self.settings.log_retention_days > 0:
                logs.purge_logs(before=now - self.settings.log_retention_days * DAY)
        except StoreError as exc:  # a full disk must not cost the patient the answer
            self.dropped_log_lines += 1
            logger.warning("question log line dropped: %s", exc)
            return False
        return True

    def purge_logs(self, *, older_than_days: float | None) -> int:
        """Delete logged questions and feedback older than ``older_than_days`` (``None``: all).

        Returns:
            How many records were deleted.

        Raises:
            StoreError: the KB keeps no logs, or cannot be written.
        """
        before = None if older_than_days is None else time.time() - older_than_days * DAY
        return self._logs().purge_logs(before=before)

    def record_feedback(self, *, query_id: str, entry_id: str, helpful: bool, comment: str | None = None) -> None:
        """Store a patient's "Was this helpful?" on the answer ``entry_id``.

        A comment is scrubbed like a logged question; if scrubbing fails, the
        comment is dropped and the rest kept.

        Raises:
            NotFoundError: no such entry.
        """
        self.entry(entry_id)
        if comment is not None:
            try:
                comment = scrub(comment)
            except Exception as exc:  # fail closed, as in log_query
                self.dropped_log_lines += 1
                logger.warning("feedback comment dropped: the scrubber failed (%s)", type(exc).__name__)
                comment = None
        self._logs().record_feedback(
            Feedback(query_id=query_id, entry_id=entry_id, helpful=helpful, comment=comment, given_at=time.time())
        )

    def feedback(self, *, limit: int = 200) -> list[Feedback]:
        """The latest feedback, newest first."""
        return self._logs().feedback(limit=limit)

    def unanswered(self, *, limit: int = 500, similarity: float = 0.8) -> list[QuestionGroup]:
        """Logged questions not answered or answered only as a "Possible match", grouped.

        Questions whose embeddings have cosine similarity of at least
        ``similarity`` with a group's first question join that group; groups
        come most-asked first.
        """
        below = max(GOOD_MATCH, self.threshold())
        logged = self._logs().logged_queries(below=below, limit=limit)
        if not logged:
            return []
        vectors = self.embedder.embed([q.question for q in logged])
        heads: list[int] = []
        members: dict[int, list[int]] = {}
        for i in range(len(logged)):
            match = next((h for h in heads if float(vectors[h] @ vectors[i]) >= similarity), None)
            if match is None:
                heads.append(i)
                members[i] = [i]
            else:
                members[match].append(i)
        groups = []
        for head in heads:
            items = tuple(logged[i] for i in members[head])
            best = max(items, key=lambda q: q.confidence)
            groups.append(QuestionGroup(items, len(items), best.entry_id, best.confidence))
        return sorted(groups, key=lambda g: -g.count)

    def upsert_entry(self, entry: FaqEntry) -> int:
        """Create or replace one entry (an empty id gets one from the question); the index is rebuilt.

        Returns:
            The new KB version.
        """
        if not entry.id:
            entry = replace(entry, id=entry_id_for(entry.question))
        existing = {s.entry.id: s for s in self.store.stored_entries()}
        origin = existing[entry.id].origin if entry.id in existing else CURATOR_ORIGIN
        stored = StoredEntry(entry=entry, origin=origin, content_hash=entry_hash(entry))
        return self._write_entries([stored], [])

    def delete_entry(self, entry_id: str) -> int:
        """Remove the entry ``entry_id``; returns the new KB version.

        Raises:
            NotFoundError: no such entry.
        """
        self.entry(entry_id)
        return self._write_entries([], [entry_id])

    def add_alternate(self, entry_id: str, question: str, *, query_id: str | None = None) -> int:
        """Accept ``question`` (e.g. a logged one) as another way to ask ``entry_id``.

        Args:
            entry_id: the entry that answers it.
            question: the new alternate question.
            query_id: the logged question it came from; it leaves the unanswered list.

        Returns:
            The new KB version.

        Raises:
            NotFoundError: no such entry.
            BadQueryError: the question is empty or not text.
        """
        self.check_question(question)
        entry = self.entry(entry_id)
        if question.strip() not in entry.questions:
            entry = replace(entry, alternates=(*entry.alternates, question.strip()))
        version = self.upsert_entry(entry)
        if query_id:
            self._logs().forget_queries([query_id])
        return version

    def _write_entries(self, entries: list[StoredEntry], remove_ids: list[str]) -> int:
        current = self._loaded  # the unit policy follows the KB's size
        units = units_for([s.entry for s in entries], large=current is not None and len(current.index) > LARGE_KB)
        vectors = self._indexing.embed(self._indexing.missing_vectors(units), progress=None)
        version = self.store.write(
            entries=entries,
            remove_ids=remove_ids,
            vectors=vectors,
            model_id=self.embedder.model_id,
            flags=(),
            options=None,
        )
        if self.store.snapshot().entries:
            # Build the new index now, beside the live one: requests holding the
            # old one finish on it, and the next request gets the new one.
            self.loaded()
        return version


def _answer(entry: FaqEntry, confidence: float, *, kb: str) -> Answer:
    return Answer(
        entry_id=entry.id,
        question=entry.question,
        alternates=entry.alternates,
        answer=entry.answer,
        confidence=confidence,
        source=entry.source,
        url=entry.url,
        kb=kb,
    )


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
