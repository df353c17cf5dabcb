"""Warm query timing shared by the speed benchmarks: the encoder alone against a whole ``ask``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


def interleaved(
    service: Any, questions: Sequence[str], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds per question for one encoder pass and for ``service.ask``, ``rounds`` times each.

    The two are taken in turn, question by question, so both see the same machine load.
    The encoder reads exactly the text ``ask`` gives it (spelling repaired, a long
    message condensed), so the difference is everything else ``ask`` does.
    """
    index = service.loaded().index
    encoded = {q: index.prepare(q).encoder_text for q in questions}
    encoder: dict[str, list[float]] = {q: [] for q in questions}
    full: dict[str, list[float]] = {q: [] for q in questions}
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            service.embedder.embed([encoded[q]])
            encoder[q].append(time.perf_counter() - t)
            t = time.perf_counter()
            service.ask(q)
            full[q].append(time.perf_counter() - t)
    return encoder, full


def pooled(samples: dict[str, list[float]]) -> list[float]:
    """Every question's samples in one list."""
    return [s for per_question in samples.values() for s in per_question]
