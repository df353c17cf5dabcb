"""Faults that the issue lists and no other test file covers: a full disk, concurrent ingests.

The others (corrupt file, read-only file and folder, SIGKILL mid-ingest, missing
or tampered model) are in test_cli.py, test_store_sqlite.py and
test_embed_parity.py; docs/reliability.md lists them all.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faqtual.config import Settings
from faqtual.errors import StoreError
from faqtual.factory import open_service
from faqtual.models import FaqEntry
from faqtual.retrieval.embed import OnnxMiniLM
from tests.conftest import kb_fingerprint, run_faqtual

pytestmark = pytest.mark.model


def _jsonl(path: Path, prefix: str, n: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            question = f"What does {prefix} case number {i} say about topic {i * 7919 % 1000}?"
            answer = f"Case {prefix}-{i}: an answer about item {i} only, thing {i * 31 % 997}."
            f.write(json.dumps({"id": f"{prefix}-{i}", "question": question, "answer": answer}) + "\n")
    return path


def _ids(kb: Path) -> set[str]:
    with sqlite3.connect(f"file:{kb}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM entries")}


# -- full disk -------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only; skipped elsewhere)."""
    mount = shutil.which("mount")
    folder = tmp_path / "tiny"
    folder.mkdir()
    if mount is None:
        pytest.skip("no mount(8): cannot make a small filesystem")
    made = subprocess.run([mount, "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {made.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _fill(folder: Path, *, leave: int) -> None:
    """Fill the filesystem of ``folder`` until ``leave`` bytes are free."""
    free = shutil.disk_usage(folder).free - leave
    with (folder / "filler").open("wb") as f:
        try:
            while free > 0:
                f.write(b"\0" * min(free, 65536))
                f.flush()
                free -= 65536
        except OSError:
            pass  # full already: that is the point


def test_full_disk_ingest_names_the_fix_and_keeps_the_kb(tiny_disk: Path, seed_kb: Path, tmp_path: Path) -> None:
    kb = tiny_disk / "kb.sqlite"
    shutil.copyfile(seed_kb, kb)  # about 0.5 MB of the 1 MiB
    before = kb_fingerprint(kb)
    _fill(tiny_disk, leave=128 * 1024)
    big = _jsonl(tmp_path / "big.jsonl", "big", 300)
    proc = run_faqtual(["ingest", str(big), "--kb", str(kb)])
    assert proc.returncode == 1, proc.stdout
    assert f"Error: The disk holding {kb} is full; free space and run the command again." in proc.stderr
    assert kb_fingerprint(kb) == before
    ask = run_faqtual(["ask", "can botox cure synkinesis", "--kb", str(kb), "--json"])
    assert ask.returncode == 0, ask.stderr
    assert json.loads(ask.stdout)["answered"]


def test_full_disk_drops_the_question_log_line_not_the_answer(
    tiny_disk: Path, seed_kb: Path, minilm: OnnxMiniLM
) -> None:
    kb = tiny_disk / "kb.sqlite"
    shutil.copyfile(seed_kb, kb)
    service = open_service(Settings(log_questions=True), kb=str(kb), embedder=minilm)
    try:
        _fill(tiny_disk, leave=0)
        result = service.ask("Can Botox cure synkinesis?")
        assert result.answered
        logged = [service.log_query(f"q{n}", result) for n in range(200)]
        assert logged.count(False) > 0 and service.dropped_log_lines == logged.count(False)
        with pytest.raises(StoreError, match="is full; free space"):
            service.upsert_entry(
                FaqEntry(id="new-entry", question="Is this a new question? " * 200, answer="A new answer. " * 4000)
            )
    finally:
        service.store.close()


# -- concurrent ingests --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(2))
def test_concurrent_ingests_are_serialised(seed_kb: Path, tmp_path: Path, round_: int) -> None:
    files = {name: _jsonl(tmp_path / f"{name}.jsonl", name, 400) for name in ("alpha", "beta")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "faqtual", "ingest", str(path), "--kb", str(seed_kb), "--replace"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in files.values()
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for proc in procs:
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert all(code == 0 for code, _ in outcomes), outcomes
    final = _ids(seed_kb)
    states = [{f"{name}-{i}" for i in range(400)} for name in files]
    assert final in states, f"interleaved: {len(final)} entries, {sorted(final)[:3]}..."
