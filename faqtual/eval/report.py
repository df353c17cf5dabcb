"""The evaluation report: one self-contained HTML page from a saved run.

Pure: :class:`~faqtual.eval.runfile.SavedRun` in, an HTML string out. The page
has inline CSS and inline SVG charts drawn here (no scripts, nothing fetched),
so it can be mailed or opened from disk. Every piece of text from a run goes
through :func:`html.escape`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

from faqtual.eval.metrics import (
    Judged,
    Metrics,
    ReliabilityBin,
    RiskCoveragePoint,
    expected_calibration_error,
    reliability,
    risk_coverage,
)
from faqtual.eval.runfile import SavedQuestion, SavedRun

Outcome = Literal["right", "wrong answer", "right answer withheld", "missed", "out of scope answered", "abstained"]

#: Outcomes listed under "questions that went wrong", worst first.
WRONG: tuple[Outcome, ...] = ("wrong answer", "out of scope answered", "right answer withheld", "missed")
_GOOD: frozenset[Outcome] = frozenset({"right", "abstained"})
_EXPLAIN: dict[Outcome, str] = {
    "right": "right answer given",
    "wrong answer": "a wrong answer was given",
    "right answer withheld": "the top candidate was right but below the threshold",
    "missed": "withheld, and the top candidate was wrong anyway",
    "out of scope answered": "answered a question the KB should not answer",
    "abstained": "rightly abstained on an out-of-scope question",
}
#: Thresholds for the risk-coverage curve: a fine grid, enough for a smooth line.
CURVE_THRESHOLDS = tuple(i / 100 for i in range(101))
#: (label, Metrics field) in the order the page shows them; all are higher-is-better.
_HEADLINE = (
    ("top-1", "top1"),
    ("MRR@10", "mrr10"),
    ("precision answered", "precision_answered"),
    ("coverage", "coverage"),
    ("abstention accuracy", "abstention_accuracy"),
    ("handled right", "handled"),
)
_COLORS = ("#1f5fa8", "#d9731a")


def outcome(judged: Judged, *, threshold: float) -> Outcome:
    """What happened to one question when answers below ``threshold`` are withheld."""
    answered = judged.confidence >= threshold
    top_right = bool(judged.hits) and judged.hits[0]
    if not judged.in_scope:
        return "out of scope answered" if answered else "abstained"
    if answered:
        return "right" if top_right else "wrong answer"
    return "right answer withheld" if top_right else "missed"


@dataclass(frozen=True)
class Change:
    """A question whose outcome differs between a baseline run and this run."""

    question: str
    before: Outcome
    after: Outcome

    @property
    def verdict(self) -> Literal["better", "worse", "different"]:
        """Whether the change fixed, broke or just moved a question (e.g. wrong -> withheld)."""
        if self.after in _GOOD:
            return "better"
        if self.before in _GOOD:
            return "worse"
        return "different"


def changes(current: SavedRun, baseline: SavedRun) -> list[Change]:
    """Questions asked in both runs whose outcome changed, in ``current``'s order.

    Questions are matched by text (the n-th repeat of a text with the n-th);
    questions in only one run are left out.
    """
    before: dict[tuple[str, int], Outcome] = {}
    seen: Counter[str] = Counter()
    for q in baseline.questions:
        before[(q.question, seen[q.question])] = outcome(q.judged, threshold=baseline.config.threshold)
        seen[q.question] += 1
    out = []
    seen.clear()
    for q in current.questions:
        key = (q.question, seen[q.question])
        seen[q.question] += 1
        after = outcome(q.judged, threshold=current.config.threshold)
        if key in before and before[key] != after:
            out.append(Change(q.question, before[key], after))
    return out


# -- charts ---------------------------------------------------------------------

_W, _H, _L, _R, _T, _B = 480, 340, 52, 16, 16, 46


def _x(v: float) -> float:
    return round(_L + v * (_W - _L - _R), 1)


def _y(v: float) -> float:
    return round(_H - _B - v * (_H - _T - _B), 1)


def _axes(x_label: str, y_label: str) -> list[str]:
    parts = []
    for i in range(6):
        v = i / 5
        parts.append(f'<line x1="{_x(0)}" y1="{_y(v)}" x2="{_x(1)}" y2="{_y(v)}" class="grid"/>')
        parts.append(f'<text x="{_L - 6}" y="{_y(v) + 4}" text-anchor="end">{v:.1f}</text>')
        parts.append(f'<text x="{_x(v)}" y="{_H - _B + 16}" text-anchor="middle">{v:.1f}</text>')
    parts.append(f'<rect x="{_x(0)}" y="{_y(1)}" width="{_x(1) - _x(0)}" height="{_y(0) - _y(1)}" class="frame"/>')
    parts.append(f'<text x="{(_x(0) + _x(1)) / 2}" y="{_H - 8}" text-anchor="middle">{escape(x_label)}</text>')
    mid = (_y(0) + _y(1)) / 2
    parts.append(
        f'<text x="14" y="{mid}" text-anchor="middle" transform="rotate(-90 14 {mid})">{escape(y_label)}</text>'
    )
    return parts


@dataclass(frozen=True)
class CurveSeries:
    """One run's risk-coverage curve and the point at its threshold."""

    label: str
    points: tuple[RiskCoveragePoint, ...]
    at_threshold: RiskCoveragePoint


def curve_series(run: SavedRun, *, label: str) -> CurveSeries:
    """The risk-coverage curve of ``run`` over :data:`CURVE_THRESHOLDS`, and its threshold point."""
    judged = run.judged()
    points = risk_coverage(judged, thresholds=CURVE_THRESHOLDS)
    (mark,) = risk_coverage(judged, thresholds=[run.config.threshold])
    return CurveSeries(label, tuple(points), mark)


def risk_coverage_svg(series: Sequence[CurveSeries]) -> str:
    """Precision against the share of questions answered, one line per series, threshold circled."""
    parts = _axes("share of questions answered", "precision of the answers")
    # Drawn last = on top: the first series (this run) must stay visible where the curves overlap.
    for i, s in reversed(list(enumerate(series))):
        color = _COLORS[i % len(_COLORS)]
        # Where nothing is answered precision is undefined: leave those points out.
        drawn = sorted((p for p in s.points if p.answered > 0), key=lambda p: (p.answered, -p.threshold))
        path = " ".join(f"{_x(p.answered)},{_y(p.precision)}" for p in drawn)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        m = s.at_threshold
        parts.append(
            f'<circle cx="{_x(m.answered)}" cy="{_y(m.precision)}" r="5" fill="white" '
            f'stroke="{color}" stroke-width="2.5"/>'
        )
        legend_y = _H - _B - 14 - 30 * (len(series) - 1 - i)
        label = f"threshold {m.threshold:.2f}: {m.answered:.0%} answered, {m.precision:.0%} right"
        parts.append(f'<rect x="{_L + 10}" y="{legend_y - 19}" width="14" height="3" fill="{color}"/>')
        parts.append(f'<text x="{_L + 30}" y="{legend_y - 14}">{escape(s.label)}</text>')
        parts.append(f'<text x="{_L + 30}" y="{legend_y}" fill="{color}">{escape(label)}</text>')
    return _svg("Risk–coverage curve", parts)


def reliability_svg(bins: Sequence[ReliabilityBin]) -> str:
    """Accuracy per confidence bin as bars, the diagonal of perfect calibration, and bin counts."""
    parts = _axes("confidence of the top answer (numbers: questions per bin)", "share of top answers right")
    parts.append(f'<line x1="{_x(0)}" y1="{_y(0)}" x2="{_x(1)}" y2="{_y(1)}" class="diagonal"/>')
    for b in bins:
        x0, x1 = _x(b.low) + 2, _x(b.high) - 2
        mid = (x0 + x1) / 2
        if b.count:
            top = _y(b.accuracy)
            parts.append(
                f'<rect x="{x0}" y="{top}" width="{round(x1 - x0, 1)}" height="{round(_y(0) - top, 1)}" '
                f'class="bar"><title>{b.low:.1f}–{b.high:.1f}: {b.count} questions, mean confidence '
                f"{b.mean_confidence:.2f}, {b.accuracy:.0%} right</title></rect>"
            )
            parts.append(
                f'<line x1="{_x(b.mean_confidence)}" y1="{_y(b.mean_confidence)}" '
                f'x2="{_x(b.mean_confidence)}" y2="{top}" class="gap"/>'
            )
        parts.append(
            f'<text x="{mid}" y="{_y(0) - 4 if not b.count else min(_y(b.accuracy) - 4, _y(0) - 4)}" '
            f'text-anchor="middle" class="count">{b.count}</text>'
        )
    return _svg("Reliability diagram", parts)


def _svg(title: str, parts: list[str]) -> str:
    body = "\n".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>\n{body}\n</svg>'
    )


# -- page -------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430}
body{margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.config{color:#5b6575;margin:0 0 16px}
.config code{background:#f1f3f7;padding:1px 4px;border-radius:3px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{flex:1 1 100px;border:1px solid #dde2ea;border-radius:6px;padding:8px 12px}
.card b{display:block;font-size:22px}
.card span{color:#5b6575;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:20px}
.chart p{color:#5b6575;margin:4px 0;max-width:480px}
svg text{font-size:11px;fill:#3a4352}
svg .grid{stroke:#eef0f4}
svg .frame{fill:none;stroke:#b9c0cc}
svg .diagonal{stroke:#9aa3b0;stroke-dasharray:4 4}
svg .bar{fill:#9cc0e8;stroke:#1f5fa8}
svg .gap{stroke:#c0392b;stroke-width:2;stroke-opacity:.7}
svg .count{fill:#5b6575}
table{border-collapse:collapse;width:100%;margin:6px 0}
th,td{text-align:left;vertical-align:top;padding:5px 8px;border-bottom:1px solid #e6e9ef}
th{background:#f6f7f9;font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
.muted{color:#6b7585}
.tag{font-size:12px;padding:1px 6px;border-radius:9px;white-space:nowrap}
.bad{background:#fde2e0;color:#922}
.meh{background:#fff1d6;color:#7a5200}
.ok{background:#dff3e4;color:#16642e}
.better{color:#16642e}
.worse{color:#a02222}
"""


def _pct(v: float) -> str:
    return f"{v:.3f}"


def _headline(m: Metrics, ece: float) -> str:
    cards = [
        f'<div class="card"><b>{_pct(getattr(m, f))}</b><span>{escape(label)}</span></div>' for label, f in _HEADLINE
    ]
    cards.append(f'<div class="card"><b>{ece:.3f}</b><span>calibration error (ECE), lower is better</span></div>')
    return '<div class="cards">' + "".join(cards) + "</div>"


def _metric_rows(m: Metrics, ece: float) -> list[tuple[str, float]]:
    return [(label, float(getattr(m, f))) for label, f in _HEADLINE] + [("calibration error (ECE)", ece)]


def _diff_table(current: SavedRun, baseline: SavedRun, labels: tuple[str, str]) -> str:
    now = _metric_rows(current.metrics(), expected_calibration_error(current.judged()))
    then = _metric_rows(baseline.metrics(), expected_calibration_error(baseline.judged()))
    rows = []
    for (label, a), (_, b) in zip(now, then, strict=True):
        delta = a - b
        lower_better = label.startswith("calibration")
        cls = "" if abs(delta) < 5e-4 else ("better" if (delta < 0) == lower_better else "worse")
        rows.append(
            f"<tr><td>{escape(label)}</td><td class=num>{b:.3f}</td><td class=num>{a:.3f}</td>"
            f'<td class="num {cls}">{delta:+.3f}</td></tr>'
        )
    extra = [
        ("threshold", baseline.config.threshold, current.config.threshold),
        ("questions", float(len(baseline.questions)), float(len(current.questions))),
    ]
    for label, b, a in extra:
        fmt = "{:.0f}" if label == "questions" else "{:.3f}"
        rows.append(
            f"<tr><td>{escape(label)}</td><td class=num>{fmt.format(b)}</td>"
            f"<td class=num>{fmt.format(a)}</td>"
            f"<td class=num>{a - b:+.3f}</td></tr>"
        )
    head = (
        f"<tr><th>metric</th><th class=num>{escape(labels[1])}</th><th class=num>{escape(labels[0])}</th>"
        "<th class=num>change</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _tag(o: Outcome) -> str:
    cls = "ok" if o in _GOOD else ("meh" if o in ("right answer withheld", "missed") else "bad")
    return f'<span class="tag {cls}" title="{escape(_EXPLAIN[o])}">{escape(o)}</span>'


def _right_rank(q: SavedQuestion) -> str:
    for rank, hit in enumerate(q.judged.hits, 1):
        if hit:
            return f"rank {rank}"
    return "not in the candidates" if q.gold else "—"


def _wrong_table(run: SavedRun) -> str:
    t = run.config.threshold
    wrong = [(outcome(q.judged, threshold=t), q) for q in run.questions]
    wrong = [(o, q) for o, q in wrong if o in WRONG]
    if not wrong:
        return '<p class="muted">Nothing went wrong at this threshold.</p>'
    wrong.sort(key=lambda oq: (WRONG.index(oq[0]), -oq[1].judged.confidence))
    rows = []
    for o, q in wrong:
        top = q.returned[0] if q.returned else None
        got = (
            f'{escape(top.question)}<br><span class="muted">{escape(top.entry_id)}</span>'
            if top
            else '<span class="muted">nothing</span>'
        )
        gold = "<br>".join(escape(g) for g in q.gold) or '<span class="muted">(none: should abstain)</span>'
        rows.append(
            f"<tr><td>{_tag(o)}</td><td>{escape(q.question)}</td><td>{got}</td>"
            f"<td class=num>{q.judged.confidence:.3f}</td><td>{gold}</td>"
            f"<td>{escape(_right_rank(q))}</td></tr>"
        )
    head = (
        "<tr><th>outcome</th><th style=width:30%>question</th>"
        "<th style=width:25%>top candidate returned</th>"
        "<th class=num>confidence</th><th style=width:22%>gold</th><th>right answer at</th></tr>"
    )
    counts = Counter(o for o, _ in wrong)
    summary = ", ".join(f"{counts[o]} {escape(o)}" for o in WRONG if counts[o])
    return f"<p>{summary}.</p><table>{head}{''.join(rows)}</table>"


def _changes_table(found: Sequence[Change], labels: tuple[str, str]) -> str:
    if not found:
        return '<p class="muted">No question changed outcome.</p>'
    verdicts = Counter(c.verdict for c in found)
    summary = ", ".join(f"{verdicts[v]} {v}" for v in ("better", "worse", "different") if verdicts[v])
    order = {"worse": 0, "better": 1, "different": 2}
    rows = [
        f'<tr><td class="{c.verdict}">{c.verdict}</td><td>{escape(c.question)}</td>'
        f"<td>{_tag(c.before)}</td><td>{_tag(c.after)}</td></tr>"
        for c in sorted(found, key=lambda c: order[c.verdict])
    ]
    head = f"<tr><th>change</th><th>question</th><th>{escape(labels[1])}</th><th>{escape(labels[0])}</th></tr>"
    return f"<p>{summary}.</p><table>{head}{''.join(rows)}</table>"


def render_report(
    run: SavedRun,
    *,
    baseline: SavedRun | None = None,
    labels: tuple[str, str] = ("this run", "baseline"),
    title: str = "faqtual evaluation",
) -> str:
    """The whole report page for ``run``, side by side with ``baseline`` when given.

    Args:
        run: the run to report on.
        baseline: an earlier run to compare with (``faqtual eval --compare``).
        labels: how to call ``run`` and ``baseline`` on the page.
        title: the page heading.

    Returns:
        A complete HTML document with inline CSS and SVG, and no scripts.
    """
    m = run.metrics()
    judged = run.judged()
    c = run.config
    series = [curve_series(run, label=labels[0])]
    if baseline is not None:
        series.append(curve_series(baseline, label=labels[1]))
    bins = reliability(judged)
    config = (
        f'<p class="config">KB <code>{escape(c.kb)}</code> · '
        f"questions <code>{escape(c.questions_file)}</code> · "
        f"{m.questions} questions ({m.in_scope} in scope, {m.out_of_scope} out of scope) · "
        f"threshold {c.threshold:.3f} · faqtual {escape(c.version)}</p>"
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        config,
        _headline(m, expected_calibration_error(judged)),
    ]
    if baseline is not None:
        b = baseline.config
        parts += [
            f"<h2>Compared with {escape(labels[1])}</h2>",
            f'<p class="config">{escape(labels[1])}: KB <code>{escape(b.kb)}</code> · questions '
            f"<code>{escape(b.questions_file)}</code> · threshold {b.threshold:.3f} · "
            f"faqtual {escape(b.version)}</p>",
            _diff_table(run, baseline, labels),
        ]
    parts += [
        "<h2>How confidence trades answers for precision</h2>",
        '<div class="charts"><div class="chart">',
        risk_coverage_svg(series),
        "<p>Each point is one threshold: answer only when the top confidence reaches it. Moving left "
        "answers fewer questions; a good KB's curve stays high. The circle is the threshold in force.</p>",
        '</div><div class="chart">',
        reliability_svg(bins),
        "<p>Bars: share of top answers that were right, per confidence bin (out-of-scope questions count "
        "as wrong). The dashed diagonal is perfect calibration; red lines show the gap to the bin's mean "
        "confidence.</p></div></div>",
    ]
    if baseline is not None:
        parts += [
            f"<h2>Questions whose outcome changed ({escape(labels[1])} → {escape(labels[0])})</h2>",
            _changes_table(changes(run, baseline), labels),
        ]
    parts += ["<h2>Questions that went wrong</h2>", _wrong_table(run), "</body></html>"]
    return "\n".join(parts) + "\n"
