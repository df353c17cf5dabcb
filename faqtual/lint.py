"""Knowledge-base lint: problems a curator should fix before publishing a KB.

Each check is a pure function of the entries (and their embeddings, where
meaning matters) that returns :class:`Finding` objects. :func:`lint` runs them
all. Severities:

- **error** (``faqtual lint`` exits 1): ``duplicate-question`` (the same
  question in two entries), ``duplicate-answer`` (the same answer text in two
  entries), ``truncated-answer`` (an answer cut off mid-sentence),
  ``citation-residue`` (citation markers left in an answer) and a strong
  ``off-topic-answer`` (the answer fits other entries' questions better than
  its own, far below the KB's usual question-answer similarity).
- **warning**: near-duplicate and confusable questions, shared answer
  sentences, weaker off-topic signals, openings that do not give what the
  question asks for, answers that lean on missing context, missing sources,
  over-long answers, entries no labelled question retrieves, and citation
  markers the ingest stripped.
- **info**: repairs the ingest made that need no action (merged duplicates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from faqtual.models import FaqEntry, Flag, Provenance
from faqtual.retrieval.embed import Embedder
from faqtual.retrieval.lexicon import intents
from faqtual.text import dangling_fragment, normalize_text, sentences, strip_citations, words

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Finding:
    """One problem found in a KB, with the entries and places it concerns."""

    severity: Severity
    code: str
    entry_ids: tuple[str, ...]
    message: str
    provenance: tuple[Provenance, ...] = ()

    def to_json(self) -> dict[str, object]:
        """The finding as plain data (one line of ``faqtual lint --json``)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "entry_ids": list(self.entry_ids),
            "message": self.message,
            "provenance": [str(p) for p in self.provenance],
        }


@dataclass(frozen=True)
class Limits:
    """The thresholds of the checks (cosines are for all-MiniLM-L6-v2).

    The defaults were set on the seed FAQ and the packaged synkinesis KB: the
    seed's injection-site answer scores z = -4.2 and fits four other questions
    better; the packaged KB's worst answer scores z = -3.0.
    """

    near_duplicate_question: float = 0.95
    confusable_question: float = 0.9
    same_answer: float = 0.9
    near_duplicate_answer: float = 0.95
    shared_sentence_chars: int = 40
    off_topic_warning_z: float = -3.0
    off_topic_error_z: float = -3.5
    off_topic_error_better: int = 2
    long_answer_words: int = 250
    retrieved_top: int = 3


@dataclass(frozen=True)
class KbVectors:
    """Embeddings of a KB's texts: every question of each entry, and each answer."""

    questions: tuple[Vectors, ...]
    answers: Vectors

    @classmethod
    def of(cls, entries: Sequence[FaqEntry], embedder: Embedder) -> KbVectors:
        """Embed ``entries`` with ``embedder`` (one call)."""
        texts = [q for e in entries for q in e.questions] + [e.answer for e in entries]
        vectors = embedder.embed(texts)
        out, start = [], 0
        for entry in entries:
            out.append(vectors[start : start + len(entry.questions)])
            start += len(entry.questions)
        return cls(tuple(out), vectors[start:])


def _finding(severity: Severity, code: str, entries: Iterable[FaqEntry], message: str) -> Finding:
    chosen = list(entries)
    provenance = tuple(dict.fromkeys(p for e in chosen for p in e.provenance))
    return Finding(severity, code, tuple(e.id for e in chosen), message, provenance)


def _key(text: str) -> str:
    return " ".join(words(text))


# -- questions -----------------------------------------------------------------


def duplicate_questions(entries: Sequence[FaqEntry], vectors: KbVectors, *, limits: Limits) -> list[Finding]:
    """Questions shared by two entries: exact (error), near-duplicate or confusable (warnings).

    A pair is confusable when two questions are close (cosine at least
    ``limits.confusable_question``) while the answers differ (cosine below
    ``limits.same_answer``): a patient's question may find either.
    """
    found: list[Finding] = []
    for i, a in enumerate(entries):
        for j in range(i + 1, len(entries)):
            b = entries[j]
            shared = sorted({_key(q) for q in a.questions} & {_key(q) for q in b.questions})
            if shared:
                found.append(
                    _finding(
                        "error",
                        "duplicate-question",
                        (a, b),
                        f"both entries have the question {shared[0]!r}; keep it in one of them",
                    )
                )
                continue
            sims = vectors.questions[i] @ vectors.questions[j].T
            x, y = np.unravel_index(int(np.argmax(sims)), sims.shape)
            best = float(sims[x, y])
            pair = f"{a.questions[x]!r} and {b.questions[y]!r}"
            if best >= limits.near_duplicate_question:
                found.append(
                    _finding(
                        "warning",
                        "near-duplicate-question",
                        (a, b),
                        f"{pair} ask nearly the same thing (cosine {best:.2f});"
                        f" merge the entries or make the questions distinct",
                    )
                )
            elif (
                best >= limits.confusable_question
                and float(vectors.answers[i] @ vectors.answers[j]) < limits.same_answer
            ):
                found.append(
                    _finding(
                        "warning",
                        "confusable-questions",
                        (a, b),
                        f"{pair} are close (cosine {best:.2f}) but their answers differ;"
                        f" a question may find the wrong one, so word them more distinctly or add alternates",
                    )
                )
    return found


# -- does the answer answer its question? --------------------------------------

# What an answer's first sentence needs when the question asks "how long" or "where".
_CUES = {
    "duration": re.compile(
        r"\b(?:\d+|one|two|three|four|five|six|a few|several|many|some)\s*(?:(?:-|\u2013|to)\s*\d+\s*)?"
        r"(?:hours?|days?|weeks?|months?|years?)\b|\bpermanent\w*|\blong-lasting\b|\blasts?\b|\bwears? off\b"
        r"|\bfor life\b|\bforever\b|\bgo(?:es)? away\b",
        re.IGNORECASE,
    ),
    "location": re.compile(
        r"\b(?:sides?|muscles?|into|around|near|under|above|below|places?|sites?|areas?|forehead|chin|neck"
        r"|cheeks?|eyes?|eyelids?|mouth|lips?|brows?|jaw)\b",
        re.IGNORECASE,
    ),
}
# An opening that leans on text that is not there ("He then determines ...").
_NEEDS_CONTEXT = re.compile(
    r"^(?:he|she|his|her|him|they then|this is why|these|as (?:mentioned|noted) above)\b", re.IGNORECASE
)


def off_topic_answers(entries: Sequence[FaqEntry], vectors: KbVectors, *, limits: Limits) -> list[Finding]:
    """Answers that do not address their own questions, judged against the KB's other pairs.

    An entry's relevance is the best cosine between any of its questions and
    its answer; it is compared with the KB's median and spread (a robust z
    score) and with how many other entries' questions fit the answer better.
    """
    if len(entries) < 4:
        return []  # too few pairs to know what "usual" is
    own = np.array([float((vectors.questions[i] @ vectors.answers[i]).max()) for i in range(len(entries))])
    median = float(np.median(own))
    spread = 1.4826 * float(np.median(np.abs(own - median))) or 1e-6  # MAD as a robust standard deviation
    found: list[Finding] = []
    for i, entry in enumerate(entries):
        z = (own[i] - median) / spread
        better = [
            other.question
            for j, other in enumerate(entries)
            if j != i and float((vectors.questions[j] @ vectors.answers[i]).max()) > own[i]
        ]
        strong = z <= limits.off_topic_error_z and len(better) >= limits.off_topic_error_better
        if strong or (z <= limits.off_topic_warning_z and better):
            found.append(
                _finding(
                    "error" if strong else "warning",
                    "off-topic-answer",
                    (entry,),
                    f"the answer to {entry.question!r} does not seem to answer it (similarity {own[i]:.2f}, "
                    f"KB median {median:.2f}, z {z:.1f}); it fits {len(better)} other question(s) better, "
                    f"such as {better[0]!r}",
                )
            )
    return found


def answer_openings(entries: Sequence[FaqEntry]) -> list[Finding]:
    """Answers whose first sentence does not give what a "how long"/"where" question asks for,
    or that open by leaning on missing context (warnings)."""
    found: list[Finding] = []
    for entry in entries:
        opening = next(iter(sentences(entry.answer)), entry.answer)
        if _NEEDS_CONTEXT.match(opening):
            found.append(
                _finding(
                    "warning",
                    "answer-needs-context",
                    (entry,),
                    f"the answer to {entry.question!r} opens with {opening[:40]!r}, "
                    "which refers to text that "
                    f"is not there",
                )
            )
        for kind in sorted(intents(entry.question) & _CUES.keys()):
            if not _CUES[kind].search(opening):
                asked = "how long" if kind == "duration" else "where"
                found.append(
                    _finding(
                        "warning",
                        "opening-misses-question",
                        (entry,),
                        f"{entry.question!r} asks {asked}, but the answer's first sentence does not say "
                        f"({opening[:60]!r}...); put the direct answer first",
                    )
                )
    return found


# -- answers -------------------------------------------------------------------


def duplicate_answers(entries: Sequence[FaqEntry], vectors: KbVectors, *, limits: Limits) -> list[Finding]:
    """The same answer in two entries (error), a near-duplicate one or a shared sentence (warnings)."""
    found: list[Finding] = []
    keys = [_key(e.answer) for e in entries]
    shared_sentences = [
        {_key(s): s for s in sentences(strip_citations(e.answer)[0]) if len(s) >= limits.shared_sentence_chars}
        for e in entries
    ]
    for i, a in enumerate(entries):
        for j in range(i + 1, len(entries)):
            b = entries[j]
            if keys[i] == keys[j]:
                found.append(
                    _finding(
                        "error",
                        "duplicate-answer",
                        (a, b),
                        f"{a.question!r} and {b.question!r} have the same answer;"
                        f" merge them (one entry with alternates)",
                    )
                )
                continue
            similarity = float(vectors.answers[i] @ vectors.answers[j])
            common = [text for key, text in shared_sentences[i].items() if key in shared_sentences[j]]
            if similarity >= limits.near_duplicate_answer:
                found.append(
                    _finding(
                        "warning",
                        "near-duplicate-answer",
                        (a, b),
                        f"the answers to {a.question!r} and {b.question!r} "
                        f"say nearly the same (cosine {similarity:.2f});"
                        f" merge them or make each answer its own question",
                    )
                )
            elif common:
                sentence = min(common, key=len)
                found.append(
                    _finding(
                        "warning",
                        "duplicate-answer",
                        (a, b),
                        f"the answers to {a.question!r} and {b.question!r} "
                        f"share {len(common)} sentence(s), such as {sentence[:80]!r};"
                        f" check that each answers its own question",
                    )
                )
    return found


def answer_text(entries: Sequence[FaqEntry], flags: Sequence[Flag] = (), *, limits: Limits) -> list[Finding]:
    """Truncated answers, citation residue and over-long answers.

    ``flags`` are the ingest's flags (:func:`faqtual.ingest.prepare`); they
    name repairs the stored text no longer shows.
    """
    found: list[Finding] = []
    by_place = {p: e for e in entries for p in e.provenance}
    for flag in flags:
        entry = by_place.get(flag.provenance)
        if entry is None:
            continue
        if flag.code == "dangling-fragment":
            found.append(
                _finding(
                    "error",
                    "truncated-answer",
                    (entry,),
                    f"the answer to {entry.question!r} was cut off in the source: {flag.message}",
                )
            )
        elif flag.code == "citation-stripped":
            found.append(
                _finding(
                    "warning",
                    "citation-residue",
                    (entry,),
                    f"the answer to {entry.question!r} had citation markers in the source ({flag.message});"
                    f" check it reads well without them",
                )
            )
        elif flag.code == "merged-duplicate-answer":
            found.append(_finding("info", "merged-duplicate-answer", (entry,), flag.message))
    for entry in entries:
        answer = entry.answer.rstrip()
        fragment = dangling_fragment(answer)
        if fragment:
            found.append(
                _finding(
                    "error",
                    "truncated-answer",
                    (entry,),
                    f"the answer to {entry.question!r} ends with the fragment {fragment!r}; restore the missing text",
                )
            )
        elif answer and answer[-1] not in ".!?)\"'":
            found.append(
                _finding(
                    "warning",
                    "truncated-answer",
                    (entry,),
                    f"the answer to {entry.question!r} does not end a sentence ({answer[-40:]!r})",
                )
            )
        markers = strip_citations(answer)[1]
        if markers:
            found.append(
                _finding(
                    "error",
                    "citation-residue",
                    (entry,),
                    f"the answer to {entry.question!r} still holds {markers} citation marker(s) "
                    "such as '(8-10)';"
                    f" remove them",
                )
            )
        count = len(normalize_text(answer).split())
        if count > limits.long_answer_words:
            found.append(
                _finding(
                    "warning",
                    "long-answer",
                    (entry,),
                    f"the answer to {entry.question!r} has {count} words (limit {limits.long_answer_words});"
                    f" shorten it or split the entry",
                )
            )
    return found


def missing_sources(entries: Sequence[FaqEntry]) -> list[Finding]:
    """Entries with neither a source nor a URL: one warning naming them all (reviewers cannot check them)."""
    missing = [e for e in entries if not (e.source or e.url)]
    if not missing:
        return []
    examples = ", ".join(repr(e.question) for e in missing[:3]) + (", ..." if len(missing) > 3 else "")
    return [
        _finding(
            "warning",
            "missing-source",
            missing,
            f"{len(missing)} of {len(entries)} entries name no source ({examples}); add 'source:' or a URL to each",
        )
    ]


def never_retrieved(entries: Sequence[FaqEntry], retrieved: Sequence[Sequence[str]], *, top: int) -> list[Finding]:
    """Entries that no labelled question retrieves in its top ``top`` (warnings).

    Args:
        entries: the KB's entries.
        retrieved: for each labelled question, the entry ids ranked best first.
        top: how many ranks count as retrieved.
    """
    seen = {entry_id for ranked in retrieved for entry_id in ranked[:top]}
    return [
        _finding(
            "warning",
            "never-retrieved",
            (e,),
            f"no labelled question finds {e.question!r} in its top {top}; add alternates or check the answer",
        )
        for e in entries
        if e.id not in seen
    ]


def lint(
    entries: Sequence[FaqEntry],
    vectors: KbVectors,
    *,
    flags: Sequence[Flag] = (),
    retrieved: Sequence[Sequence[str]] | None = None,
    limits: Limits | None = None,
) -> list[Finding]:
    """Run every check; findings come errors first, then warnings, then info, each in check order.

    Args:
        entries: the KB's entries.
        vectors: their embeddings (:meth:`KbVectors.of`).
        flags: the ingest's flags when linting source files.
        retrieved: ranked entry ids per labelled question; ``None`` skips ``never-retrieved``.
        limits: the checks' thresholds.
    """
    limits = limits or Limits()
    findings = [
        *duplicate_questions(entries, vectors, limits=limits),
        *duplicate_answers(entries, vectors, limits=limits),
        *off_topic_answers(entries, vectors, limits=limits),
        *answer_openings(entries),
        *answer_text(entries, flags, limits=limits),
        *missing_sources(entries),
    ]
    if retrieved is not None:
        findings += never_retrieved(entries, retrieved, top=limits.retrieved_top)
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))


def report(findings: Sequence[Finding], *, entries: int) -> str:
    """Findings as text, grouped by severity, with a one-line summary at the end."""
    lines: list[str] = []
    for severity in SEVERITIES:
        chosen = [f for f in findings if f.severity == severity]
        if not chosen:
            continue
        lines.append(f"{severity.upper()}S ({len(chosen)})" if severity != "info" else f"INFO ({len(chosen)})")
        for f in chosen:
            where = ", ".join(str(p) for p in f.provenance[:2]) or ", ".join(f.entry_ids)
            lines.append(f"  {f.code}  [{where}]")
            lines.append(f"    {f.message}")
        lines.append("")
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    lines.append(
        f"{entries} entries: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info."
    )
    return "\n".join(lines)
