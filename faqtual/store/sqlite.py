"""The embedded default store: one SQLite file per knowledge base.

WAL mode lets readers (``faqtual ask``, the server) keep answering from the
last committed version while an ingest writes; every write is one
transaction, so a crash or Ctrl-C mid-ingest leaves the previous KB whole.
The schema version lives in ``PRAGMA user_version``; migrations are the
numbered SQL files in ``migrations/sqlite`` applied in order.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path

import numpy as np

from faqtual.errors import KbChangedError, SchemaVersionError, StoreError
from faqtual.models import FaqEntry, Flag, KbOptions, Provenance
from faqtual.store.base import Snapshot, StoredEntry, Vector
from faqtual.store.logs import Feedback, LoggedQuery


def _migrations() -> list[tuple[int, str]]:
    folder = importlib.resources.files("faqtual.store") / "migrations" / "sqlite"
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".sql"):
            found.append((int(item.name.split("_", 1)[0]), item.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (``executescript`` would commit mid-transaction)."""
    out, pending = [], ""
    for line in sql.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    return [s for s in out if s.strip(" ;\n")]


SCHEMA_VERSION = max(number for number, _ in _migrations())


class SqliteStore:
    """A KB in one SQLite file.

    Use :meth:`open`; it checks the path and applies migrations.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._conn = connection
        self._lock = threading.RLock()
        #: (PRAGMA data_version, kb_version) when the KB version was last read; see version().
        self._seen: tuple[int, int] | None = None

    @classmethod
    def open(cls, path: Path, *, create: bool = False) -> SqliteStore:
        """Open (or with ``create``, create) the KB at ``path``.

        Raises:
            StoreError: the path is a directory, missing, unreadable, not a
                SQLite file, or (with ``create``) not writable.
            SchemaVersionError: the file was written by a newer faqtual.
        """
        path = Path(path)
        if path.is_dir():
            raise StoreError(f"KB path {path} is a directory; give a file path such as {path / 'kb.sqlite'}.")
        if not path.exists():
            if not create:
                raise StoreError(f"No KB at {path}. Create it with 'faqtual ingest FILE --kb {path}'.")
            if not path.parent.is_dir():
                raise StoreError(f"Cannot create KB {path}: folder {path.parent} does not exist.")
            if not os.access(path.parent, os.W_OK):
                raise StoreError(f"Cannot create KB {path}: folder {path.parent} is not writable.")
        elif create and not os.access(path, os.W_OK):
            raise StoreError(f"KB file {path} is read-only; make it writable (chmod u+w) or use another --kb.")
        elif create and not os.access(path.parent, os.W_OK):
            raise StoreError(
                f"Cannot write KB {path}: its folder {path.parent} is not writable (SQLite keeps its "
                "journal beside the KB); make the folder writable or use another --kb."
            )
        try:
            target, uri = str(path), False
            if not create and not os.access(path.parent, os.W_OK):
                # Readers of a WAL file must create its -shm file beside it, so a KB in a folder we
                # cannot write (a read-only mount, a shared install) would not open at all. We cannot
                # write it either, so read it as immutable.
                target, uri = f"{path.resolve().as_uri()}?immutable=1", True
            conn = sqlite3.connect(target, timeout=30.0, check_same_thread=False, isolation_level=None, uri=uri)
            conn.execute("PRAGMA foreign_keys = ON")
            if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            store = cls(path, conn)
            store._migrate(create=create)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"KB file {path} is not a readable faqtual KB ({exc}). If it is corrupt, rebuild it with "
                f"'faqtual ingest FILE --kb {path} --replace' after moving the damaged file away."
            ) from exc
        return store

    def _migrate(self, *, create: bool) -> None:
        current = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if current > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"KB file {self.path} has schema version {current}, newer than this faqtual "
                f"({SCHEMA_VERSION}). Upgrade faqtual with 'pip install -U faqtual'."
            )
        if current == SCHEMA_VERSION:
            return
        if current == 0 and not create:
            tables = self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables == 0:
                raise StoreError(
                    f"KB file {self.path} is empty. Create it with 'faqtual ingest FILE --kb {self.path}'."
                )
        with self._transaction():
            for number, sql in _migrations():
                if number > current:
                    for statement in _statements(sql):
                        self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('kb_version', '0')")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._write_error(exc) from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite rolls back by itself on some errors (SQLITE_FULL, SQLITE_IOERR), and a
                # second ROLLBACK would raise over the real error: https://sqlite.org/lang_transaction.html
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._write_error(exc) from exc
                raise
            finally:
                # This connection's own commits leave data_version as it is, and a version
                # read inside the transaction may predate its end: forget it.
                self._seen = None

    def _write_error(self, exc: sqlite3.OperationalError) -> StoreError:
        text = str(exc)
        if "readonly" in text or "read-only" in text:
            return StoreError(f"KB file {self.path} is read-only; make it writable or use another --kb.")
        if "full" in text:
            return StoreError(f"The disk holding {self.path} is full; free space and run the command again.")
        if "locked" in text or "busy" in text:
            return StoreError(f"KB file {self.path} is busy with another write; try again when it ends.")
        return StoreError(f"Cannot write KB file {self.path}: {text}")

    def version(self) -> int:
        """The KB version; it grows by one with every committed change.

        Asked before every question, so it reads the table only when something
        changed: SQLite's data_version moves when another connection commits
        (this one's own writes clear the cache), and costs about half the query.
        """
        with self._lock:
            changes = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            if self._seen is not None and self._seen[0] == changes:
                return self._seen[1]
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'kb_version'").fetchone()
            version = int(row[0]) if row else 0
            self._seen = (changes, version)
        return version

    def snapshot(self) -> Snapshot:
        """Read entries, options and version in one read transaction."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                version = self.version()
                options = self._options()
                entries = tuple(s.entry for s in self._stored_entries())
            finally:
                self._conn.execute("COMMIT")
        return Snapshot(version=version, options=options, entries=entries)

    def stored_entries(self) -> list[StoredEntry]:
        """Every entry with its origin and content hash, in KB order."""
        with self._lock:
            return self._stored_entries()

    def _stored_entries(self) -> list[StoredEntry]:
        rows = self._conn.execute(
            "SELECT id, question, answer, alternates, source, url, tags, provenance, origin, content_hash "
            "FROM entries ORDER BY position, id"
        ).fetchall()
        return [
            StoredEntry(
                entry=FaqEntry(
                    id=r[0],
                    question=r[1],
                    answer=r[2],
                    alternates=tuple(json.loads(r[3])),
                    source=r[4],
                    url=r[5],
                    tags=tuple(json.loads(r[6])),
                    provenance=tuple(Provenance(f, n) for f, n in json.loads(r[7])),
                ),
                origin=r[8],
                content_hash=r[9],
            )
            for r in rows
        ]

    def _options(self) -> KbOptions:
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'options'").fetchone()
        if row is None:
            return KbOptions()
        data = json.loads(row[0])
        known = {f.name for f in fields(KbOptions)}
        return KbOptions(**{k: v for k, v in data.items() if k in known})

    def vectors(self, text_hashes: Iterable[str], *, model_id: str) -> dict[str, Vector]:
        """The cached vectors of those text hashes for ``model_id``."""
        wanted = list(dict.fromkeys(text_hashes))
        found: dict[str, Vector] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT text_hash, vector FROM embeddings WHERE model_id = ? AND text_hash IN ({marks})",
                    (model_id, *chunk),
                ).fetchall()
                for text_hash, blob in rows:
                    found[text_hash] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    def write(
        self,
        *,
        entries: Sequence[StoredEntry],
        remove_ids: Iterable[str],
        vectors: Mapping[str, Vector],
        model_id: str,
        flags: Sequence[Flag],
        options: KbOptions | None,
        expected_version: int | None = None,
    ) -> int:
        """Upsert entries, delete ``remove_ids``, cache vectors: one transaction.

        ``BEGIN IMMEDIATE`` queues concurrent writers; with ``expected_version``
        a writer whose diff was read from an older version is refused.

        Returns:
            The new KB version.

        Raises:
            KbChangedError: the KB is no longer at ``expected_version``.
        """
        with self._transaction() as conn:
            if expected_version is not None:
                row = conn.execute("SELECT value FROM meta WHERE key = 'kb_version'").fetchone()
                if int(row[0]) != expected_version:
                    raise KbChangedError(
                        f"KB file {self.path} changed (version {expected_version} -> {row[0]}) during this write."
                    )
            conn.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in remove_ids])
            start = int(conn.execute("SELECT coalesce(max(position), -1) + 1 FROM entries").fetchone()[0])
            conn.executemany(
                "INSERT INTO entries(id, position, question, answer, alternates, source, url, tags, "
                "provenance, origin, content_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET question=excluded.question, answer=excluded.answer, "
                "alternates=excluded.alternates, source=excluded.source, url=excluded.url, "
                "tags=excluded.tags, provenance=excluded.provenance, origin=excluded.origin, "
                "content_hash=excluded.content_hash",
                [
                    (
                        s.entry.id,
                        start + n,
                        s.entry.question,
                        s.entry.answer,
                        json.dumps(list(s.entry.alternates)),
                        s.entry.source,
                        s.entry.url,
                        json.dumps(list(s.entry.tags)),
                        json.dumps([[p.file, p.line] for p in s.entry.provenance]),
                        s.origin,
                        s.content_hash,
                    )
                    for n, s in enumerate(entries)
                ],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO embeddings(text_hash, model_id, vector) VALUES (?,?,?)",
                [(h, model_id, np.asarray(v, dtype="<f4").tobytes()) for h, v in vectors.items()],
            )
            if flags:
                files = {f.provenance.file for f in flags}
                conn.executemany("DELETE FROM ingest_flags WHERE file = ?", [(f,) for f in files])
                conn.executemany(
                    "INSERT INTO ingest_flags(file, line, code, message) VALUES (?,?,?,?)",
                    [(f.provenance.file, f.provenance.line, f.code, f.message) for f in flags],
                )
            if options is not None:
                self._put_options(conn, options)
            return self._bump(conn)

    def set_options(self, options: KbOptions) -> int:
        """Replace the KB options; returns the new version."""
        with self._transaction() as conn:
            self._put_options(conn, options)
            return self._bump(conn)

    @staticmethod
    def _put_options(conn: sqlite3.Connection, options: KbOptions) -> None:
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('options', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (json.dumps(asdict(options)),),
        )

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> int:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'kb_version'")
        return int(conn.execute("SELECT value FROM meta WHERE key = 'kb_version'").fetchone()[0])

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            self._conn.close()

    # -- curation and logs (web) --

    def log_query(self, record: LoggedQuery) -> None:
        """Store one asked question. Does not bump the KB version."""
        with self._transaction() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO query_log({_LOG_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                (
                    record.query_id,
                    record.asked_at,
                    record.question,
                    int(record.answered),
                    record.entry_id,
                    record.confidence,
                    record.kb_version,
                ),
            )

    def logged_queries(self, *, below: float, limit: int) -> list[LoggedQuery]:
        """Logged questions not answered or answered with confidence under ``below``, newest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM query_log "
                "WHERE answered = 0 OR confidence < ? ORDER BY asked_at DESC LIMIT ?",
                (below, limit),
            ).fetchall()
        return [LoggedQuery(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6]) for r in rows]

    def logged_query(self, query_id: str) -> LoggedQuery | None:
        """The logged question ``query_id``, or ``None`` if it was not logged."""
        with self._lock:
            r = self._conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM query_log WHERE query_id = ?",
                (query_id,),
            ).fetchone()
        return None if r is None else LoggedQuery(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6])

    def forget_queries(self, query_ids: Sequence[str]) -> None:
        """Delete those logged questions (after a curator has handled them)."""
        with self._transaction() as conn:
            conn.executemany("DELETE FROM query_log WHERE query_id = ?", [(q,) for q in query_ids])

    def purge_logs(self, *, before: float | None) -> int:
        """Delete logged questions and feedback older than ``before`` (epoch seconds; ``None``: all).

        Returns:
            How many records were deleted.
        """
        cutoff = float("inf") if before is None else before
        with self._transaction() as conn:
            asked = conn.execute("DELETE FROM query_log WHERE asked_at < ?", (cutoff,)).rowcount
            given = conn.execute("DELETE FROM feedback WHERE given_at < ?", (cutoff,)).rowcount
        return int(asked) + int(given)

    def record_feedback(self, feedback: Feedback) -> None:
        """Store one "Was this helpful?" answer. Does not bump the KB version."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO feedback(query_id, entry_id, helpful, comment, given_at) VALUES (?,?,?,?,?)",
                (
                    feedback.query_id,
                    feedback.entry_id,
                    int(feedback.helpful),
                    feedback.comment,
                    feedback.given_at,
                ),
            )

    def feedback(self, *, limit: int) -> list[Feedback]:
        """The latest feedback, newest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT query_id, entry_id, helpful, comment, given_at FROM feedback ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Feedback(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]


#: The query_log columns, in LoggedQuery field order (web curation; see 0002_log_feedback.sql).
_LOG_COLUMNS = "query_id, asked_at, question, answered, entry_id, confidence, kb_version"
