"""Write one section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEvery figure is reproduced by the command shown with it.\n"


def write_section(heading: str, section: str, *, path: Path = BENCHMARKS_MD) -> None:
    """Replace the section starting at ``heading`` (up to the next '## ') or append it."""
    text = path.read_text() if path.exists() else HEADER
    start = text.find(heading)
    section = section.rstrip() + "\n"
    if start == -1:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(heading))
        text = text[:start] + section + ("\n" + text[end + 1 :] if end != -1 else "")
    path.write_text(text)
