"""The storage contract every KB backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from faqtual.models import FaqEntry, Flag, KbOptions

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: the entry, the file it came from and its content hash."""

    entry: FaqEntry
    origin: str
    content_hash: str


@dataclass(frozen=True)
class Snapshot:
    """A consistent read of a KB: everything one index is built from."""

    version: int
    options: KbOptions
    entries: tuple[FaqEntry, ...]


class Store(Protocol):
    """A knowledge base's storage. Implementations: SQLite (default), PostgreSQL."""

    def snapshot(self) -> Snapshot:
        """Read the entries, options and version in one consistent read."""
        ...

    def version(self) -> int:
        """The KB version; it grows by one with every committed change."""
        ...

    def stored_entries(self) -> list[StoredEntry]:
        """Every entry with its origin and content hash, in KB order."""
        ...

    def vectors(self, text_hashes: Iterable[str], *, model_id: str) -> dict[str, Vector]:
        """The cached vectors of those text hashes for ``model_id`` (missing ones left out)."""
        ...

    def write(
        self,
        *,
        entries: Sequence[StoredEntry],
        remove_ids: Iterable[str],
        vectors: Mapping[str, Vector],
        model_id: str,
        flags: Sequence[Flag],
        options: KbOptions | None,
        expected_version: int | None = None,
    ) -> int:
        """Upsert ``entries``, delete ``remove_ids`` and cache ``vectors``, atomically.

        With ``expected_version``, write only if the KB is still at that version
        (the one the caller read its diff from); ``None`` writes regardless.

        Returns:
            The new KB version.

        Raises:
            KbChangedError: the KB is no longer at ``expected_version`` (nothing is written).
        """
        ...

    def set_options(self, options: KbOptions) -> int:
        """Replace the KB options (threshold, messages); returns the new version."""
        ...

    def close(self) -> None:
        """Release connections. Idempotent."""
        ...
