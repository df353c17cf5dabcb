"""JSON Lines FAQs, including the MedQuAD collection as it is shipped."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from faqtual.errors import IngestError
from faqtual.ingest import parse_file, prepare
from faqtual.ingest.jsonl import parse

DATA = Path(__file__).resolve().parent / "data" / "ingest"
MEDQUAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "medquad" / "medquad.jsonl"


def test_fields_ids_and_ignored_extras() -> None:
    result = parse_file(DATA / "faq.jsonl", display_name="faq.jsonl")
    first, second, third = result.entries
    assert (first.id, first.question) == ("a1", "What is synkinesis?")
    assert first.answer == "Unwanted movement of facial muscles."  # indentation runs collapsed
    assert (first.source, first.url) == ("Clinic", "https://example.org/s")
    assert second.id == ""
    assert second.alternates == ("What treatments exist?",)
    assert second.tags == ("treatment", "botox")
    assert second.answer == "Therapy and Botox."
    assert third.id == "7"
    assert third.alternates == ("Does it last?", "Will it go away?")
    assert third.tags == ("outlook",)
    assert [e.provenance[0].line for e in result.entries] == [1, 3, 6]


def test_unusable_lines_are_rejected_with_their_line() -> None:
    result = parse_file(DATA / "faq.jsonl", display_name="faq.jsonl")
    assert [str(r.provenance) for r in result.rejected] == ["faq.jsonl:4", "faq.jsonl:5"]
    assert "array" in result.rejected[0].reason
    assert "'answer'" in result.rejected[1].reason


def test_invalid_json_names_file_and_line() -> None:
    with pytest.raises(IngestError, match=r"^bad_line\.jsonl:2: invalid JSON"):
        parse_file(DATA / "bad_line.jsonl", display_name="bad_line.jsonl")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"question": "Q?", "answer": 3}, "'answer' must be a string, not number"),
        ({"question": "Q?", "answer": "A.", "alternates": 5}, "'alternates' must be a list"),
        ({"question": "Q?", "answer": "A.", "tags": [1]}, "'tags' must be a list"),
        ({"question": "Q?", "answer": "A.", "id": True}, "'id' must be a string or an integer"),
        ({"question": "Q?", "answer": "A.", "url": {}}, "'url' must be a string"),
    ],
)
def test_wrongly_typed_fields_are_rejected(record: dict[str, object], reason: str) -> None:
    text = json.dumps({"question": "Good?", "answer": "Yes."}) + "\n" + json.dumps(record) + "\n"
    result = parse(text, file="f.jsonl")
    assert len(result.entries) == 1
    (rejection,) = result.rejected
    assert rejection.provenance.line == 2
    assert reason in rejection.reason


def test_no_usable_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"q": "Why?", "a": "Because."}\n[1, 2]\n')
    with pytest.raises(
        IngestError, match=r"no question-answer pairs found \(2 record\(s\) rejected.*expected JSON Lines"
    ):
        parse_file(path)


@pytest.mark.slow
def test_medquad_loads_as_is() -> None:
    if not MEDQUAD.is_file():
        pytest.skip(f"MedQuAD is not at {MEDQUAD} (shared/data/medquad beside the project)")
    start = time.perf_counter()
    result = parse_file(MEDQUAD)
    elapsed = time.perf_counter() - start
    assert len(result.entries) == 16_423
    assert result.rejected == ()
    ids = [e.id for e in result.entries]
    assert ids[0] == "CancerGov_0000001_1_Sec1"
    assert len(set(ids)) == len(ids)
    with MEDQUAD.open(encoding="utf-8") as lines:
        assert ids == [json.loads(line)["id"] for line in lines]
    assert all(e.url and e.source for e in result.entries)
    assert all("  " not in e.answer for e in result.entries)
    assert elapsed < 5, f"parsing MedQuAD took {elapsed:.1f} s"
    prepared = prepare([result])
    assert prepared.merged > 0
    assert len(prepared.entries) == 16_423 - prepared.merged
    assert len({e.id for e in prepared.entries}) == len(prepared.entries)
