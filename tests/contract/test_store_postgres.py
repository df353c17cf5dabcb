"""What only PostgreSQL has: migrations by command, schema checks, masked DSNs, NOTIFY, the CLI."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading

import psycopg
import pytest
from click.testing import CliRunner

from faqtual import cli as cli_module
from faqtual.config import Settings
from faqtual.errors import SchemaVersionError, StoreError
from faqtual.factory import is_postgres_dsn, open_postgres
from faqtual.models import FaqEntry
from faqtual.store.base import StoredEntry
from faqtual.store.pg_schema import SCHEMA_VERSION, mask_dsn, migrate, scrub
from faqtual.store.pg_watch import APPLICATION_NAME
from faqtual.store.postgres import NOTIFY_CHANNEL, PostgresStore
from tests.contract.conftest import wait_for

pytestmark = pytest.mark.postgres


def _entry(entry_id: str) -> StoredEntry:
    entry = FaqEntry(id=entry_id, question="Q?", answer="A.", alternates=(), source=None, url=None, tags=())
    return StoredEntry(entry=entry, origin="", content_hash=f"h-{entry_id}")


def _tables(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    return {r[0] for r in rows}


def test_opening_an_empty_database_names_the_migrate_command(pg_schema_dsn: str) -> None:
    with pytest.raises(StoreError, match=r"has no faqtual schema\. Create it with 'faqtual migrate --store DSN'"):
        PostgresStore.open(pg_schema_dsn)
    assert _tables(pg_schema_dsn) == set()  # nothing created behind the user's back


def test_create_initialises_an_empty_database(pg_schema_dsn: str) -> None:
    store = PostgresStore.open(pg_schema_dsn, create=True)
    store.close()
    assert "faqtual_entries" in _tables(pg_schema_dsn)
    assert migrate(pg_schema_dsn).applied == ()


def test_migrate_applies_each_file_once_and_records_it(pg_schema_dsn: str) -> None:
    report = migrate(pg_schema_dsn)
    assert (report.before, report.after) == (0, SCHEMA_VERSION)
    assert report.applied == ("0001_init.sql", "0002_log_feedback.sql")
    again = migrate(pg_schema_dsn)
    assert (again.before, again.after, again.applied) == (SCHEMA_VERSION, SCHEMA_VERSION, ())
    with psycopg.connect(pg_schema_dsn) as conn:
        rows = conn.execute("SELECT version, name FROM faqtual_migrations ORDER BY version").fetchall()
    assert rows == [(1, "0001_init.sql"), (2, "0002_log_feedback.sql")]


def _roll_back_to_schema_1(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE faqtual_query_log, faqtual_feedback")
        conn.execute("DELETE FROM faqtual_migrations WHERE version > 1")


@pytest.mark.parametrize("create", [False, True])
def test_a_schema_behind_is_never_migrated_on_open(pg_schema_dsn: str, *, create: bool) -> None:
    store = PostgresStore.open(pg_schema_dsn, create=True)
    store.write(entries=[_entry("a")], remove_ids=(), vectors={}, model_id="m", flags=(), options=None)
    store.close()
    _roll_back_to_schema_1(pg_schema_dsn)
    with pytest.raises(SchemaVersionError, match=r"schema version 1; this faqtual needs 2.*'faqtual migrate --store"):
        PostgresStore.open(pg_schema_dsn, create=create)
    assert "faqtual_query_log" not in _tables(pg_schema_dsn)
    assert migrate(pg_schema_dsn).applied == ("0002_log_feedback.sql",)
    store = PostgresStore.open(pg_schema_dsn)
    assert [e.id for e in store.snapshot().entries] == ["a"]  # the data survived the upgrade
    store.close()


def test_a_schema_ahead_asks_to_upgrade_faqtual(pg_schema_dsn: str) -> None:
    migrate(pg_schema_dsn)
    with psycopg.connect(pg_schema_dsn) as conn:
        conn.execute("INSERT INTO faqtual_migrations(version, name) VALUES (99, '0099_future.sql')")
    for attempt in (lambda: PostgresStore.open(pg_schema_dsn, create=True), lambda: migrate(pg_schema_dsn)):
        with pytest.raises(SchemaVersionError, match=r"version 99, newer than this faqtual.*pip install -U faqtual"):
            attempt()


def test_a_missing_kb_is_named_and_not_created(pg_schema_dsn: str) -> None:
    migrate(pg_schema_dsn)
    with pytest.raises(StoreError, match=r"No KB named 'clinic' in postgresql://.*FAQTUAL_KB_NAME"):
        PostgresStore.open(pg_schema_dsn, kb="clinic")
    with pytest.raises(StoreError, match=r"KB name is empty"):
        PostgresStore.open(pg_schema_dsn, kb=" ", create=True)


def test_errors_and_locations_never_show_the_password(pg_schema_dsn: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(pg_schema_dsn)
    wrong = psycopg.conninfo.make_conninfo(pg_schema_dsn, password="sekrit-Pw-123")
    with pytest.raises(StoreError) as info:
        PostgresStore.open(wrong)
    assert "sekrit-Pw-123" not in str(info.value)
    assert "Cannot connect to PostgreSQL at postgresql://" in str(info.value)
    if params.get("password"):
        store = PostgresStore.open(pg_schema_dsn, kb="masking", create=True)
        assert str(params["password"]) not in store.path
        store.close()


def test_mask_dsn_and_scrub() -> None:
    assert mask_dsn("postgresql://ann:pw@db.example:5433/kb") == "postgresql://ann:***@db.example:5433/kb"
    assert mask_dsn("host=db user=ann password=pw dbname=kb") == "postgresql://ann:***@db/kb"
    assert mask_dsn("postgresql:///kb") == "postgresql://localhost/kb"
    assert mask_dsn("not a dsn ===") == "postgresql://(unparseable DSN)"
    assert scrub("login pw-x failed", "postgresql://ann:pw-x@h/kb") == "login *** failed"
    assert is_postgres_dsn("postgres://h/db") and is_postgres_dsn("postgresql://h/db")
    assert not is_postgres_dsn("kb.sqlite")


def test_a_write_notifies_listeners_on_commit_only(pg_schema_dsn: str) -> None:
    store = PostgresStore.open(pg_schema_dsn, kb="notified", create=True)
    with psycopg.connect(pg_schema_dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        with pytest.raises(RuntimeError):
            with store._transaction() as conn:
                store._bump(conn)
                raise RuntimeError("rolled back")
        store.write(entries=[_entry("a")], remove_ids=(), vectors={}, model_id="m", flags=(), options=None)
        got = [n.payload for n in listener.notifies(timeout=5.0, stop_after=1)]
    store.close()
    assert got == ["notified"]


def test_a_closed_store_says_so(pg_schema_dsn: str) -> None:
    store = PostgresStore.open(pg_schema_dsn, create=True)
    store.close()
    with pytest.raises(StoreError, match="is closed; open it again"):
        store.version()


def test_cli_migrate_reads_the_dsn_from_the_environment(pg_schema_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAQTUAL_STORE", pg_schema_dsn)
    first = CliRunner().invoke(cli_module.cli, ["migrate", "--json"], catch_exceptions=False)
    assert json.loads(first.output) == {
        "before": 0,
        "after": 2,
        "applied": ["0001_init.sql", "0002_log_feedback.sql"],
    }
    second = CliRunner().invoke(cli_module.cli, ["migrate", "--store", pg_schema_dsn], catch_exceptions=False)
    assert second.output == "Schema already at version 2; nothing to do.\n"


def test_cli_migrate_needs_a_postgres_dsn(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["faqtual", "migrate", "--store", "kb.sqlite"])
    with pytest.raises(SystemExit) as info:
        cli_module.main()
    assert info.value.code == 1
    assert "takes a PostgreSQL DSN" in capsys.readouterr().err


def test_open_service_takes_the_dsn_from_settings(pg_schema_dsn: str) -> None:
    from faqtual.factory import open_service
    from faqtual.retrieval.embed import HashEmbedder

    settings = Settings(store=pg_schema_dsn, kb_name="clinic", kb="ignored.sqlite")
    service = open_service(settings, create=True, embedder=HashEmbedder())
    assert isinstance(service.store, PostgresStore)
    assert service.store.kb == "clinic"
    service.store.close()
    reopened = open_postgres(pg_schema_dsn, kb_name="clinic")
    assert reopened.version() == 0
    reopened.close()


def test_a_missing_extra_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    # Process boundary: pretend psycopg is not installed.
    for name in [m for m in sys.modules if m == "psycopg" or m.startswith(("psycopg.", "faqtual.store.p"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(StoreError, match=r"needs the postgres extra \(psycopg is not installed\).*faqtual\[postgres\]"):
        open_postgres("postgresql://h/db", kb_name="default")


def _listening(store: PostgresStore) -> bool:
    return store._watcher is not None and store._watcher.listening()


def test_a_listening_replica_sees_a_change_made_elsewhere_within_two_seconds(pg_schema_dsn: str) -> None:
    writer = PostgresStore.open(pg_schema_dsn, create=True)
    # A long poll interval, so only NOTIFY can explain a prompt reload.
    replica = PostgresStore.open(pg_schema_dsn, listen=True, poll_interval=60.0)
    try:
        wait_for(lambda: _listening(replica), timeout=5)
        assert replica.version() == 0
        writer.write(entries=[_entry("a")], remove_ids=(), vectors={}, model_id="m", flags=(), options=None)
        assert wait_for(lambda: replica.version() == 1, timeout=2.0) < 2.0
        assert [e.id for e in replica.snapshot().entries] == ["a"]
        age = replica.version_age()
        assert age is not None and age < 2.0
        assert replica.write(entries=[], remove_ids=["a"], vectors={}, model_id="m", flags=(), options=None) == 2
        assert replica.version() == 2  # its own write is seen at once
    finally:
        replica.close()
        writer.close()
    assert writer.version_age() is None


def test_the_watcher_reconnects_when_its_connection_is_killed(pg_schema_dsn: str) -> None:
    writer = PostgresStore.open(pg_schema_dsn, create=True)
    replica = PostgresStore.open(pg_schema_dsn, listen=True, poll_interval=60.0)
    try:
        wait_for(lambda: _listening(replica), timeout=5)
        with psycopg.connect(pg_schema_dsn, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                (APPLICATION_NAME,),
            ).fetchone()
        assert killed is not None and killed[0] >= 1
        wait_for(lambda: not _listening(replica), timeout=5)
        wait_for(lambda: _listening(replica), timeout=5)
        writer.write(entries=[_entry("a")], remove_ids=(), vectors={}, model_id="m", flags=(), options=None)
        wait_for(lambda: replica.version() == 1, timeout=2.0)
    finally:
        replica.close()
        writer.close()


class _Proxy:
    """A TCP proxy to PostgreSQL that a test can cut, as a network outage would."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.is_cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.is_cut.is_set():
                client.close()
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # the other direction was cut: this pump's job is over
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def cut(self) -> None:
        self.is_cut.set()
        # shutdown() wakes a thread blocked in accept(); close() alone would leave it accepting.
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_a_replica_that_loses_the_database_keeps_its_last_version(pg_schema_dsn: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(pg_schema_dsn)
    proxy = _Proxy(str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432))
    via_proxy = psycopg.conninfo.make_conninfo(pg_schema_dsn, host="127.0.0.1", port=str(proxy.port))
    writer = PostgresStore.open(pg_schema_dsn, create=True)
    writer.write(entries=[_entry("a")], remove_ids=(), vectors={}, model_id="m", flags=(), options=None)
    replica = PostgresStore.open(via_proxy, listen=True, poll_interval=0.2, timeout=1.0)
    try:
        wait_for(lambda: _listening(replica), timeout=5)
        assert replica.version() == 1
        proxy.cut()
        wait_for(lambda: not _listening(replica), timeout=5)
        assert replica.version() == 1  # the last version seen, not an error
        age = replica.version_age()
        assert age is not None and age >= 0
        with pytest.raises(StoreError, match=r"postgresql://.*127\.0\.0\.1"):
            replica.snapshot()  # reads that need the database say so
    finally:
        proxy.cut()
        replica.close()
        writer.close()
