"""Wiring: settings -> store + embedder + scoring model -> :class:`FaqService`.

Also builds the packaged default KB (the synkinesis FAQ) into the cache
folder on first use, atomically, so ``faqtual ask`` works with no set-up.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import tempfile
from pathlib import Path

from faqtual import __version__
from faqtual.config import Settings
from faqtual.errors import StoreError
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import Embedder, OnnxMiniLM
from faqtual.service import FaqService
from faqtual.store.sqlite import SCHEMA_VERSION, SqliteStore

DEFAULT_KB_RESOURCE = "synkinesis.md"


def default_embedder(settings: Settings) -> Embedder:
    """The real query encoder (int8 MiniLM on ONNX Runtime); loads lazily."""
    return OnnxMiniLM(threads=settings.threads or None)


def open_service(
    settings: Settings,
    *,
    kb: str | None = None,
    create: bool = False,
    embedder: Embedder | None = None,
) -> FaqService:
    """A service over the KB at ``kb`` (or ``settings.kb``, or the packaged default).

    Raises:
        StoreError: the KB path is unusable (see :meth:`SqliteStore.open`).
    """
    embedder = embedder or default_embedder(settings)
    path_text = kb if kb is not None else settings.kb
    if path_text:
        store = SqliteStore.open(Path(path_text), create=create)
        return FaqService(store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings)
    path = default_kb_path(settings, embedder)
    store = SqliteStore.open(path)
    return FaqService(store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings)


def default_kb_path(settings: Settings, embedder: Embedder) -> Path:
    """The cached build of the packaged default KB, built now if missing.

    The file name carries a hash of the source, the model, the schema and the
    faqtual version, so an upgrade builds a fresh KB instead of using a stale one.
    """
    resource = importlib.resources.files("faqtual") / "data" / DEFAULT_KB_RESOURCE
    source = resource.read_bytes()
    key = hashlib.sha256(
        source + f"|{embedder.model_id}|{SCHEMA_VERSION}|{__version__}".encode()
    ).hexdigest()[:16]
    folder = settings.cache_path()
    path = folder / f"default-{key}.sqlite"
    if path.exists():
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".building-", suffix=".sqlite", dir=folder)
        os.close(fd)
        os.unlink(tmp_name)
    except OSError as exc:
        raise StoreError(
            f"Cannot build the default KB in {folder}: {exc.strerror}. "
            "Set FAQTUAL_CACHE_DIR to a writable folder."
        ) from exc
    tmp = Path(tmp_name)
    try:
        store = SqliteStore.open(tmp, create=True)
        service = FaqService(store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings)
        with importlib.resources.as_file(resource) as source_path:
            service.ingest([source_path])
        store.close()
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm")):
            leftover.unlink(missing_ok=True)
    return path
