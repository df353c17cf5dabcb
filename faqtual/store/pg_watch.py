"""Keep a replica's idea of the KB version current: LISTEN/NOTIFY, with polling as the fallback.

Every committed write to a PostgreSQL KB sends ``NOTIFY faqtual_kb, '<kb>'``
(see :mod:`faqtual.store.postgres`). A :class:`VersionWatcher` holds one
dedicated connection that listens on that channel and re-reads the version
when told, and at least every ``poll_interval`` seconds anyway, so a lost
notification (a dropped connection, a restarted server) costs at most one
interval. When the connection fails it reconnects with a capped back-off.

Replicas then answer ``version()`` from memory instead of asking the database
on every question, and keep their last version (and index) while the
database is away; :meth:`VersionWatcher.seen` says how old that knowledge is.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from faqtual.store.pg_schema import mask_dsn, scrub

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "faqtual_kb"

# Longest the thread waits before checking whether stop() was called (seconds).
_WAKE_EVERY = 0.25

#: How the watcher's connection shows in ``pg_stat_activity``.
APPLICATION_NAME = "faqtual-watch"


@dataclass(frozen=True)
class Seen:
    """A KB version and when (``time.monotonic()``) the database last confirmed it."""

    version: int
    at: float

    def age(self) -> float:
        """Seconds since the database confirmed this version."""
        return time.monotonic() - self.at


class VersionWatcher:
    """A daemon thread that tracks one KB's version. Start with :meth:`start`, end with :meth:`stop`.

    Args:
        dsn: the database (kept private; only its masked form is logged).
        kb: the KB name to watch.
        poll_interval: seconds between re-reads when no notification comes.
    """

    def __init__(self, dsn: str, kb: str, *, poll_interval: float = 1.0) -> None:
        self._dsn = dsn
        self._kb = kb
        self._poll = poll_interval
        self._seen: Seen | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"faqtual-watch-{kb}", daemon=True)

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (within about one poll interval). Idempotent."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=_WAKE_EVERY + 10.0)

    def seen(self) -> Seen | None:
        """The last version the database confirmed, or ``None`` before the first read."""
        with self._lock:
            return self._seen

    def listening(self) -> bool:
        """Whether the watcher's connection is up (so notifications arrive)."""
        return self._connected.is_set()

    def note(self, version: int) -> None:
        """Record a version this process just committed (it never goes backwards)."""
        with self._lock:
            if self._seen is None or version >= self._seen.version:
                self._seen = Seen(version, time.monotonic())

    def _read(self, conn: psycopg.Connection[tuple[object, ...]]) -> None:
        row = conn.execute("SELECT version FROM faqtual_kbs WHERE kb = %s", (self._kb,)).fetchone()
        version = int(row[0]) if row is not None else 0  # type: ignore[call-overload]
        with self._lock:
            self._seen = Seen(max(version, self._seen.version if self._seen else 0), time.monotonic())

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._dsn, autocommit=True, connect_timeout=10, application_name=APPLICATION_NAME
                ) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
                    self._read(conn)
                    self._connected.set()
                    backoff = 0.5
                    due = time.monotonic() + self._poll
                    while not self._stop.is_set():
                        # Short waits, so stop() is prompt; re-read on a notification or when due.
                        told = any(True for _ in conn.notifies(timeout=_WAKE_EVERY, stop_after=1))
                        if told or time.monotonic() >= due:
                            self._read(conn)
                            due = time.monotonic() + self._poll
            except psycopg.Error as exc:
                self._connected.clear()
                logger.warning(
                    "faqtual: lost PostgreSQL at %s (%s); answering from KB version %s, retrying in %.1f s",
                    mask_dsn(self._dsn),
                    scrub(str(exc).strip(), self._dsn),
                    self._seen.version if self._seen else "none",
                    backoff,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self._connected.clear()
