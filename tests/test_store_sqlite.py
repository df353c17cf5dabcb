"""SqliteStore on real SQLite files: opening, schema, versions, atomic writes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faqtual.errors import SchemaVersionError, StoreError
from faqtual.models import FaqEntry, Flag, KbOptions, Provenance
from faqtual.store.base import StoredEntry
from faqtual.store.sqlite import SCHEMA_VERSION, SqliteStore

MODEL = "test-model"


def _stored(entry_id: str, question: str = "What is it?", answer: str = "It is a thing.") -> StoredEntry:
    entry = FaqEntry(
        id=entry_id,
        question=question,
        answer=answer,
        alternates=("What's it?",),
        source="a note",
        url="https://example.org/faq",
        tags=("t1", "t2"),
        provenance=(Provenance("faq.md", 3),),
    )
    return StoredEntry(entry=entry, origin="/abs/faq.md", content_hash=f"hash-{entry_id}-{answer}")


def _write(store: SqliteStore, *entries: StoredEntry, remove: tuple[str, ...] = (), **kw: object) -> int:
    return store.write(
        entries=list(entries),
        remove_ids=remove,
        vectors=kw.get("vectors", {}),  # type: ignore[arg-type]
        model_id=MODEL,
        flags=kw.get("flags", ()),  # type: ignore[arg-type]
        options=kw.get("options"),  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore.open(tmp_path / "kb.sqlite", create=True)
    yield s
    s.close()


def test_new_kb_has_schema_wal_and_version_zero(store: SqliteStore) -> None:
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    snap = store.snapshot()
    assert (snap.version, snap.entries, snap.options) == (0, (), KbOptions())


def test_write_round_trips_and_bumps_version(store: SqliteStore) -> None:
    a, b = _stored("a"), _stored("b", question="Why?", answer="Because.")
    vector = np.arange(4, dtype=np.float32) / 7
    assert _write(store, a, b, vectors={"h1": vector}) == 1
    snap = store.snapshot()
    assert snap.version == 1
    assert snap.entries == (a.entry, b.entry)
    assert store.stored_entries() == [a, b]
    found = store.vectors(["h1", "h2"], model_id=MODEL)
    assert list(found) == ["h1"]
    np.testing.assert_array_equal(found["h1"], vector)
    assert store.vectors(["h1"], model_id="other-model") == {}


def test_upsert_keeps_position_and_remove_deletes(store: SqliteStore) -> None:
    _write(store, _stored("a"), _stored("b"))
    _write(store, _stored("a", answer="A new answer."), _stored("c"), remove=("b",))
    snap = store.snapshot()
    assert [e.id for e in snap.entries] == ["a", "c"]
    assert snap.entries[0].answer == "A new answer."
    assert snap.version == 2


def test_options_and_flags(store: SqliteStore) -> None:
    flag = Flag(Provenance("faq.md", 9), "dangling-fragment", "removed 'Dr.'")
    _write(store, _stored("a"), flags=[flag], options=KbOptions(name="clinic", threshold=0.4))
    assert store.snapshot().options == KbOptions(name="clinic", threshold=0.4)
    assert store.set_options(KbOptions(name="clinic", threshold=0.7)) == 2
    assert store.snapshot().options.threshold == 0.7


def test_failed_write_rolls_back(store: SqliteStore) -> None:
    _write(store, _stored("a"))
    with pytest.raises(ValueError):
        _write(store, _stored("b"), remove=("a",), vectors={"h": "not a vector"})
    snap = store.snapshot()
    assert snap.version == 1
    assert [e.id for e in snap.entries] == ["a"]


def test_second_connection_sees_committed_writes(store: SqliteStore) -> None:
    other = SqliteStore.open(store.path)
    _write(store, _stored("a"))
    assert other.version() == 1
    assert [e.id for e in other.snapshot().entries] == ["a"]
    other.close()


def test_a_version_read_before_a_change_is_not_served_after_it(store: SqliteStore) -> None:
    # version() caches between changes; each side's commits must still show on both.
    other = SqliteStore.open(store.path)
    assert (store.version(), other.version()) == (0, 0)
    _write(other, _stored("a"))
    assert (store.version(), other.version()) == (1, 1)
    _write(store, _stored("b"))
    assert (store.version(), other.version()) == (2, 2)
    with pytest.raises(ValueError):  # a failed write changes nothing
        _write(store, _stored("c"), vectors={"h": "not a vector"})
    assert (store.version(), other.version()) == (2, 2)
    other.close()


def test_open_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        SqliteStore.open(tmp_path, create=True)


def test_open_missing_without_create_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite"
    with pytest.raises(StoreError, match="faqtual ingest FILE --kb"):
        SqliteStore.open(path)
    assert not path.exists()


def test_create_in_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        SqliteStore.open(tmp_path / "no" / "kb.sqlite", create=True)


def test_open_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(StoreError, match="is empty"):
        SqliteStore.open(path)


def test_open_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite"
    junk = np.random.default_rng(7).integers(0, 256, 8192, dtype=np.uint8).tobytes()
    path.write_bytes(junk)
    for create in (False, True):
        with pytest.raises(StoreError, match="not a readable faqtual KB"):
            SqliteStore.open(path, create=create)
    assert path.read_bytes() == junk


def test_open_newer_schema_says_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite"
    SqliteStore.open(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaVersionError, match="pip install -U faqtual"):
        SqliteStore.open(path)


entry_text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.builds(
            FaqEntry,
            id=entry_text,
            question=entry_text,
            answer=entry_text,
            alternates=st.lists(entry_text, max_size=3).map(tuple),
            source=st.none() | entry_text,
            url=st.none() | entry_text,
            tags=st.lists(entry_text, max_size=2).map(tuple),
            provenance=st.lists(st.builds(Provenance, entry_text, st.integers(1, 10**6)), max_size=2).map(tuple),
        ),
        max_size=5,
        unique_by=lambda e: e.id,
    )
)
def test_entries_round_trip(tmp_path_factory: pytest.TempPathFactory, entries: list[FaqEntry]) -> None:
    store = SqliteStore.open(tmp_path_factory.mktemp("rt") / "kb.sqlite", create=True)
    _write(store, *(StoredEntry(e, origin="o", content_hash="h") for e in entries))
    assert store.snapshot().entries == tuple(entries)
    store.close()
