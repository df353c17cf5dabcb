"""The ``faqtual`` command line: parse flags -> call FaqService -> render.

Every :class:`~faqtual.errors.FaqtualError` becomes ``Error: ...`` on stderr
and exit status 1, in one place (:func:`main`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from faqtual import __version__, config, render
from faqtual.errors import BadQueryError, ConfigError, FaqtualError
from faqtual.factory import open_service
from faqtual.service import FaqService

KB_HELP = "KB file (SQLite). Default: the packaged synkinesis FAQ, or FAQTUAL_KB."


def _service(ctx: click.Context, kb: str | None, *, create: bool = False, **overrides: Any) -> FaqService:
    settings: config.Settings = ctx.obj
    return open_service(settings.with_overrides(**overrides), kb=kb, create=create)


def _emit(data: object) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="faqtual")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """faqtual: answers from a curated FAQ, verbatim, with a confidence you can trust.

    Example: faqtual ask "Why does my eye close when I smile?"
    """
    ctx.obj = config.load()


def _batch_questions(stream: TextIO) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(stream, 1):
        text = line.rstrip("\n")
        if not text.strip():
            continue
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise BadQueryError(f"batch line {number}: not valid JSON ({exc.msg})") from exc
            question = data.get("q", data.get("question")) if isinstance(data, dict) else None
            if not isinstance(question, str):
                raise BadQueryError(f'batch line {number}: expected a "q" or "question" string field')
            text = question
        yield number, text


@cli.command()
@click.argument("question", required=False)
@click.option("--kb", help=KB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract instead of text.")
@click.option("--top", type=click.IntRange(1, 50), help="Candidates to return (default 3).")
@click.option("--threshold", type=click.FloatRange(0, 1), help="Abstain below this confidence.")
@click.option(
    "--batch",
    type=click.File("r", encoding="utf-8"),
    help="Answer every line of FILE ('-' for stdin): plain questions or JSONL with 'q'/'question'.",
)
@click.pass_context
def ask(
    ctx: click.Context,
    question: str | None,
    kb: str | None,
    as_json: bool,
    top: int | None,
    threshold: float | None,
    batch: TextIO | None,
) -> None:
    """Answer QUESTION from the KB, or say there is no answer.

    Example: faqtual ask "how long does botox last for synkinesis" --json
    """
    if (question is None) == (batch is None):
        raise click.UsageError("Give either a QUESTION or --batch FILE.")
    service = _service(ctx, kb, top=top, threshold=threshold)
    if batch is None:
        assert question is not None
        result = service.ask(question)
        if as_json:
            _emit(result.to_json())
        else:
            click.echo(render.ask_result(result, threshold=service.threshold()))
        return
    failed = 0
    pending: list[str] = []

    def flush() -> None:
        for result in service.ask_many(pending):
            _emit(result.to_json())
        pending.clear()

    for number, text in _batch_questions(batch):
        try:
            service.check_question(text)
        except BadQueryError as exc:
            flush()
            failed += 1
            _emit({"question": text[:200], "error": f"line {number}: {exc}"})
            continue
        pending.append(text)
        if len(pending) >= 64:
            flush()
    flush()
    if failed:
        raise click.ClickException(f"{failed} batch line(s) could not be answered; see their 'error' fields.")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--kb", required=True, help="KB file to create or update (SQLite).")
@click.option("--replace", is_flag=True, help="Remove every entry not in FILES (default: keep other files' entries).")
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], kb: str, replace: bool, as_json: bool) -> None:
    """Add the FAQ entries of FILES to the KB (.txt, .md, .csv, .tsv, .jsonl, .html).

    All files are parsed and embedded before anything is written; the write is
    one transaction, so the KB stays whole if anything fails.

    Example: faqtual ingest faq.md more.csv --kb clinic.sqlite
    """
    service = _service(ctx, kb, create=True)
    bar: Any = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if as_json or total < 512:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Embedding", show_pos=True, show_eta=True, file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        report = service.ingest(list(files), replace=replace, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if as_json:
        _emit(
            {
                "kb": report.kb_path,
                "kb_version": report.kb_version,
                "added": report.added,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "removed": report.removed,
                "merged": report.merged,
                "embedded": report.embedded,
                "flagged": [str(f) for f in report.flags],
                "rejected": [str(r) for r in report.rejected],
            }
        )
    else:
        click.echo(render.ingest_report(report))


@cli.command()
@click.argument("entry_id", required=False)
@click.option("--kb", help=KB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def entries(ctx: click.Context, entry_id: str | None, kb: str | None, as_json: bool) -> None:
    """List the KB's entries, or show the entry ENTRY_ID.

    Example: faqtual entries botox-duration
    """
    service = _service(ctx, kb)
    chosen = [service.entry(entry_id)] if entry_id else list(service.entries())
    if as_json:
        for e in chosen:
            _emit(
                {
                    "entry_id": e.id,
                    "question": e.question,
                    "alternates": list(e.alternates),
                    "answer": e.answer,
                    "source": e.source,
                    "url": e.url,
                    "tags": list(e.tags),
                    "provenance": [str(p) for p in e.provenance],
                }
            )
    elif entry_id:
        click.echo(render.entry_detail(chosen[0]))
    else:
        for e in chosen:
            click.echo(render.entry_line(e))


@cli.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kb", help=KB_HELP)
@click.option("--threshold", type=click.FloatRange(0, 1), help="Evaluate at this threshold instead of the KB's.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
@click.pass_context
def evaluate(ctx: click.Context, questions: Path, kb: str | None, threshold: float | None, as_json: bool) -> None:
    """Measure the KB on labeled QUESTIONS (JSONL: {"q": ..., "gold": [id or question, ...]}).

    Empty gold means the KB should abstain. Prints top-1 accuracy, MRR@5,
    precision on answered questions, coverage, abstention accuracy and a
    risk-coverage table.

    Example: faqtual eval tests/data/seed_dev.jsonl --kb seed.sqlite
    """
    from dataclasses import asdict

    from faqtual.eval.harness import load_questions, run
    from faqtual.eval.metrics import expected_calibration_error, risk_coverage

    service = _service(ctx, kb, threshold=threshold)
    outcome = run(service, load_questions(questions))
    judged = [r.judged for r in outcome.records]
    curve = risk_coverage(judged, thresholds=[i / 10 for i in range(10)])
    if as_json:
        _emit(
            {
                **asdict(outcome.metrics),
                "ece": expected_calibration_error(judged),
                "risk_coverage": [asdict(p) for p in curve],
            }
        )
    else:
        click.echo(render.metrics(outcome.metrics, curve))
        click.echo(f"\nexpected calibration error  {expected_calibration_error(judged):.3f}")


@cli.command()
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kb", required=True, help="KB file whose threshold to set.")
@click.option("--precision", type=click.FloatRange(0.5, 1.0), default=0.95, show_default=True,
              help="Target precision on answered questions.")
@click.option("--dry-run", is_flag=True, help="Print the threshold without storing it.")
@click.pass_context
def calibrate(ctx: click.Context, questions: Path, kb: str, precision: float, dry_run: bool) -> None:
    """Pick the KB's abstention threshold for a target precision, from labeled QUESTIONS.

    Example: faqtual calibrate labeled.jsonl --kb clinic.sqlite --precision 0.95
    """
    from faqtual.eval.harness import load_questions, run
    from faqtual.eval.metrics import pick_threshold, summarise

    service = _service(ctx, kb)
    outcome = run(service, load_questions(questions))
    judged = [r.judged for r in outcome.records]
    chosen = pick_threshold(judged, precision=precision)
    if chosen is None:
        raise ConfigError(
            f"No threshold reaches precision {precision:.2f} on {questions}; add alternates to the entries "
            "that are missed (see 'faqtual eval') or lower --precision."
        )
    m = summarise(judged, threshold=chosen)
    click.echo(
        f"threshold {chosen:.3f}: precision {m.precision_answered:.3f}, coverage {m.coverage:.3f}, "
        f"abstention accuracy {m.abstention_accuracy:.3f}"
    )
    if not dry_run:
        version = service.set_threshold(chosen)
        click.echo(f"Stored in {kb} (KB version {version}).")


def main() -> None:
    """Entry point: run the CLI, turning faqtual errors into ``Error: ...`` and exit 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FaqtualError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted; the KB is unchanged.", err=True)
        sys.exit(130)
