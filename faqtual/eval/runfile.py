"""A saved evaluation run: what each question got back, judged, plus the config.

A run file lets two runs be compared later (``faqtual eval --compare``) without
the KB or the model that produced them. Everything here is pure: dataclasses
and JSON text in and out; the CLI reads and writes the files.

Layout (JSON, ``format`` 1)::

    {"format": 1,
     "config": {"kb": ..., "questions_file": ..., "threshold": 0.5, "version": "0.1.0"},
     "questions": [{"q": ..., "gold": [...],
                    "returned": [{"entry_id": ..., "question": ..., "confidence": 0.91}, ...],
                    "judged": {"in_scope": true, "hits": [false, true], "confidence": 0.91}}]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from faqtual.errors import IngestError
from faqtual.eval.metrics import Judged, Metrics, summarise

if TYPE_CHECKING:  # the harness imports the service; a run file needs neither at run time
    from faqtual.eval.harness import EvalRun

#: Bumped when the layout changes; reading another format fails and says so.
FORMAT = 1


@dataclass(frozen=True)
class Returned:
    """One candidate a question got back, best first."""

    entry_id: str
    question: str
    confidence: float


@dataclass(frozen=True)
class SavedQuestion:
    """One labeled question, what came back for it, and how it was judged."""

    question: str
    gold: tuple[str, ...]
    returned: tuple[Returned, ...]
    judged: Judged


@dataclass(frozen=True)
class RunConfig:
    """What a run was made with: KB, labeled-questions file, threshold, faqtual version."""

    kb: str
    questions_file: str
    threshold: float
    version: str


@dataclass(frozen=True)
class SavedRun:
    """A whole run, self-contained: enough to recompute every metric and draw the report."""

    config: RunConfig
    questions: tuple[SavedQuestion, ...]

    def judged(self) -> list[Judged]:
        """The judgements, in question order."""
        return [q.judged for q in self.questions]

    def metrics(self) -> Metrics:
        """The headline metrics at the run's threshold."""
        return summarise(self.judged(), threshold=self.config.threshold)


def from_eval(run: EvalRun, *, kb: str, questions_file: str, version: str) -> SavedRun:
    """Turn a harness run into a :class:`SavedRun` (threshold taken from ``run.metrics``)."""
    questions = tuple(
        SavedQuestion(
            question=r.labeled.question,
            gold=r.labeled.gold,
            returned=tuple(Returned(a.entry_id, a.question, a.confidence) for a in r.result.answers),
            judged=r.judged,
        )
        for r in run.records
    )
    config = RunConfig(kb=kb, questions_file=questions_file, threshold=run.metrics.threshold, version=version)
    return SavedRun(config, questions)


def dumps(run: SavedRun) -> str:
    """The run as JSON text, one question per line so that diffs of run files stay readable."""
    head = json.dumps({"format": FORMAT, "config": vars(run.config)}, ensure_ascii=False)
    lines = ",\n".join(json.dumps(_question_json(q), ensure_ascii=False) for q in run.questions)
    return f'{head[:-1]}, "questions": [\n{lines}\n]}}\n'


def _question_json(q: SavedQuestion) -> dict[str, object]:
    return {
        "q": q.question,
        "gold": list(q.gold),
        "returned": [vars(r) for r in q.returned],
        "judged": {
            "in_scope": q.judged.in_scope,
            "hits": list(q.judged.hits),
            "confidence": q.judged.confidence,
        },
    }


def loads(text: str, *, source: str) -> SavedRun:
    """Parse a run file written by :func:`dumps`.

    Args:
        text: the file's content.
        source: the file name, for error messages.

    Raises:
        IngestError: not JSON, another ``format``, or a field missing or of the wrong type.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IngestError(f"not a run file: invalid JSON ({exc.msg} at line {exc.lineno})", file=source) from exc
    try:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise IngestError(
                f"run file format {found!r} is not {FORMAT}; write it again with "
                "'faqtual eval QUESTIONS --save-run FILE'",
                file=source,
            )
        c = data["config"]
        config = RunConfig(
            kb=_str(c["kb"]),
            questions_file=_str(c["questions_file"]),
            threshold=_float(c["threshold"]),
            version=_str(c["version"]),
        )
        questions = tuple(_question(q) for q in _list(data["questions"]))
    except (KeyError, TypeError) as exc:
        raise IngestError(f"not a run file: missing or malformed field {exc}", file=source) from exc
    return SavedRun(config, questions)


def _question(data: object) -> SavedQuestion:
    if not isinstance(data, dict):
        raise TypeError("question")
    judged = data["judged"]
    if not isinstance(judged, dict):
        raise TypeError("judged")
    return SavedQuestion(
        question=_str(data["q"]),
        gold=tuple(_str(g) for g in _list(data["gold"])),
        returned=tuple(_returned(r) for r in _list(data["returned"])),
        judged=Judged(
            in_scope=_bool(judged["in_scope"]),
            hits=tuple(_bool(h) for h in _list(judged["hits"])),
            confidence=_float(judged["confidence"]),
        ),
    )


def _returned(data: object) -> Returned:
    if not isinstance(data, dict):
        raise TypeError("returned")
    return Returned(_str(data["entry_id"]), _str(data["question"]), _float(data["confidence"]))


def _list(value: object) -> Sequence[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r:.40}")
    return value


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r:.40}")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true/false, got {value!r:.40}")
    return value


def _float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r:.40}")
    return float(value)
