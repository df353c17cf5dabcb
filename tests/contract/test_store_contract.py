"""The Store contract: each test runs on SQLite and on PostgreSQL (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from faqtual.models import FaqEntry, Flag, KbOptions, Provenance
from faqtual.store.base import Store, StoredEntry, Vector
from faqtual.store.logs import Feedback, LoggedQuery, LogStore

MODEL = "test-model"

OpenStore = Callable[[str], Store]  # the open_store fixture (conftest.py)


def stored(entry_id: str, *, answer: str = "It is a thing.", origin: str = "/abs/faq.md") -> StoredEntry:
    entry = FaqEntry(
        id=entry_id,
        question=f"What is {entry_id}?",
        answer=answer,
        alternates=("Zeta first?", "alpha second?", "Ünïcödé third — ok?"),
        source="a note",
        url="https://example.org/faq",
        tags=("t2", "t1"),
        provenance=(Provenance("faq.md", 3), Provenance("more.md", 10)),
    )
    return StoredEntry(entry=entry, origin=origin, content_hash=f"hash-{entry_id}-{answer}")


def write(
    store: Store,
    *entries: StoredEntry,
    remove: tuple[str, ...] = (),
    vectors: Mapping[str, Vector] | None = None,
    model_id: str = MODEL,
    flags: tuple[Flag, ...] = (),
    options: KbOptions | None = None,
) -> int:
    return store.write(
        entries=list(entries),
        remove_ids=remove,
        vectors=vectors or {},
        model_id=model_id,
        flags=flags,
        options=options,
    )


def ids(store: Store) -> list[str]:
    return [e.id for e in store.snapshot().entries]


def test_new_kb_is_empty_at_version_zero(store: Store) -> None:
    snap = store.snapshot()
    assert (snap.version, snap.entries, snap.options) == (0, (), KbOptions())
    assert store.version() == 0
    assert store.stored_entries() == []


def test_round_trip_keeps_every_field(store: Store) -> None:
    full = stored("full")
    bare = StoredEntry(
        entry=FaqEntry(id="bare", question="Q?", answer="A.", alternates=(), source=None, url=None, tags=()),
        origin="",
        content_hash="h-bare",
    )
    write(store, full, bare)
    assert store.stored_entries() == [full, bare]
    assert store.snapshot().entries == (full.entry, bare.entry)
    assert store.snapshot().entries[0].alternates == ("Zeta first?", "alpha second?", "Ünïcödé third — ok?")


def test_every_write_bumps_the_version_by_one(store: Store) -> None:
    assert write(store, stored("a")) == 1
    assert write(store) == 2
    assert store.set_options(KbOptions(threshold=0.4)) == 3
    assert write(store, remove=("a",)) == 4
    assert store.version() == store.snapshot().version == 4


def test_a_failed_write_leaves_the_previous_snapshot(store: Store) -> None:
    write(store, stored("a"), stored("b"), vectors={"h1": np.ones(3, dtype=np.float32)})
    before = store.snapshot()

    class Exploding(dict[str, Vector]):
        def items(self) -> Iterator[tuple[str, Vector]]:  # type: ignore[override]
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        store.write(
            entries=[stored("c"), stored("a", answer="changed")],
            remove_ids=["b"],
            vectors=Exploding(h2=np.zeros(3, dtype=np.float32)),
            model_id=MODEL,
            flags=(),
            options=KbOptions(threshold=0.9),
        )
    assert store.snapshot() == before
    assert store.version() == before.version
    assert store.vectors(["h2"], model_id=MODEL) == {}
    assert write(store, stored("d")) == before.version + 1  # still writable


def test_upsert_updates_in_place_and_appends_new_entries(store: Store) -> None:
    write(store, stored("a"), stored("b"))
    write(store, stored("c"), stored("a", answer="New answer.", origin="/abs/other.md"))
    assert ids(store) == ["a", "b", "c"]
    by_id = {s.entry.id: s for s in store.stored_entries()}
    assert by_id["a"].entry.answer == "New answer."
    assert (by_id["a"].origin, by_id["a"].content_hash) == ("/abs/other.md", "hash-a-New answer.")


def test_remove_deletes_and_ignores_unknown_ids(store: Store) -> None:
    write(store, stored("a"), stored("b"), stored("c"))
    write(store, remove=("b", "no-such-id"))
    assert ids(store) == ["a", "c"]
    write(store, stored("b", answer="back"), remove=("a",))
    assert ids(store) == ["c", "b"]


def test_vectors_are_cached_by_text_hash_and_model(store: Store) -> None:
    v1 = np.array([0.25, -1.5, 3.0e-8], dtype=np.float32)
    v2 = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    write(store, vectors={"h1": v1, "h2": v2})
    write(store, vectors={"h1": v2 * 9}, model_id="other-model")
    found = store.vectors(["h1", "h2", "h1", "missing"], model_id=MODEL)
    assert sorted(found) == ["h1", "h2"]
    assert found["h1"].dtype == np.float32
    np.testing.assert_array_equal(found["h1"], v1)
    np.testing.assert_array_equal(store.vectors(["h1"], model_id="other-model")["h1"], v2 * 9)
    assert store.vectors([], model_id=MODEL) == {}
    write(store, vectors={"h1": v2})  # a text hash's vector never changes: the first one stays
    np.testing.assert_array_equal(store.vectors(["h1"], model_id=MODEL)["h1"], v1)


def test_many_vectors_in_one_lookup(store: Store) -> None:
    vectors = {f"h{i}": np.full(4, i, dtype=np.float32) for i in range(1200)}
    write(store, vectors=vectors)
    found = store.vectors(vectors, model_id=MODEL)
    assert len(found) == 1200
    assert float(found["h1199"][0]) == 1199.0


def test_options_round_trip(store: Store) -> None:
    options = KbOptions(
        name="Clinic",
        title="Ask us",
        threshold=0.42,
        no_answer_message="Call us.",
        disclaimer="Not advice.",
        help_url="https://example.org/help",
    )
    write(store, stored("a"), options=options)
    assert store.snapshot().options == options
    write(store, stored("b"))  # options=None keeps them
    assert store.snapshot().options == options
    store.set_options(KbOptions(threshold=0.1))
    assert store.snapshot().options == KbOptions(threshold=0.1)


def test_flags_are_written_with_the_entries(store: Store) -> None:
    flag = Flag(Provenance("faq.md", 3), "merged", "merged two entries")
    assert write(store, stored("a"), flags=(flag,)) == 1
    assert write(store, stored("b"), flags=(flag,)) == 2  # re-flagging a file replaces its flags


def test_kbs_in_one_database_are_isolated(open_store: OpenStore, store: Store) -> None:
    other = open_store("other")
    write(store, stored("a"), vectors={"h": np.ones(2, dtype=np.float32)}, options=KbOptions(name="A"))
    write(store, stored("b"))
    write(other, stored("x"))
    assert (ids(store), ids(other)) == (["a", "b"], ["x"])
    assert (store.version(), other.version()) == (2, 1)
    assert other.vectors(["h"], model_id=MODEL) == {}
    assert other.snapshot().options == KbOptions()
    write(other, remove=("a", "b"))
    assert ids(store) == ["a", "b"]


def test_a_second_handle_sees_committed_writes(open_store: OpenStore, store: Store) -> None:
    again = open_store("default")
    write(store, stored("a"))
    assert again.version() == 1
    assert again.snapshot().entries == store.snapshot().entries


def test_close_is_idempotent(store: Store) -> None:
    store.close()
    store.close()


def test_question_log_and_feedback(store: Store) -> None:
    assert isinstance(store, LogStore)
    low = LoggedQuery("q1", 100.0, "botox?", False, None, 0.1, 1)
    high = LoggedQuery("q2", 200.0, "eye?", True, "a", 0.9, 1)
    mid = LoggedQuery("q3", 300.0, "smile?", True, "b", 0.5, 2)
    for record in (low, high, mid):
        store.log_query(record)
    assert store.version() == 0  # logs are not KB content
    assert store.logged_queries(below=0.6, limit=10) == [mid, low]
    assert store.logged_queries(below=0.6, limit=1) == [mid]
    assert store.logged_query("q2") == high
    assert store.logged_query("nope") is None
    store.log_query(LoggedQuery("q1", 400.0, "botox?", True, "c", 0.95, 3))  # same id replaces
    store.forget_queries(["q3"])
    assert store.logged_queries(below=0.6, limit=10) == []
    first = Feedback("q1", "a", True, None, 10.0)
    second = Feedback("q2", "b", False, "Too long", 20.0)
    store.record_feedback(first)
    store.record_feedback(second)
    assert store.feedback(limit=10) == [second, first]
    assert store.feedback(limit=1) == [second]


texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    question=texts.filter(str.strip),
    answer=texts.filter(str.strip),
    alternates=st.lists(texts, max_size=4),
    tags=st.lists(texts, max_size=3),
    url=st.none() | texts,
    line=st.integers(1, 10**6),
)
def test_property_any_entry_round_trips(
    store: Store,
    question: str,
    answer: str,
    alternates: list[str],
    tags: list[str],
    url: str | None,
    line: int,
) -> None:
    entry = FaqEntry(
        id="p",
        question=question,
        answer=answer,
        alternates=tuple(alternates),
        source=None,
        url=url,
        tags=tuple(tags),
        provenance=(Provenance("f.md", line),),
    )
    item = StoredEntry(entry=entry, origin="/o", content_hash="h")
    write(store, item)
    assert store.stored_entries() == [item]
