"""faqtual: answer questions from a curated FAQ, verbatim, with a calibrated confidence."""

from __future__ import annotations

__version__ = "0.1.0"
