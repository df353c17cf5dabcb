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
from faqtual.factory import default_embedder, open_service
from faqtual.router import KbRouter
from faqtual.service import FaqService

KB_HELP = "KB file (SQLite) or postgresql:// DSN. Default: FAQTUAL_STORE, FAQTUAL_KB, or the packaged FAQ."


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
@click.option(
    "--kb",
    "kbs",
    multiple=True,
    help=KB_HELP + " Repeat to ask several KBs in order of precedence ('default' names the packaged one).",
)
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
    kbs: tuple[str, ...],
    as_json: bool,
    top: int | None,
    threshold: float | None,
    batch: TextIO | None,
) -> None:
    """Answer QUESTION from the KB, or say there is no answer.

    With several --kb, the first KB whose best answer clears its own threshold
    answers, and the answer names its KB.

    Example: faqtual ask "how long does botox last for synkinesis" --json

    Example: faqtual ask "what causes shingles" --kb default --kb medquad.sqlite
    """
    if (question is None) == (batch is None):
        raise click.UsageError("Give either a QUESTION or --batch FILE.")
    services = [_service(ctx, kb, top=top, threshold=threshold) for kb in (kbs or (None,))]
    service: FaqService | KbRouter = services[0] if len(services) == 1 else KbRouter(services)
    check = services[0].check_question
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
            check(text)
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
@click.option("--kb", required=True, help="KB file (SQLite) or postgresql:// DSN to create or update.")
@click.option("--replace", is_flag=True, help="Remove every entry not in FILES (default: keep other files' entries).")
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, files: tuple[Path, ...], kb: str, replace: bool, as_json: bool) -> None:
    """Add the FAQ entries of FILES to the KB (.txt, .md, .csv, .tsv, .jsonl, .html).

    All files are parsed and embedded before anything is written; the write is
    one transaction, so the KB stays whole if anything fails.

    Example: faqtual ingest faq.md more.csv --kb clinic.sqlite
    """
    kb_path = Path(kb)
    created = not kb_path.exists()
    try:
        _ingest_into(_service(ctx, kb, create=True), files, replace=replace, as_json=as_json)
    except BaseException:
        if created:
            # A failed first ingest must not leave an empty KB behind ("no change to the KB").
            for suffix in ("", "-wal", "-shm"):
                kb_path.with_name(kb_path.name + suffix).unlink(missing_ok=True)
        raise


def _ingest_into(service: FaqService, files: tuple[Path, ...], *, replace: bool, as_json: bool) -> None:
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
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write an HTML report to FILE.")
@click.option("--save-run", type=click.Path(dir_okay=False, path_type=Path), help="Save this run (JSON) to FILE.")
@click.option(
    "--compare",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A run saved with --save-run to show side by side in the --report.",
)
@click.pass_context
def evaluate(
    ctx: click.Context,
    questions: Path,
    kb: str | None,
    threshold: float | None,
    as_json: bool,
    report: Path | None,
    save_run: Path | None,
    compare: Path | None,
) -> None:
    """Measure the KB on labeled QUESTIONS (JSONL: {"q": ..., "gold": [id or question, ...]}).

    Empty gold means the KB should abstain. Prints top-1 accuracy, MRR@5,
    precision on answered questions, coverage, abstention accuracy and a
    risk-coverage table.

    Example: faqtual eval tests/data/seed_dev.jsonl --kb seed.sqlite --report report.html --save-run run.json
    """
    from dataclasses import asdict

    from faqtual.errors import IngestError
    from faqtual.eval import runfile
    from faqtual.eval.harness import load_questions, run
    from faqtual.eval.metrics import expected_calibration_error, risk_coverage
    from faqtual.eval.report import render_report

    if compare is not None and report is None:
        raise click.UsageError("--compare draws into the HTML report; add --report FILE.")
    baseline = None
    if compare is not None:
        try:
            baseline = runfile.loads(compare.read_text(encoding="utf-8"), source=str(compare))
        except (OSError, UnicodeDecodeError) as exc:
            raise IngestError(f"cannot read the run file: {exc}", file=str(compare)) from exc
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
    if report is None and save_run is None:
        return
    kb_name = str(getattr(service.store, "path", kb or "default KB"))
    saved = runfile.from_eval(outcome, kb=kb_name, questions_file=str(questions), version=__version__)
    if save_run is not None:
        save_run.write_text(runfile.dumps(saved), encoding="utf-8")
    if report is not None:
        labels = ("this run", f"baseline ({compare.name})" if compare else "baseline")
        report.write_text(render_report(saved, baseline=baseline, labels=labels), encoding="utf-8")
    written = " and ".join(str(p) for p in (report, save_run) if p is not None)
    click.echo(f"Wrote {written}.", err=True)


@cli.command()
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kb", required=True, help="KB file whose threshold to set.")
@click.option(
    "--precision",
    type=click.FloatRange(0.5, 1.0),
    default=0.95,
    show_default=True,
    help="Target precision on answered questions.",
)
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


@cli.command()
@click.option("--kb", "kbs", multiple=True, help=KB_HELP + " Repeat to fall back to more KBs, in order.")
@click.option("--host", help="Address to bind (default 127.0.0.1, or FAQTUAL_HOST).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default 8000, or FAQTUAL_PORT).")
@click.option("--log-questions", is_flag=True, default=None, help="Keep questions for the curator.")
@click.option("--hash-key", metavar="KEY", help="Print KEY's digest for FAQTUAL_API_KEY_HASHES; exit.")
@click.pass_context
def serve(
    ctx: click.Context,
    kbs: tuple[str, ...],
    host: str | None,
    port: int | None,
    log_questions: bool | None,
    hash_key: str | None,
) -> None:
    """Serve the JSON API, the patient page (/) and the curator page (/admin).

    With several --kb, questions go to the first KB whose best answer clears its
    own threshold; the curator API and page edit the first KB.

    Example: faqtual serve --kb clinic.sqlite --port 8000
    """
    try:
        import uvicorn

        from faqtual.web.app import create_app
        from faqtual.web.guards import key_hash
    except ImportError as exc:
        raise click.ClickException(f"{exc}. Try 'pip install faqtual' with its web dependencies.") from exc
    if hash_key is not None:
        click.echo(key_hash(hash_key))
        return
    settings: config.Settings = ctx.obj
    settings = settings.with_overrides(host=host, port=port, log_questions=log_questions)
    encoder = default_embedder(settings, serving=True)  # one model for every KB served
    services = [open_service(settings, kb=kb, embedder=encoder) for kb in (kbs or (None,))]
    service = services[0]
    app = create_app(service, settings, fallbacks=services[1:])
    where = getattr(service.store, "path", "the KB")
    click.echo(f"faqtual: serving {where} on http://{settings.host}:{settings.port}/ (Ctrl-C to stop)")
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)


@cli.command()
@click.option(
    "--store",
    "dsn",
    metavar="DSN",
    help="PostgreSQL DSN (postgresql://user@host/db). Default: FAQTUAL_STORE, which keeps a password off ps.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was applied as JSON.")
@click.pass_context
def migrate(ctx: click.Context, dsn: str | None, as_json: bool) -> None:
    """Apply pending schema migrations to a PostgreSQL KB database.

    Replicas never migrate on start: back the database up (pg_dump), run this
    once, then restart the replicas on the new faqtual. It is one transaction;
    running it again does nothing. SQLite KBs migrate themselves when opened.

    Example: FAQTUAL_STORE=postgresql://faqtual@127.0.0.1/faqtual faqtual migrate
    """
    from faqtual.factory import is_postgres_dsn, migrate_postgres

    settings: config.Settings = ctx.obj
    target = dsn or settings.store
    if not target:
        raise click.UsageError("Give --store DSN or set FAQTUAL_STORE.")
    if not is_postgres_dsn(target):
        raise ConfigError(
            "'faqtual migrate' takes a PostgreSQL DSN starting with postgresql://; "
            "SQLite KB files are migrated when they are opened."
        )
    report = migrate_postgres(target)
    if as_json:
        _emit({"before": report.before, "after": report.after, "applied": list(report.applied)})
    elif report.applied:
        click.echo(f"Schema {report.before} -> {report.after}: applied {', '.join(report.applied)}.")
    else:
        click.echo(f"Schema already at version {report.after}; nothing to do.")


@cli.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--kb", help="Lint this KB file (SQLite) instead of FILES.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per finding.")
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Labelled questions (JSONL {"q": ..., "gold": [...]}): report entries none finds in its top 3.',
)
@click.pass_context
def lint(ctx: click.Context, files: tuple[Path, ...], kb: str | None, as_json: bool, questions: Path | None) -> None:
    """Check FAQ FILES (or a KB) for problems to fix before publishing.

    With neither FILES nor --kb, lints the packaged synkinesis FAQ. Errors
    (exit status 1): duplicate questions or answers, truncated answers,
    citation markers left in answers, and answers that clearly do not answer
    their question. Warnings: near-duplicate or confusable questions, shared
    answer sentences, answers whose opening misses the question, missing
    sources, over-long answers and, with --questions, entries never retrieved.

    Example: faqtual lint faq.md --questions labeled.jsonl --json
    """
    import importlib.resources
    import tempfile

    from faqtual.eval.harness import load_questions
    from faqtual.ingest import parse_file, prepare
    from faqtual.lint import KbVectors, Limits, report
    from faqtual.lint import lint as run_lint
    from faqtual.models import Flag

    if kb and files:
        raise click.UsageError("Give either FILES or --kb, not both.")
    settings: config.Settings = ctx.obj
    limits = Limits()
    labelled = [q.question for q in load_questions(questions)] if questions else None
    retrieved: list[list[str]] | None = None
    flags: tuple[Flag, ...] = ()
    if kb:
        service = open_service(settings, kb=kb)
        service.safety = None  # lint the retrieval itself, not the safety rules
        entries = service.entries()
        embedder = service.embedder
        if labelled is not None:
            answers = service.ask_many(labelled, top=limits.retrieved_top)
            retrieved = [[a.entry_id for a in r.answers] for r in answers]
    else:
        packaged_kb = importlib.resources.files("faqtual") / "data" / "synkinesis.md"
        with importlib.resources.as_file(packaged_kb) as packaged:
            paths = list(files) or [packaged]
            prepared = prepare([parse_file(p) for p in paths])
            entries, flags = prepared.entries, prepared.flags
            embedder = default_embedder(settings)
            if labelled is not None:
                with tempfile.TemporaryDirectory(prefix="faqtual-lint-") as folder:
                    kb_path = str(Path(folder) / "lint.sqlite")
                    service = open_service(settings, kb=kb_path, create=True, embedder=embedder)
                    service.safety = None
                    service.ingest(paths)
                    answers = service.ask_many(labelled, top=limits.retrieved_top)
                    retrieved = [[a.entry_id for a in r.answers] for r in answers]
                    service.store.close()
    vectors = KbVectors.of(entries, embedder)
    findings = run_lint(entries, vectors, flags=flags, retrieved=retrieved, limits=limits)
    if as_json:
        for finding in findings:
            _emit(finding.to_json())
    else:
        click.echo(report(findings, entries=len(entries)))
    errors = sum(f.severity == "error" for f in findings)
    if errors:
        raise click.ClickException(f"{errors} error finding(s); fix them before publishing.")


@cli.command(name="purge-logs")
@click.option("--kb", help=KB_HELP)
@click.option(
    "--older-than",
    "older_than",
    type=click.FloatRange(min=0),
    help="Delete logged questions and feedback older than this many days (default: log_retention_days).",
)
@click.option("--all", "purge_all", is_flag=True, help="Delete every logged question and all feedback.")
@click.option("--json", "as_json", is_flag=True, help='Print {"deleted": N} as JSON.')
@click.pass_context
def purge_logs(ctx: click.Context, kb: str | None, older_than: float | None, purge_all: bool, as_json: bool) -> None:
    """Delete logged patient questions and feedback from the KB.

    Questions are only logged with log_questions on, and are already scrubbed
    of e-mail addresses, phone numbers and other identifiers; logged records
    older than log_retention_days are deleted on each write. Run this on a
    schedule (or with --all before sharing a KB file) to enforce the limit
    when nothing is being written.

    Example: faqtual purge-logs --kb faq.sqlite --older-than 7
    """
    if purge_all and older_than is not None:
        raise click.UsageError("Give either --older-than DAYS or --all, not both.")
    settings: config.Settings = ctx.obj
    days = None if purge_all else (older_than if older_than is not None else float(settings.log_retention_days))
    if days is not None and days <= 0 and older_than is None:
        raise click.UsageError("log_retention_days is 0 (keep forever); give --older-than DAYS or --all.")
    service = _service(ctx, kb)
    deleted = service.purge_logs(older_than_days=days)
    if as_json:
        _emit({"deleted": deleted})
    else:
        which = "all" if days is None else f"older than {days:g} day(s)"
        click.echo(f"Deleted {deleted} logged question(s) and feedback record(s), {which}.")
