"""The one error tree of faqtual.

Every error the package raises on purpose is a :class:`FaqtualError`::

    FaqtualError
    ├── ConfigError          a setting, flag or KB option has a bad value
    ├── IngestError          a source file cannot be read or parsed (names file:line)
    ├── StoreError           the KB file cannot be opened, read or written
    │   ├── SchemaVersionError   the KB was written by a newer/older schema
    │   └── KbChangedError       another writer changed the KB since it was read (retry)
    ├── ModelError           the embedding model is missing, corrupt or unloadable
    ├── IndexNotReadyError   the KB has no entries / no index yet
    ├── BadQueryError        a question is empty, too long or not text
    └── NotFoundError        an entry id that the KB does not hold

Front ends translate these in one place each (the CLI into ``Error: ...`` and
exit 1, the HTTP API into one JSON error shape). ``ValueError``/``TypeError``
are left for programmer misuse.
"""

from __future__ import annotations


class FaqtualError(Exception):
    """Base of every error faqtual raises on purpose."""


class ConfigError(FaqtualError):
    """A setting, command-line flag or KB option has a bad value."""


class IngestError(FaqtualError):
    """A source file cannot be read or parsed.

    The message names the file and, where there is one, the line.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        where = file or ""
        if file and line:
            where = f"{file}:{line}"
        super().__init__(f"{where}: {message}" if where else message)
        self.file = file
        self.line = line


class StoreError(FaqtualError):
    """The knowledge-base file cannot be opened, read or written."""


class SchemaVersionError(StoreError):
    """The knowledge base was written with a schema this version cannot use."""


class KbChangedError(StoreError):
    """Another writer committed a new KB version since this writer read it; read again and retry."""


class ModelError(FaqtualError):
    """The embedding model is missing, corrupt or cannot be loaded."""


class IndexNotReadyError(FaqtualError):
    """The knowledge base holds no entries yet, so nothing can be answered."""


class BadQueryError(FaqtualError):
    """A question is empty, too long or not readable text."""


class NotFoundError(FaqtualError):
    """An entry id the knowledge base does not hold."""
