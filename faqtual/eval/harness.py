"""Run labeled questions through a :class:`FaqService` and judge the answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from faqtual.errors import IngestError
from faqtual.eval.metrics import Judged, Metrics, summarise
from faqtual.models import Answer, AskResult
from faqtual.service import FaqService
from faqtual.text import normalize_text

#: Candidates kept per question, enough for MRR@10.
DEPTH = 10


@dataclass(frozen=True)
class LabeledQuestion:
    """A question and the ids or question texts of the entries that answer it.

    Empty ``gold`` means the KB should not answer it.
    """

    question: str
    gold: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Record:
    """One question's outcome in an evaluation run."""

    labeled: LabeledQuestion
    result: AskResult
    judged: Judged


@dataclass(frozen=True)
class EvalRun:
    """Every record of a run and its metrics at the threshold in force."""

    records: tuple[Record, ...]
    metrics: Metrics


def load_questions(path: Path) -> list[LabeledQuestion]:
    """Read a JSONL file of ``{"q": ..., "gold": [...]}`` lines.

    Raises:
        IngestError: unreadable file, bad JSON or a line without ``q``/``gold`` (names file:line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read labeled questions: {exc}", file=str(path)) from exc
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IngestError(f"not valid JSON ({exc.msg})", file=str(path), line=number) from exc
        question = data.get("q", data.get("question")) if isinstance(data, dict) else None
        gold = data.get("gold") if isinstance(data, dict) else None
        if not isinstance(question, str) or not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            raise IngestError(
                'expected {"q": "question text", "gold": ["entry id or question", ...]}',
                file=str(path),
                line=number,
            )
        out.append(LabeledQuestion(question, tuple(gold), number))
    if not out:
        raise IngestError("no labeled questions found", file=str(path))
    return out


def _key(text: str) -> str:
    return normalize_text(text).casefold().rstrip("?. ")


def is_right(answer: Answer, gold: Sequence[str]) -> bool:
    """Whether ``answer``'s entry is one of ``gold`` (by id, question or alternate)."""
    keys = {_key(g) for g in gold}
    return answer.entry_id in gold or any(_key(q) in keys for q in (answer.question, *answer.alternates))


def run(service: FaqService, questions: Sequence[LabeledQuestion], *, threshold: float | None = None) -> EvalRun:
    """Ask every question (in batches) and judge the ranked answers."""
    records = []
    for start in range(0, len(questions), 64):
        batch = questions[start : start + 64]
        for labeled, result in zip(batch, service.ask_many([q.question for q in batch], top=DEPTH), strict=True):
            judged = Judged(
                in_scope=bool(labeled.gold),
                hits=tuple(is_right(a, labeled.gold) for a in result.answers),
                confidence=result.answers[0].confidence if result.answers else 0.0,
            )
            records.append(Record(labeled, result, judged))
    t = service.threshold() if threshold is None else threshold
    return EvalRun(tuple(records), summarise([r.judged for r in records], threshold=t))
