"""The shared store: a KB in PostgreSQL, for several replicas behind a load balancer.

Same contract as :class:`~faqtual.store.sqlite.SqliteStore`: every write is
one transaction that bumps the KB version, and :meth:`PostgresStore.snapshot`
reads entries, options and version in one ``REPEATABLE READ`` transaction, so
an index is never built from half of a curator's change. Several KBs may
share one database: every row carries its KB's name (``kb``).

Each committed write also sends ``NOTIFY faqtual_kb, '<kb>'``. A store opened
with ``listen`` tracks the version with a :class:`~faqtual.store.pg_watch.VersionWatcher`
(LISTEN, polling as the fallback), so a replica reloads within milliseconds of
a change made anywhere, asks the database nothing per question, and keeps
answering from its last version while the database is away. Without
``listen``, :meth:`PostgresStore.version` is one indexed read per call.

Needs the ``postgres`` extra: ``pip install 'faqtual[postgres]'``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from faqtual.errors import KbChangedError, StoreError
from faqtual.models import FaqEntry, Flag, KbOptions, Provenance
from faqtual.store.base import Snapshot, StoredEntry, Vector
from faqtual.store.logs import Feedback, LoggedQuery
from faqtual.store.pg_schema import check_schema, connect, mask_dsn, migrate, scrub
from faqtual.store.pg_watch import NOTIFY_CHANNEL, VersionWatcher

__all__ = ["NOTIFY_CHANNEL", "PostgresStore", "migrate"]

logger = logging.getLogger(__name__)

Connection = psycopg.Connection[tuple[Any, ...]]

_ENTRY_COLUMNS = "id, question, answer, alternates, source, url, tags, provenance, origin, content_hash"
_LOG_COLUMNS = "query_id, asked_at, question, answered, entry_id, confidence, kb_version"


class PostgresStore:
    """One KB (``kb``) in a PostgreSQL database, over a connection pool.

    Use :meth:`open`; it checks the schema version and that the KB exists.
    ``path`` is a display location with the password masked, never the DSN.
    """

    def __init__(
        self,
        dsn: str,
        pool: ConnectionPool[Connection],
        *,
        kb: str,
        timeout: float,
        watcher: VersionWatcher | None = None,
    ) -> None:
        self._dsn = dsn
        self._watcher = watcher
        self._pool = pool
        self.kb = kb
        self.path = f"{mask_dsn(dsn)}#{kb}"
        self._timeout = timeout
        self._closed = False
        self._close_lock = threading.Lock()

    @classmethod
    def open(
        cls,
        dsn: str,
        *,
        kb: str = "default",
        create: bool = False,
        pool_size: int = 4,
        timeout: float = 10.0,
        listen: bool = False,
        poll_interval: float = 1.0,
    ) -> PostgresStore:
        """Open (or with ``create``, create) the KB named ``kb`` in the database at ``dsn``.

        With ``create``, a database with no faqtual schema is initialised; a
        schema that is behind is never migrated here (run ``faqtual migrate``).

        Args:
            dsn: a libpq connection string or ``postgresql://`` URL.
            kb: the KB's name; several KBs may share one database.
            create: create the KB (and, in an empty database, the schema).
            pool_size: most connections this store holds open.
            timeout: seconds to wait for a connection before failing.
            listen: track the version in the background (LISTEN/NOTIFY plus
                polling) instead of reading it on every :meth:`version` call;
                for long-running processes such as ``faqtual serve``.
            poll_interval: with ``listen``, the longest a missed notification
                can delay a reload, in seconds.

        Raises:
            StoreError: the database is unreachable, has no faqtual schema, or
                holds no KB ``kb`` (without ``create``).
            SchemaVersionError: the schema is behind or ahead of this faqtual.
        """
        if not kb.strip():
            raise StoreError("The KB name is empty; set kb_name (FAQTUAL_KB_NAME) to a name such as 'default'.")
        where = mask_dsn(dsn)
        with connect(dsn, timeout=timeout) as conn:
            try:
                check_schema(conn, where=where, create=create)
                if create:
                    conn.execute("INSERT INTO faqtual_kbs(kb) VALUES (%s) ON CONFLICT (kb) DO NOTHING", (kb,))
                elif conn.execute("SELECT 1 FROM faqtual_kbs WHERE kb = %s", (kb,)).fetchone() is None:
                    raise StoreError(
                        f"No KB named '{kb}' in {where}. Create it with 'faqtual ingest FILE --kb DSN' "
                        "(with FAQTUAL_KB_NAME set to that name), or set FAQTUAL_KB_NAME to an existing KB."
                    )
            except psycopg.Error as exc:
                raise StoreError(f"Cannot open KB '{kb}' in {where}: {scrub(str(exc).strip(), dsn)}") from exc
        pool: ConnectionPool[Connection] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={"autocommit": True, "application_name": "faqtual"},
            # A replica must survive a PostgreSQL restart: check each connection before lending it.
            check=ConnectionPool.check_connection,
            timeout=timeout,
            name=f"faqtual-{kb}",
            open=True,
        )
        watcher = VersionWatcher(dsn, kb, poll_interval=poll_interval) if listen else None
        if watcher is not None:
            watcher.start()
        return cls(dsn, pool, kb=kb, timeout=timeout, watcher=watcher)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        if self._closed:
            raise StoreError(f"The store {self.path} is closed; open it again.")
        try:
            with self._pool.connection(timeout=self._timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            raise StoreError(
                f"No connection to {self.path} within {self._timeout:g} s. "
                "Check that PostgreSQL is running and reachable."
            ) from exc
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"Lost the connection to {self.path}: {scrub(str(exc).strip(), self._dsn)}. "
                "Check that PostgreSQL is running; the next request reconnects."
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL error on {self.path}: {scrub(str(exc).strip(), self._dsn)}") from exc

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        with self._connection() as conn, conn.transaction():
            yield conn

    def version(self) -> int:
        """The KB version; it grows by one with every committed change.

        With ``listen``, the version the watcher last saw while it is connected
        (a change elsewhere arrives within milliseconds). While the database is
        unreachable it is the last version seen, so a replica keeps answering
        from its last index; :meth:`version_age` says how stale that is.

        Raises:
            StoreError: the database is unreachable and no version was seen yet.
        """
        watcher = self._watcher
        if watcher is None:
            return self._read_version()
        seen = watcher.seen()
        if seen is not None:
            # Listening: current within milliseconds. Not listening: the database is away and the
            # watcher is reconnecting; asking the pool would block every question for `timeout`
            # seconds, so answer from the last version seen (issue 5; version_age() shows its age).
            return seen.version
        try:
            return self._read_version()
        except StoreError:
            seen = watcher.seen()  # the watcher may have read it meanwhile
            if seen is None:
                raise
            return seen.version

    def version_age(self) -> float | None:
        """Seconds since the database last confirmed :meth:`version` (``None`` without ``listen``)."""
        seen = self._watcher.seen() if self._watcher is not None else None
        return seen.age() if seen is not None else None

    def _read_version(self) -> int:
        with self._connection() as conn:
            row = conn.execute("SELECT version FROM faqtual_kbs WHERE kb = %s", (self.kb,)).fetchone()
        return int(row[0]) if row else 0

    def snapshot(self) -> Snapshot:
        """Read entries, options and version in one ``REPEATABLE READ`` transaction."""
        with self._transaction() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            row = conn.execute("SELECT version, options FROM faqtual_kbs WHERE kb = %s", (self.kb,)).fetchone()
            entries = tuple(s.entry for s in self._stored_entries(conn))
        version, options = (int(row[0]), _options(row[1])) if row else (0, KbOptions())
        self._saw(version)
        return Snapshot(version=version, options=options, entries=entries)

    def stored_entries(self) -> list[StoredEntry]:
        """Every entry with its origin and content hash, in KB order."""
        with self._connection() as conn:
            return self._stored_entries(conn)

    def _stored_entries(self, conn: Connection) -> list[StoredEntry]:
        # COLLATE "C": order ids bytewise, as SQLite does, whatever the database's locale.
        rows = conn.execute(
            f'SELECT {_ENTRY_COLUMNS} FROM faqtual_entries WHERE kb = %s ORDER BY position, id COLLATE "C"',
            (self.kb,),
        ).fetchall()
        return [
            StoredEntry(
                entry=FaqEntry(
                    id=r[0],
                    question=r[1],
                    answer=r[2],
                    alternates=tuple(r[3]),
                    source=r[4],
                    url=r[5],
                    tags=tuple(r[6]),
                    provenance=tuple(Provenance(f, n) for f, n in r[7]),
                ),
                origin=r[8],
                content_hash=r[9],
            )
            for r in rows
        ]

    def vectors(self, text_hashes: Iterable[str], *, model_id: str) -> dict[str, Vector]:
        """The cached vectors of those text hashes for ``model_id`` (missing ones left out)."""
        wanted = list(dict.fromkeys(text_hashes))
        if not wanted:
            return {}
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT text_hash, vector FROM faqtual_embeddings "
                "WHERE kb = %s AND model_id = %s AND text_hash = ANY(%s)",
                (self.kb, model_id, wanted),
            ).fetchall()
        return {h: np.frombuffer(blob, dtype="<f4").astype(np.float32) for h, blob in rows}

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

        Returns:
            The new KB version.

        Raises:
            KbChangedError: the KB is no longer at ``expected_version`` (nothing is written).
            StoreError: the database cannot be written (nothing is written).
        """
        with self._transaction() as conn:
            # Lock the KB's row first: concurrent writers of one KB queue here, so
            # positions and versions are handed out one writer at a time.
            locked = conn.execute("SELECT version FROM faqtual_kbs WHERE kb = %s FOR UPDATE", (self.kb,)).fetchone()
            if expected_version is not None and locked is not None and int(locked[0]) != expected_version:
                raise KbChangedError(
                    f"KB '{self.kb}' changed (version {expected_version} -> {locked[0]}) during this write."
                )
            with conn.cursor() as cur:
                cur.executemany(
                    "DELETE FROM faqtual_entries WHERE kb = %s AND id = %s",
                    [(self.kb, i) for i in remove_ids],
                )
                row = cur.execute(
                    "SELECT coalesce(max(position), -1) + 1 FROM faqtual_entries WHERE kb = %s", (self.kb,)
                ).fetchone()
                start = int(row[0]) if row else 0
                cur.executemany(
                    f"INSERT INTO faqtual_entries(kb, position, {_ENTRY_COLUMNS}) "
                    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
                    "ON CONFLICT (kb, id) DO UPDATE SET question=excluded.question, answer=excluded.answer, "
                    "alternates=excluded.alternates, source=excluded.source, url=excluded.url, "
                    "tags=excluded.tags, provenance=excluded.provenance, origin=excluded.origin, "
                    "content_hash=excluded.content_hash",
                    [
                        (
                            self.kb,
                            start + n,
                            s.entry.id,
                            s.entry.question,
                            s.entry.answer,
                            Jsonb(list(s.entry.alternates)),
                            s.entry.source,
                            s.entry.url,
                            Jsonb(list(s.entry.tags)),
                            Jsonb([[p.file, p.line] for p in s.entry.provenance]),
                            s.origin,
                            s.content_hash,
                        )
                        for n, s in enumerate(entries)
                    ],
                )
                cur.executemany(
                    "INSERT INTO faqtual_embeddings(kb, text_hash, model_id, vector) VALUES (%s,%s,%s,%s) "
                    "ON CONFLICT DO NOTHING",
                    [(self.kb, h, model_id, np.asarray(v, dtype="<f4").tobytes()) for h, v in vectors.items()],
                )
                if flags:
                    files = sorted({f.provenance.file for f in flags})
                    cur.execute("DELETE FROM faqtual_ingest_flags WHERE kb = %s AND file = ANY(%s)", (self.kb, files))
                    cur.executemany(
                        "INSERT INTO faqtual_ingest_flags(kb, file, line, code, message) VALUES (%s,%s,%s,%s,%s)",
                        [(self.kb, f.provenance.file, f.provenance.line, f.code, f.message) for f in flags],
                    )
            if options is not None:
                self._put_options(conn, options)
            version = self._bump(conn)
        return self._saw(version)

    def set_options(self, options: KbOptions) -> int:
        """Replace the KB options (threshold, messages); returns the new version."""
        with self._transaction() as conn:
            self._put_options(conn, options)
            version = self._bump(conn)
        return self._saw(version)

    def _saw(self, version: int) -> int:
        if self._watcher is not None:
            self._watcher.note(version)
        return version

    def _put_options(self, conn: Connection, options: KbOptions) -> None:
        conn.execute("UPDATE faqtual_kbs SET options = %s WHERE kb = %s", (Jsonb(asdict(options)), self.kb))

    def _bump(self, conn: Connection) -> int:
        row = conn.execute(
            "UPDATE faqtual_kbs SET version = version + 1 WHERE kb = %s RETURNING version", (self.kb,)
        ).fetchone()
        if row is None:
            raise StoreError(f"KB '{self.kb}' was deleted from {mask_dsn(self._dsn)}; create it again with ingest.")
        # Delivered at commit, and only if the transaction commits.
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, self.kb))
        return int(row[0])

    def close(self) -> None:
        """Close the pool's connections. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._watcher is not None:
            self._watcher.stop()
        self._pool.close()

    # -- curation and logs (web); these rows are shared by every replica --

    def log_query(self, record: LoggedQuery) -> None:
        """Store one asked question. Does not bump the KB version."""
        with self._transaction() as conn:
            conn.execute(
                f"INSERT INTO faqtual_query_log(kb, {_LOG_COLUMNS}) VALUES (%s,%s,%s,%s,%s,%s,%s,%s) "
                "ON CONFLICT (kb, query_id) DO UPDATE SET asked_at=excluded.asked_at, "
                "question=excluded.question, answered=excluded.answered, entry_id=excluded.entry_id, "
                "confidence=excluded.confidence, kb_version=excluded.kb_version",
                (
                    self.kb,
                    record.query_id,
                    record.asked_at,
                    record.question,
                    record.answered,
                    record.entry_id,
                    record.confidence,
                    record.kb_version,
                ),
            )

    def logged_queries(self, *, below: float, limit: int) -> list[LoggedQuery]:
        """Logged questions not answered or answered with confidence under ``below``, newest first."""
        with self._connection() as conn:
            rows = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM faqtual_query_log "
                "WHERE kb = %s AND (NOT answered OR confidence < %s) ORDER BY asked_at DESC LIMIT %s",
                (self.kb, below, limit),
            ).fetchall()
        return [LoggedQuery(r[0], r[1], r[2], bool(r[3]), r[4], r[5], int(r[6])) for r in rows]

    def logged_query(self, query_id: str) -> LoggedQuery | None:
        """The logged question ``query_id``, or ``None`` if it was not logged."""
        with self._connection() as conn:
            r = conn.execute(
                f"SELECT {_LOG_COLUMNS} FROM faqtual_query_log WHERE kb = %s AND query_id = %s",
                (self.kb, query_id),
            ).fetchone()
        return None if r is None else LoggedQuery(r[0], r[1], r[2], bool(r[3]), r[4], r[5], int(r[6]))

    def forget_queries(self, query_ids: Sequence[str]) -> None:
        """Delete those logged questions (after a curator has handled them)."""
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM faqtual_query_log WHERE kb = %s AND query_id = ANY(%s)",
                (self.kb, list(query_ids)),
            )

    def purge_logs(self, *, before: float | None) -> int:
        """Delete logged questions and feedback older than ``before`` (epoch seconds; ``None``: all).

        Returns:
            How many records were deleted.
        """
        cutoff = float("inf") if before is None else before
        with self._transaction() as conn:
            asked = conn.execute(
                "DELETE FROM faqtual_query_log WHERE kb = %s AND asked_at < %s", (self.kb, cutoff)
            ).rowcount
            given = conn.execute(
                "DELETE FROM faqtual_feedback WHERE kb = %s AND given_at < %s", (self.kb, cutoff)
            ).rowcount
        return int(asked) + int(given)

    def record_feedback(self, feedback: Feedback) -> None:
        """Store one "Was this helpful?" answer. Does not bump the KB version."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO faqtual_feedback(kb, query_id, entry_id, helpful, comment, given_at) "
                "VALUES (%s,%s,%s,%s,%s,%s)",
                (
                    self.kb,
                    feedback.query_id,
                    feedback.entry_id,
                    feedback.helpful,
                    feedback.comment,
                    feedback.given_at,
                ),
            )

    def feedback(self, *, limit: int) -> list[Feedback]:
        """The latest feedback, newest first."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT query_id, entry_id, helpful, comment, given_at FROM faqtual_feedback WHERE kb = %s "
                "ORDER BY id DESC LIMIT %s",
                (self.kb, limit),
            ).fetchall()
        return [Feedback(r[0], r[1], bool(r[2]), r[3], r[4]) for r in rows]


def _options(data: object) -> KbOptions:
    if data is None:
        return KbOptions()
    if isinstance(data, str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise StoreError(f"The KB options in the database are not a JSON object: {data!r}")
    known = {f.name for f in fields(KbOptions)}
    return KbOptions(**{k: v for k, v in data.items() if k in known})
