"""The labeled development sets: every gold label names a real entry, and the sets are as big as promised.

A gold label that names no entry (a typo in a question, a MedQuAD id that does not
exist) silently turns an in-scope question into a wrong answer in every figure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faqtual.eval.harness import is_right, load_questions
from faqtual.ingest import parse_file, prepare
from faqtual.models import Answer, FaqEntry

ROOT = Path(__file__).resolve().parents[1]
SEED_SETS = sorted((ROOT / "tests" / "data").glob("seed_dev*.jsonl"))
MEDQUAD_SETS = sorted((ROOT / "benchmarks" / "data").glob("medquad_dev*.jsonl"))
MEDQUAD = ROOT.parent / "shared" / "data" / "medquad" / "medquad.jsonl"
PACKAGED = ROOT / "faqtual" / "data" / "synkinesis.md"


def _answer(entry: FaqEntry) -> Answer:
    return Answer(entry.id, entry.question, entry.alternates, entry.answer, 0.0, entry.source)


def test_there_are_enough_labeled_questions() -> None:
    seed = [q for path in SEED_SETS for q in load_questions(path)]
    assert sum(1 for q in seed if q.gold) >= 80 and sum(1 for q in seed if not q.gold) >= 40
    medquad = [q for path in MEDQUAD_SETS for q in load_questions(path)]
    assert len(medquad) >= 60 and any(not q.gold for q in medquad)


@pytest.fixture(scope="module")
def seed_answers(seed_path: Path) -> list[Answer]:
    """Every entry of the seed FAQ and of the packaged KB, as answers to judge gold labels by."""
    entries = [*prepare([parse_file(seed_path)]).entries, *prepare([parse_file(PACKAGED)]).entries]
    return [_answer(e) for e in entries]


@pytest.fixture(scope="module")
def answered_medquad_ids() -> set[str]:
    """The ids of MedQuAD pairs with a non-empty answer."""
    if not MEDQUAD.is_file():
        pytest.skip(f"MedQuAD is not at {MEDQUAD} (shared/data/medquad beside the project)")
    with MEDQUAD.open(encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines]
    return {row["id"] for row in rows if row["answer"].strip()}


@pytest.mark.parametrize("path", SEED_SETS, ids=lambda p: p.name)
def test_every_seed_gold_label_names_an_entry(path: Path, seed_answers: list[Answer]) -> None:
    unknown = {g for q in load_questions(path) for g in q.gold if not any(is_right(a, [g]) for a in seed_answers)}
    assert unknown == set(), f"{path.name}: gold labels that name no seed or packaged entry"


@pytest.mark.parametrize("path", MEDQUAD_SETS, ids=lambda p: p.name)
def test_every_medquad_gold_id_is_an_answered_medquad_pair(path: Path, answered_medquad_ids: set[str]) -> None:
    unknown = {g for q in load_questions(path) for g in q.gold} - answered_medquad_ids
    assert unknown == set(), f"{path.name}: gold ids that are no answered MedQuAD pair"
