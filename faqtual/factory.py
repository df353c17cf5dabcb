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
from types import ModuleType
from typing import TYPE_CHECKING

from faqtual import __version__
from faqtual.config import Settings
from faqtual.errors import StoreError
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import Embedder, OnnxMiniLM, default_threads
from faqtual.safety import SafetyRules
from faqtual.service import FaqService
from faqtual.store.base import Store
from faqtual.store.sqlite import SCHEMA_VERSION, SqliteStore

if TYPE_CHECKING:
    from faqtual.store.pg_schema import MigrationReport

PG_SCHEMES = ("postgresql://", "postgres://")

DEFAULT_KB_RESOURCE = "synkinesis.md"
#: The --kb value that names the packaged default KB.
DEFAULT_KB_NAME = "default"


def default_embedder(settings: Settings, *, serving: bool = False) -> Embedder:
    """The real query encoder (int8 MiniLM on ONNX Runtime); loads lazily.

    ``serving``: for a server, whose event loop shares the cores with the encoder
    and which encodes ``batch_workers`` micro-batches at once. Unless ``threads``
    is set, each batch then gets its share of the cores, and ONNX Runtime's
    threads sleep instead of spinning between operators.
    """
    if not serving:
        return OnnxMiniLM(threads=settings.threads or None)
    share = max(1, default_threads() // max(1, settings.batch_workers))
    return OnnxMiniLM(threads=settings.threads or share, spin=False)


def safety_rules(settings: Settings) -> SafetyRules | None:
    """The rules ``settings.safety_rules`` names: a TOML file, ``"none"``, or (empty) the packaged ones.

    Raises:
        ConfigError: the file is missing or malformed (the message names it).
    """
    name = settings.safety_rules.strip()
    if not name:
        return SafetyRules.packaged()
    if name.lower() == "none":
        return None
    return SafetyRules.load(Path(name))


def open_service(
    settings: Settings,
    *,
    kb: str | None = None,
    create: bool = False,
    embedder: Embedder | None = None,
    safety: SafetyRules | None = None,
) -> FaqService:
    """A service over the KB at ``kb`` (or ``settings.kb``, or the packaged default).

    Args:
        settings: resolved settings.
        kb: the KB file or a ``postgresql://`` DSN; default ``settings.store``, then
            ``settings.kb``, else the packaged synkinesis FAQ. In PostgreSQL the KB
            is the one named ``settings.kb_name``.
        create: create the KB file if it is missing.
        embedder: the query encoder; default the real MiniLM.
        safety: the safety rules; default those ``settings.safety_rules`` names
            (see :func:`safety_rules`).

    Raises:
        StoreError: the KB is unusable (see :meth:`SqliteStore.open` and
            :meth:`~faqtual.store.postgres.PostgresStore.open`), or the ``postgres`` extra is missing.
        ConfigError: the safety rules file is malformed.
    """
    embedder = embedder or default_embedder(settings)
    safety = safety or safety_rules(settings)
    path_text = kb if kb is not None else (settings.store or settings.kb)
    if is_postgres_dsn(path_text):
        pg_store = open_postgres(path_text, kb_name=settings.kb_name, create=create, listen=True)
        return FaqService(
            pg_store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings, safety=safety
        )
    if path_text and path_text != DEFAULT_KB_NAME:
        store = SqliteStore.open(Path(path_text), create=create)
        return FaqService(store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings, safety=safety)
    path = default_kb_path(settings, embedder)
    store = SqliteStore.open(path)
    return FaqService(store, embedder=embedder, scoring=ScoringModel.packaged(), settings=settings, safety=safety)


def is_postgres_dsn(location: str) -> bool:
    """Whether a KB location is a PostgreSQL URL rather than a SQLite file path."""
    return location.startswith(PG_SCHEMES)


def _postgres_extra() -> ModuleType:
    try:
        # Imported here so SQLite users need no psycopg (the optional [postgres] extra).
        import faqtual.store.postgres as module
    except ImportError as exc:
        raise StoreError(
            f"A PostgreSQL KB needs the postgres extra ({exc.name} is not installed). "
            "Try: pip install 'faqtual[postgres]'"
        ) from exc
    return module


def open_postgres(dsn: str, *, kb_name: str, create: bool = False, listen: bool = False) -> Store:
    """Open the KB ``kb_name`` in the PostgreSQL database at ``dsn``.

    With ``listen`` (what services use) the store follows the KB version by
    LISTEN/NOTIFY, so every replica reloads within a second of a change.

    Raises:
        StoreError: the extra is missing or the KB cannot be opened (the message never holds the password).
    """
    store: Store = _postgres_extra().PostgresStore.open(dsn, kb=kb_name, create=create, listen=listen)
    return store


def migrate_postgres(dsn: str) -> MigrationReport:
    """Apply pending schema migrations to the PostgreSQL database at ``dsn``.

    Raises:
        StoreError: the extra is missing, or the database cannot be reached or migrated.
        SchemaVersionError: the database was migrated by a newer faqtual.
    """
    report: MigrationReport = _postgres_extra().migrate(dsn)
    return report


def default_kb_path(settings: Settings, embedder: Embedder) -> Path:
    """The cached build of the packaged default KB, built now if missing.

    The file name carries a hash of the source, the model, the schema and the
    faqtual version, so an upgrade builds a fresh KB instead of using a stale one.
    """
    resource = importlib.resources.files("faqtual") / "data" / DEFAULT_KB_RESOURCE
    source = resource.read_bytes()
    key = hashlib.sha256(source + f"|{embedder.model_id}|{SCHEMA_VERSION}|{__version__}".encode()).hexdigest()[:16]
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
            f"Cannot build the default KB in {folder}: {exc.strerror}. Set FAQTUAL_CACHE_DIR to a writable folder."
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
