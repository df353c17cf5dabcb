"""One parametrized ``store`` fixture over SQLite and PostgreSQL.

PostgreSQL runs when ``FAQTUAL_TEST_PG_DSN`` names a database the tests may
write to; each test gets its own empty PostgreSQL schema (via ``search_path``),
dropped afterwards. Without the variable the PostgreSQL cases skip and say
why, except under CI (``CI`` set), where a missing database is a failure:
CI must never go green with the PostgreSQL half of the suite skipped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from faqtual.store.base import Store
from faqtual.store.sqlite import SqliteStore

PG_ENV = "FAQTUAL_TEST_PG_DSN"

OpenStore = Callable[[str], Store]


@pytest.fixture(scope="session", autouse=True)
def _pg_dsn_from_env() -> str:
    # Session-scoped and autouse, so it reads the variable before the function-scoped
    # clean-env fixture of tests/conftest.py removes every FAQTUAL_* variable.
    return os.environ.get(PG_ENV, "")


@pytest.fixture(scope="session")
def pg_dsn(_pg_dsn_from_env: str) -> str:
    """The test database's DSN; skips without one (fails under CI)."""
    dsn = _pg_dsn_from_env
    if not dsn:
        reason = (
            f"{PG_ENV} is not set; set it to a PostgreSQL DSN the tests may write to "
            "(e.g. postgresql://faqtual:secret@127.0.0.1:5432/faqtual_test) to run the PostgreSQL store tests"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}. .ci/run must start PostgreSQL and export {PG_ENV}.")
        pytest.skip(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(f"{PG_ENV} is set but psycopg is missing; pip install 'faqtual[postgres]'")
    return dsn


def with_search_path(dsn: str, schema: str) -> str:
    """``dsn`` with its tables in ``schema`` only; URL DSNs stay URLs (so ``open_service`` sees one)."""
    if dsn.startswith(("postgresql://", "postgres://")):
        return f"{dsn}{'&' if '?' in dsn else '?'}options={quote(f'-c search_path={schema}')}"
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, options=f"-c search_path={schema}")


@pytest.fixture
def pg_schema_dsn(pg_dsn: str) -> Iterator[str]:
    """A DSN whose ``search_path`` is a fresh, empty schema: an empty database as far as faqtual sees."""
    import psycopg
    from psycopg import sql

    name = f"faqtual_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
    try:
        yield with_search_path(pg_dsn, name)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OpenStore]:
    """Open (creating) the KB of a given name on the test's backend; one database, many KB names.

    On SQLite "one database" is one folder with a file per KB.
    """
    kind = request.node.callspec.params["store"]
    opened: list[Store] = []
    if kind == "sqlite":

        def opener(kb: str) -> Store:
            store = SqliteStore.open(tmp_path / f"{kb}.sqlite", create=True)
            opened.append(store)
            return store

    else:
        from faqtual.store.postgres import PostgresStore

        dsn = request.getfixturevalue("pg_schema_dsn")

        def opener(kb: str) -> Store:
            store = PostgresStore.open(dsn, kb=kb, create=True)
            opened.append(store)
            return store

    yield opener
    for store in opened:
        store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(open_store: OpenStore) -> Store:
    """A new, empty KB named "default" on each backend."""
    return open_store("default")


def wait_for(condition: Callable[[], bool], *, timeout: float) -> float:
    """Poll ``condition`` until it holds; returns the seconds it took (fails after ``timeout``)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - start
