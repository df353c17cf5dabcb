"""Turning a KB's entries into vectors and an :class:`~faqtual.retrieval.index.Index`.

Vectors come from the store's cache (keyed by text hash and model) where it
has them and from the embedder where it does not. Large KBs' built indexes
are cached on disk by content hash, so a restart maps them instead of
rebuilding them.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Sequence

import numpy as np

from faqtual.config import Settings
from faqtual.models import FaqEntry
from faqtual.retrieval.embed import Embedder, Vectors
from faqtual.retrieval.index import FORMAT_VERSION, LARGE_KB, Index, Units, units_for
from faqtual.retrieval.lexicon import common_words
from faqtual.store.base import Store
from faqtual.text import content_hash

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
#: Texts per encoder call while embedding a KB (progress is reported per batch).
EMBED_STEP = 256


class IndexBuilder:
    """Embeds and indexes entries for one store and one embedder."""

    def __init__(self, store: Store, *, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def missing_vectors(self, units: Units) -> dict[str, str]:
        """Text hash -> text of the units the store has no vector for yet."""
        hashes = {content_hash(t): t for t in units.texts}
        cached = self.store.vectors(hashes, model_id=self.embedder.model_id)
        return {h: t for h, t in hashes.items() if h not in cached}

    def embed(self, texts: dict[str, str], *, progress: Progress | None) -> dict[str, Vectors]:
        """Embed ``texts`` (text hash -> text) in batches, reporting ``progress(done, total)``."""
        hashes = list(texts)
        out: dict[str, Vectors] = {}
        for start in range(0, len(hashes), EMBED_STEP):
            chunk = hashes[start : start + EMBED_STEP]
            for h, v in zip(chunk, self.embedder.embed([texts[h] for h in chunk]), strict=True):
                out[h] = v
            if progress is not None:
                progress(min(start + EMBED_STEP, len(hashes)), len(hashes))
        return out

    def index_for(self, entries: Sequence[FaqEntry]) -> Index:
        """Build the index of ``entries``, or map a cached build of the same content.

        Large KBs are cached under ``<cache_dir>/indexes/<content hash>``: the key
        covers every entry's text, the model and the index format, so a cache
        can never serve another KB version, and replicas can share one folder.
        """
        if len(entries) <= LARGE_KB:
            units = units_for(entries)
            return Index.build(entries, units, self.vectors_for(units), common_words=common_words())
        key = content_hash(
            self.embedder.model_id,
            str(FORMAT_VERSION),
            *(part for e in entries for part in (e.id, *e.questions, "\x01", e.answer)),
        )[:24]
        folder = self.settings.cache_path() / "indexes" / key
        try:
            return Index.load(folder, entries, common_words=common_words())
        except (OSError, ValueError, KeyError):
            logger.info("building the index of %d entries (no usable cache in %s)", len(entries), folder)
        units = units_for(entries)
        index = Index.build(entries, units, self.vectors_for(units), common_words=common_words())
        tmp = folder.with_name(f".{key}.{os.getpid()}.tmp")
        try:
            index.save(tmp)
            os.replace(tmp, folder)
        except OSError as exc:  # a read-only cache only costs speed next time
            logger.warning("could not cache the index in %s: %s", folder, exc)
            shutil.rmtree(tmp, ignore_errors=True)
        return index

    def vectors_for(self, units: Units) -> Vectors:
        """One vector per unit, from the store's cache or the embedder."""
        hashes = [content_hash(t) for t in units.texts]
        cached = self.store.vectors(hashes, model_id=self.embedder.model_id)
        todo = {h: t for h, t in zip(hashes, units.texts, strict=True) if h not in cached}
        cached.update(self.embed(todo, progress=None))
        if not hashes:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([cached[h] for h in hashes]).astype(np.float32)
