"""PostgreSQL connection strings and schema migrations, for :mod:`faqtual.store.postgres`.

Migrations are the numbered SQL files in ``migrations/postgres``; the ones
applied are recorded in the ``faqtual_migrations`` table. They run only when
asked (``faqtual migrate --store DSN``, or the first ``create`` of an empty
database), never silently when a store opens: several replicas share one
database, and an upgrade is the operator's decision.

A DSN may carry a password, so nothing here puts one in a message: use
:func:`mask_dsn` to show where a store is and :func:`scrub` on server text.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict

from faqtual.errors import SchemaVersionError, StoreError

# Key of the transaction-level advisory lock that serialises migrations, so two
# replicas starting together on an empty database do not both create the schema.
# Any constant works; this is "faqt" in ASCII.
MIGRATION_LOCK_KEY = 0x66617174

MIGRATE_HINT = "faqtual migrate --store DSN"


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    number: int
    name: str
    sql: str


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate` did: the schema version before and after, and the files applied."""

    before: int
    after: int
    applied: tuple[str, ...]


def migrations() -> list[Migration]:
    """The packaged PostgreSQL migrations, in order."""
    folder = importlib.resources.files("faqtual.store") / "migrations" / "postgres"
    found = [
        Migration(int(item.name.split("_", 1)[0]), item.name, item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".sql")
    ]
    return sorted(found, key=lambda m: m.number)


SCHEMA_VERSION = max(m.number for m in migrations())


def mask_dsn(dsn: str) -> str:
    """Where ``dsn`` points, as a URL safe to print: the password becomes ``***``.

    Works for both URL (``postgresql://user:pw@host/db``) and ``key=value`` DSNs.
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "postgresql://(unparseable DSN)"
    user = str(params.get("user") or "")
    secret = ":***" if params.get("password") else ""
    auth = f"{user}{secret}@" if user or secret else ""
    host = str(params.get("host") or "localhost")
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{auth}{host}{port}/{params.get('dbname') or ''}"


def scrub(text: str, dsn: str) -> str:
    """``text`` with the DSN's password (if any) replaced by ``***``."""
    try:
        password = str(conninfo_to_dict(dsn).get("password") or "")
    except psycopg.ProgrammingError:
        return text.replace(dsn, "(DSN)")
    return text.replace(password, "***") if password else text


def connect(dsn: str, *, timeout: float) -> psycopg.Connection[tuple[object, ...]]:
    """A direct autocommit connection (for opening checks and migrations).

    Raises:
        StoreError: PostgreSQL cannot be reached or refuses the login.
    """
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, round(timeout)))
    except psycopg.Error as exc:
        raise StoreError(
            f"Cannot connect to PostgreSQL at {mask_dsn(dsn)}: {scrub(str(exc).strip(), dsn)}. "
            "Check that the server is running, the DSN is right and the role may log in."
        ) from exc


def schema_version(conn: psycopg.Connection[tuple[object, ...]]) -> int | None:
    """The applied schema version, or ``None`` when the database has no faqtual schema."""
    row = conn.execute("SELECT to_regclass('faqtual_migrations') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute("SELECT coalesce(max(version), 0) FROM faqtual_migrations").fetchone()
    return int(found[0]) if found is not None else 0  # type: ignore[call-overload]


def apply_migrations(conn: psycopg.Connection[tuple[object, ...]], *, where: str) -> MigrationReport:
    """Bring the schema to :data:`SCHEMA_VERSION` in one transaction.

    Raises:
        SchemaVersionError: the database was migrated by a newer faqtual.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS faqtual_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        before = schema_version(conn) or 0
        if before > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"Database {where} has faqtual schema version {before}, newer than this faqtual "
                f"({SCHEMA_VERSION}). Upgrade faqtual with 'pip install -U faqtual'."
            )
        applied = []
        for migration in migrations():
            if migration.number > before:
                # Bytes: the file is trusted packaged SQL with several statements and no parameters.
                conn.execute(migration.sql.encode("utf-8"))
                conn.execute(
                    "INSERT INTO faqtual_migrations(version, name) VALUES (%s, %s)",
                    (migration.number, migration.name),
                )
                applied.append(migration.name)
    return MigrationReport(before=before, after=max(before, SCHEMA_VERSION), applied=tuple(applied))


def migrate(dsn: str, *, timeout: float = 10.0) -> MigrationReport:
    """Apply the pending migrations to the database at ``dsn`` (what ``faqtual migrate`` runs).

    Safe to run while replicas are serving: the migration is one transaction,
    and concurrent runs wait for each other.

    Raises:
        StoreError: the database cannot be reached or a migration fails.
        SchemaVersionError: the database was migrated by a newer faqtual.
    """
    where = mask_dsn(dsn)
    with connect(dsn, timeout=timeout) as conn:
        try:
            return apply_migrations(conn, where=where)
        except psycopg.Error as exc:
            raise StoreError(
                f"Migrating {where} failed, nothing was changed: {scrub(str(exc).strip(), dsn)}. "
                "Check that the role may create tables in this database."
            ) from exc


def check_schema(conn: psycopg.Connection[tuple[object, ...]], *, where: str, create: bool) -> None:
    """Make sure the schema is current; with ``create``, initialise an empty database.

    Raises:
        StoreError: no faqtual schema and not ``create``.
        SchemaVersionError: the schema is behind (run ``faqtual migrate``) or ahead (upgrade faqtual).
    """
    current = schema_version(conn)
    if not current:
        if not create:
            raise StoreError(
                f"Database {where} has no faqtual schema. Create it with '{MIGRATE_HINT}' "
                "(or 'faqtual ingest FILE --kb DSN', which creates it in an empty database)."
            )
        apply_migrations(conn, where=where)
        return
    if current < SCHEMA_VERSION:
        raise SchemaVersionError(
            f"Database {where} has faqtual schema version {current}; this faqtual needs {SCHEMA_VERSION}. "
            f"Back it up (pg_dump), then run '{MIGRATE_HINT}'."
        )
    if current > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"Database {where} has faqtual schema version {current}, newer than this faqtual "
            f"({SCHEMA_VERSION}). Upgrade faqtual with 'pip install -U faqtual'."
        )
