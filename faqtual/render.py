"""Plain-text rendering of results for the terminal. Pure: returns strings."""

from __future__ import annotations

import textwrap

from faqtual.eval.metrics import Metrics, RiskCoveragePoint
from faqtual.models import AskResult, FaqEntry, IngestReport


def confidence_words(confidence: float, *, threshold: float) -> str:
    """How sure the answer is, in words a patient understands."""
    if confidence >= max(0.85, threshold):
        return "Good match"
    if confidence >= threshold:
        return "Possible match"
    return "Not sure"


def _wrap(text: str, indent: str = "  ") -> str:
    paragraphs = text.split("\n\n")
    return "\n\n".join(textwrap.fill(p, width=88, initial_indent=indent, subsequent_indent=indent) for p in paragraphs)


#: The banner above a safety rule's message, by disposition.
SAFETY_BANNERS = {
    "emergency": "!!! EMERGENCY: GET HELP NOW !!!",
    "see-a-clinician": "!! PLEASE SEE A CLINICIAN !!",
    "out-of-scope": "! NOT SOMETHING THIS FAQ CAN ANSWER !",
}


def ask_result(result: AskResult, *, threshold: float) -> str:
    """A readable answer, or the no-answer message with the closest questions.

    A safety hit is shown alone, under a banner, instead of any answer.
    """
    lines: list[str] = []
    if result.safety is not None:
        banner = SAFETY_BANNERS[result.safety.disposition.value]
        rule = "=" * len(banner)
        lines.extend([rule, banner, rule, "", _wrap(result.safety.message, indent=""), ""])
        lines.append(f"(safety rule: {result.safety.rule})")
    elif result.answered:
        best = result.answers[0]
        lines.append(f"Q: {best.question}")
        lines.append("")
        lines.append(_wrap(best.answer))
        lines.append("")
        words = confidence_words(best.confidence, threshold=threshold)
        lines.append(f"Confidence: {words} ({best.confidence:.2f})")
        lines.append(f"Source: {best.source or 'not given'}" + (f" <{best.url}>" if best.url else ""))
        near = [a for a in result.answers if a.entry_id in result.did_you_mean]
        if near:
            lines.append("")
            lines.append("Did you mean:")
            lines.extend(f"  - {a.question} ({a.confidence:.2f})" for a in near)
        if result.related:
            lines.append("")
            lines.append("Related questions:")
            lines.extend(f"  - {q}" for q in result.related)
    else:
        lines.append(result.message or "No answer.")
        if result.answers:
            lines.append("")
            lines.append("Closest questions in this FAQ:")
            lines.extend(f"  - {a.question} ({a.confidence:.2f})" for a in result.answers)
    if result.disclaimer:
        lines.append("")
        lines.append(result.disclaimer)
    return "\n".join(lines)


def ingest_report(report: IngestReport) -> str:
    """The ingest summary: added, merged, flagged, rejected, with the details."""
    lines = [
        f"Ingested {', '.join(report.files)} into {report.kb_path} (KB version {report.kb_version}).",
        f"  added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"removed {report.removed}, merged {report.merged}, flagged {len(report.flags)}, "
        f"rejected {len(report.rejected)}; embedded {report.embedded} new texts.",
    ]
    if report.flags:
        lines.append("Flagged for review:")
        lines.extend(f"  {f}" for f in report.flags)
    if report.rejected:
        lines.append("Rejected:")
        lines.extend(f"  {r}" for r in report.rejected)
    return "\n".join(lines)


def entry_line(entry: FaqEntry) -> str:
    """One line per entry for listings."""
    extra = f" (+{len(entry.alternates)} alternates)" if entry.alternates else ""
    return f"{entry.id}\t{entry.question}{extra}"


def entry_detail(entry: FaqEntry) -> str:
    """Everything about one entry."""
    lines = [f"id:        {entry.id}", f"question:  {entry.question}"]
    lines.extend(f"alternate: {a}" for a in entry.alternates)
    lines.append(f"source:    {entry.source or '-'}")
    if entry.url:
        lines.append(f"url:       {entry.url}")
    if entry.tags:
        lines.append(f"tags:      {', '.join(entry.tags)}")
    lines.append(f"from:      {', '.join(str(p) for p in entry.provenance) or '-'}")
    lines.append("")
    lines.append(_wrap(entry.answer, indent=""))
    return "\n".join(lines)


def metrics(m: Metrics, curve: list[RiskCoveragePoint]) -> str:
    """The evaluation summary and the risk-coverage table."""
    lines = [
        f"questions            {m.questions} ({m.in_scope} in scope, {m.out_of_scope} out of scope)",
        f"top-1 accuracy       {m.top1:.3f}   (in-scope questions)",
        f"MRR@5                {m.mrr5:.3f}",
        f"MRR@10               {m.mrr10:.3f}",
        f"threshold            {m.threshold:.3f}",
        f"precision answered   {m.precision_answered:.3f}",
        f"coverage             {m.coverage:.3f}   (in-scope questions answered)",
        f"abstention accuracy  {m.abstention_accuracy:.3f}   (out-of-scope questions abstained on)",
        f"handled right        {m.handled:.3f}   (right answer, or no answer when none exists)",
        "",
        "risk-coverage:  threshold  answered  precision",
    ]
    lines.extend(f"                {p.threshold:9.2f}  {p.answered:8.3f}  {p.precision:9.3f}" for p in curve)
    return "\n".join(lines)
