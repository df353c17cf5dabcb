"""faqtual: answer questions from a curated FAQ, verbatim, with a calibrated confidence.

The public API is what ``__all__`` lists. ``FaqService`` and ``open_service``
load on first use, so ``import faqtual`` stays light (no NumPy, BM25 or ONNX
Runtime until a service is opened).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from faqtual.config import Settings
from faqtual.errors import (
    BadQueryError,
    ConfigError,
    FaqtualError,
    IndexNotReadyError,
    IngestError,
    KbChangedError,
    ModelError,
    NotFoundError,
    SchemaVersionError,
    StoreError,
)
from faqtual.models import Answer, AskResult, FaqEntry, IngestReport

__version__ = "0.1.0"

if TYPE_CHECKING:
    from faqtual.factory import open_service
    from faqtual.service import FaqService

__all__ = [
    "Answer",
    "AskResult",
    "BadQueryError",
    "ConfigError",
    "FaqEntry",
    "FaqService",
    "FaqtualError",
    "IndexNotReadyError",
    "IngestError",
    "IngestReport",
    "KbChangedError",
    "ModelError",
    "NotFoundError",
    "SchemaVersionError",
    "Settings",
    "StoreError",
    "__version__",
    "open_service",
]


def __getattr__(name: str) -> object:
    # Explicit lazy exports (PEP 562): these two pull in NumPy and bm25s.
    if name == "FaqService":
        from faqtual.service import FaqService

        return FaqService
    if name == "open_service":
        from faqtual.factory import open_service

        return open_service
    raise AttributeError(f"module 'faqtual' has no attribute {name!r}")
