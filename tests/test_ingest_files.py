"""parse_file: dispatch on suffix and the errors a user meets before any parsing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import faqtual.ingest
from faqtual.errors import IngestError
from faqtual.ingest import SUPPORTED_SUFFIXES, parse_file

DATA = Path(__file__).resolve().parent / "data" / "ingest"


def test_public_api_is_sorted_and_complete() -> None:
    assert faqtual.ingest.__all__ == sorted(faqtual.ingest.__all__)
    assert set(faqtual.ingest.__all__) == {"SUPPORTED_SUFFIXES", "Prepared", "parse_file", "prepare"}


@pytest.mark.parametrize("name", ["faq.md", "faq.csv", "faq.tsv", "faq.jsonl", "faq.html"])
def test_each_fixture_parses(name: str) -> None:
    assert parse_file(DATA / name).entries


def test_display_name_goes_into_provenance() -> None:
    result = parse_file(DATA / "faq.tsv", display_name="uploads/faq.tsv")
    assert {p.file for e in result.entries for p in e.provenance} == {"uploads/faq.tsv"}
    default = parse_file(DATA / "faq.tsv")
    assert default.entries[0].provenance[0].file == str(DATA / "faq.tsv")


@pytest.mark.parametrize("suffix", [".TXT", ".Markdown", ".htm", ".ndjson"])
def test_suffix_variants(tmp_path: Path, suffix: str) -> None:
    bodies = {
        ".txt": "Why?\n\nBecause.\n",
        ".markdown": "## Why?\n\nBecause.\n",
        ".htm": "<details><summary>Why?</summary>Because.</details>",
        ".ndjson": '{"question": "Why?", "answer": "Because."}\n',
    }
    path = tmp_path / f"faq{suffix}"
    path.write_text(bodies[suffix.lower()])
    (entry,) = parse_file(path).entries
    assert (entry.question, entry.answer) == ("Why?", "Because.")


def test_unknown_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "faq.docx"
    path.write_text("Why?\n\nBecause.\n")
    with pytest.raises(IngestError) as info:
        parse_file(path, display_name="faq.docx")
    message = str(info.value)
    assert message.startswith("faq.docx: unsupported file type '.docx'")
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in message


def test_directory_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "faqs.md"
    folder.mkdir()
    with pytest.raises(IngestError, match="is a directory"):
        parse_file(folder)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"nowhere\.txt: no such file"):
        parse_file(tmp_path / "nowhere.txt")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read any file")
def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("Why?\n\nBecause.\n")
    path.chmod(0)
    with pytest.raises(IngestError, match="cannot be read"):
        parse_file(path)


def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Is it open?\n\nYes.\n\nCaf\u00e9 hours?\n\nNine.\n".encode("latin-1"))
    with pytest.raises(IngestError) as info:
        parse_file(path, display_name="latin1.txt")
    assert str(info.value).startswith("latin1.txt:5: not valid UTF-8 (byte 0xe9")
    assert info.value.line == 5
    assert "iconv" in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"Why?\n\nBecause.\x00\n",
        bytes(range(256)) * 4,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01",
    ],
)
def test_binary_junk_is_an_error(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "faq.txt"
    path.write_bytes(data)
    with pytest.raises(IngestError, match="looks like a binary file, not an FAQ"):
        parse_file(path)


def test_not_faq_shaped_text_describes_the_format() -> None:
    with pytest.raises(IngestError) as info:
        parse_file(DATA / "not_faq.txt", display_name="not_faq.txt")
    message = str(info.value)
    assert message.startswith("not_faq.txt: no question-answer pairs found; expected a plain-text FAQ")
    assert "ending with '?'" in message


def test_empty_file_has_no_pairs(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("")
    with pytest.raises(IngestError, match="no question-answer pairs found; expected a Markdown FAQ"):
        parse_file(path)


def test_utf16_gets_a_specific_hint(tmp_path: Path) -> None:
    path = tmp_path / "faq.txt"
    path.write_bytes("Why?\n\nBecause.\n".encode("utf-16"))
    with pytest.raises(IngestError, match="is UTF-16 text; save it as UTF-8"):
        parse_file(path)
