"""Shared fixtures: a clean environment, the real query encoder and a seed KB.

The seed KB is built once per session with the real model (``FaqService.ingest``
of the seed FAQ) and copied for each test that uses it, so tests may write to
their copy freely.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.service import FaqService

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_dd4fd59666329539.txt"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No FAQTUAL_* from the caller's shell, a private cache, and no stray faqtual.toml in the cwd."""
    for name in list(os.environ):
        if name.startswith("FAQTUAL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FAQTUAL_CACHE_DIR", str(_session_cache(tmp_path_factory)))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path_factory.getbasetemp())


def _session_cache(factory: pytest.TempPathFactory) -> Path:
    # One cache per session, so the default KB is built once (tests that need
    # a fresh cache set FAQTUAL_CACHE_DIR themselves).
    path = factory.getbasetemp() / "faqtual-cache"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def minilm() -> OnnxMiniLM:
    """The real query encoder (int8 MiniLM on ONNX Runtime), loaded once."""
    embedder = OnnxMiniLM()
    embedder.warm_up()
    return embedder


@pytest.fixture(scope="session")
def seed_path() -> Path:
    """The seed FAQ the issue names (13 questions)."""
    if not SEED.is_file():
        pytest.skip(f"the seed FAQ is not at {SEED} (it lives in shared/seeds beside the project)")
    return SEED


@pytest.fixture(scope="session")
def _seed_kb_master(tmp_path_factory: pytest.TempPathFactory, seed_path: Path, minilm: OnnxMiniLM) -> Path:
    path = tmp_path_factory.mktemp("seed-master") / "seed.sqlite"
    service = open_service(Settings(), kb=str(path), create=True, embedder=minilm)
    service.ingest([seed_path])
    service.store.close()
    return path


@pytest.fixture
def seed_kb(_seed_kb_master: Path, tmp_path: Path) -> Path:
    """A private copy of the seed KB (built with the real model) in ``tmp_path``."""
    path = tmp_path / "seed.sqlite"
    shutil.copyfile(_seed_kb_master, path)
    return path


@pytest.fixture
def seed_service(seed_kb: Path, minilm: OnnxMiniLM) -> Iterator[FaqService]:
    """A :class:`FaqService` over a private copy of the seed KB, with the real model."""
    service = open_service(Settings(), kb=str(seed_kb), embedder=minilm)
    yield service
    service.store.close()


def kb_fingerprint(path: Path) -> str:
    """A checksum of a KB's entries, options and version, read with plain sqlite3."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT * FROM entries ORDER BY id").fetchall()
        meta = conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
    finally:
        conn.close()
    return hashlib.sha256(repr((rows, meta)).encode()).hexdigest()


def run_faqtual(
    args: Sequence[str], *, stdin: str | None = None, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m faqtual ARGS`` in a new process (the environment is the clean one)."""
    return subprocess.run(
        [sys.executable, "-m", "faqtual", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
