"""The command line, as a user sees it: output, the JSON contract, bad input, crashes.

Happy paths run in-process through click's CliRunner; error paths run through
``faqtual.cli.main`` (which turns errors into ``Error: ...`` and exit 1); a few
end-to-end cases run ``python -m faqtual`` in a new process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import DATA, kb_fingerprint, run_faqtual

from faqtual import cli as cli_module
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.store.sqlite import SqliteStore

OFF_TOPIC = "what's the weather in Paris tomorrow"
CONTRACT = {"question", "answered", "answers", "message"}
ANSWER_KEYS = {"entry_id", "question", "alternates", "answer", "confidence", "source"}


@pytest.fixture(autouse=True)
def shared_model(monkeypatch: pytest.MonkeyPatch, minilm: OnnxMiniLM) -> None:
    """In-process commands reuse the session's loaded model instead of loading their own."""
    monkeypatch.setattr("faqtual.factory.default_embedder", lambda settings: minilm)


def invoke(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(cli_module.cli, list(args), input=stdin, catch_exceptions=False)
    return result


def run_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    """Run the real entry point in-process: exit status, stdout, stderr."""
    monkeypatch.setattr(sys, "argv", ["faqtual", *args])
    code = 0
    try:
        cli_module.main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def check_contract(data: dict[str, object]) -> None:
    assert CONTRACT <= set(data)
    assert isinstance(data["question"], str)
    assert isinstance(data["answered"], bool)
    answers = data["answers"]
    assert isinstance(answers, list) and answers
    for a in answers:
        assert ANSWER_KEYS <= set(a)
        assert isinstance(a["entry_id"], str) and isinstance(a["question"], str)
        assert isinstance(a["alternates"], list) and isinstance(a["answer"], str)
        assert isinstance(a["confidence"], float) and 0.0 <= a["confidence"] <= 1.0
        assert a["source"] is None or isinstance(a["source"], str)
    confidences = [a["confidence"] for a in answers]
    assert confidences == sorted(confidences, reverse=True)
    assert (data["message"] is None) == data["answered"]


# -- ask -----------------------------------------------------------------------


def test_ask_text_output_end_to_end(seed_kb: Path) -> None:
    proc = run_faqtual(["ask", "can botox cure my synkinesis", "--kb", str(seed_kb)])
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Can Botox cure synkinesis?" in out
    assert "derived from botulinum toxin" in " ".join(out.split())  # the answer, wrapped
    assert re.search(r"Confidence: (Good match|Possible match) \((0|1)\.\d\d\)", out)
    assert "Source:" in out
    assert "Related questions:" in out


def test_ask_json_contract(seed_kb: Path) -> None:
    result = invoke("ask", "How long does synkinesis last after Bell's palsy?", "--kb", str(seed_kb), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    check_contract(data)
    assert data["answered"] is True
    assert data["message"] is None
    assert len(data["answers"]) == 3
    assert data["answers"][0]["question"] == "How long does synkinesis last with Bell's palsy?"


def test_ask_json_top_5(seed_kb: Path) -> None:
    result = invoke("ask", "what is synkinesis", "--kb", str(seed_kb), "--json", "--top", "5")
    data = json.loads(result.stdout)
    check_contract(data)
    assert len(data["answers"]) == 5
    assert len({a["entry_id"] for a in data["answers"]}) == 5


def test_off_topic_question_gets_no_answer(seed_kb: Path) -> None:
    data = json.loads(invoke("ask", OFF_TOPIC, "--kb", str(seed_kb), "--json").stdout)
    check_contract(data)
    assert data["answered"] is False
    assert "no answer" in data["message"].lower() or "don't have an answer" in data["message"]
    text = invoke("ask", OFF_TOPIC, "--kb", str(seed_kb)).stdout
    assert data["message"] in text
    assert "Closest questions" in text


def test_batch_file_plain_and_jsonl(seed_kb: Path, tmp_path: Path) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text(
        "can botox cure synkinesis\n"
        "\n"
        '{"q": "where do they inject botox for synkinesis"}\n'
        '{"question": "' + OFF_TOPIC + '", "id": 7}\n',
        encoding="utf-8",
    )
    result = invoke("ask", "--batch", str(batch), "--kb", str(seed_kb))
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["question"] for d in lines] == [
        "can botox cure synkinesis",
        "where do they inject botox for synkinesis",
        OFF_TOPIC,
    ]
    for d in lines:
        check_contract(d)
    assert [d["answered"] for d in lines] == [True, True, False]
    assert lines[1]["answers"][0]["question"] == "Where do you inject Botox for synkinesis?"


def test_batch_stdin_end_to_end(seed_kb: Path) -> None:
    stdin = "what does synkinesis mean\n" + json.dumps({"q": OFF_TOPIC}) + "\n"
    proc = run_faqtual(["ask", "--batch", "-", "--kb", str(seed_kb), "--top", "2"], stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 2
    for d in lines:
        check_contract(d)
        assert len(d["answers"]) == 2
    assert lines[0]["answered"] and not lines[1]["answered"]


def test_batch_bad_lines_are_reported_and_the_rest_answered(seed_kb: Path, tmp_path: Path) -> None:
    batch = tmp_path / "questions.txt"
    batch.write_text("what is synkinesis\n" + "x" * 1_000_000 + "\nbad\x00junk\n", encoding="utf-8")
    before = kb_fingerprint(seed_kb)
    proc = run_faqtual(["ask", "--batch", str(batch), "--kb", str(seed_kb)])
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["answered"]
    assert "line 2" in lines[1]["error"] and "1,000,000 characters" in lines[1]["error"]
    assert "line 3" in lines[2]["error"] and "binary" in lines[2]["error"]
    assert "2 batch line(s)" in proc.stderr
    assert kb_fingerprint(seed_kb) == before


def test_ask_needs_question_or_batch(seed_kb: Path) -> None:
    result = CliRunner().invoke(cli_module.cli, ["ask", "--kb", str(seed_kb)])
    assert result.exit_code == 2
    assert "Give either a QUESTION or --batch FILE" in result.output


# -- default KB ----------------------------------------------------------------


@pytest.mark.slow
def test_default_kb_is_built_once_and_reused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"FAQTUAL_CACHE_DIR": str(cache)}
    first = run_faqtual(["ask", "Why does my eye close when I smile?", "--json"], env=env)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    check_contract(data)
    assert data["answered"] and data["kb"] == "synkinesis"
    built = sorted(cache.iterdir())
    assert [p.name for p in built if p.suffix == ".sqlite"] == [p.name for p in built if p.name.startswith("default-")]
    kb = next(p for p in built if p.suffix == ".sqlite")
    stamp = kb.stat().st_mtime_ns
    second = run_faqtual(["ask", "how long does botox last", "--json"], env=env)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["answered"]
    assert kb.stat().st_mtime_ns == stamp
    assert not [p for p in cache.iterdir() if p.name.startswith(".building-")]
    entries = invoke("entries").stdout  # the session cache: the same packaged KB
    assert "botox-duration" in entries


# -- entries -------------------------------------------------------------------


def test_entries_list_and_show(seed_kb: Path) -> None:
    listing = invoke("entries", "--kb", str(seed_kb))
    assert listing.exit_code == 0
    rows = listing.stdout.splitlines()
    assert len(rows) == 13
    entry_id, question = rows[6].split("\t")
    assert question == "Can Botox cure synkinesis?"
    shown = invoke("entries", entry_id, "--kb", str(seed_kb))
    assert f"id:        {entry_id}" in shown.stdout
    assert "question:  Can Botox cure synkinesis?" in shown.stdout
    assert "derived from botulinum toxin" in " ".join(shown.stdout.split())
    as_json = json.loads(invoke("entries", entry_id, "--kb", str(seed_kb), "--json").stdout)
    assert as_json["entry_id"] == entry_id and as_json["provenance"][0].endswith(":27")


def test_entries_unknown_id(seed_kb: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run_main(capsys, monkeypatch, "entries", "nope", "--kb", str(seed_kb))
    assert code == 1
    assert "Error: No entry with id 'nope'" in err


# -- ingest --------------------------------------------------------------------


def test_ingest_prints_summary_and_json(seed_path: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb.sqlite"
    result = invoke("ingest", str(seed_path), "--kb", str(kb))
    assert result.exit_code == 0
    assert "added 13" in result.stdout and "flagged 4" in result.stdout and "rejected 0" in result.stdout
    assert "dangling-fragment" in result.stdout
    again = json.loads(invoke("ingest", str(seed_path), "--kb", str(kb), "--json").stdout)
    assert (again["added"], again["unchanged"], again["embedded"]) == (0, 13, 0)


# -- eval and calibrate ----------------------------------------------------------


def test_eval_prints_the_metrics(seed_kb: Path, tmp_path: Path) -> None:
    lines = (DATA / "seed_dev.jsonl").read_text(encoding="utf-8").splitlines()
    labeled = tmp_path / "labeled.jsonl"
    labeled.write_text("\n".join(lines[::6]) + "\n", encoding="utf-8")  # in- and out-of-scope ones
    result = invoke("eval", str(labeled), "--kb", str(seed_kb))
    assert result.exit_code == 0
    out = result.stdout
    printed = {}
    for label in ("top-1 accuracy", "MRR@5", "precision answered", "coverage", "abstention accuracy"):
        found = re.search(rf"{re.escape(label)}\s+([01]\.\d{{3}})", out)
        assert found, label
        printed[label] = found.group(1)
    assert "risk-coverage" in out
    assert len(re.findall(r"^\s+0\.\d0\s+[01]\.\d{3}\s+[01]\.\d{3}$", out, re.MULTILINE)) == 10
    data = json.loads(invoke("eval", str(labeled), "--kb", str(seed_kb), "--json").stdout)
    assert (data["questions"], data["out_of_scope"] > 0) == (len(lines[::6]), True)
    assert f"{data['top1']:.3f}" == printed["top-1 accuracy"]
    assert f"{data['mrr5']:.3f}" == printed["MRR@5"]
    assert f"{data['abstention_accuracy']:.3f}" == printed["abstention accuracy"]
    assert len(data["risk_coverage"]) == 10


def _batch_answers(kb: Path, questions: Path) -> list[tuple[bool, float]]:
    out = invoke("ask", "--batch", str(questions), "--kb", str(kb)).stdout
    return [(d["answered"], d["answers"][0]["confidence"]) for d in map(json.loads, out.splitlines())]


def test_calibrate_dry_run_stores_nothing_then_stores(seed_kb: Path, tmp_path: Path) -> None:
    dev = DATA / "seed_dev.jsonl"
    questions = tmp_path / "questions.txt"
    questions.write_text(
        "".join(json.loads(line)["q"] + "\n" for line in dev.read_text(encoding="utf-8").splitlines()),
        encoding="utf-8",
    )
    before_answers = _batch_answers(seed_kb, questions)
    before = kb_fingerprint(seed_kb)
    dry = invoke("calibrate", str(dev), "--kb", str(seed_kb), "--precision", "0.99", "--dry-run")
    assert dry.exit_code == 0, dry.output
    match = re.match(r"threshold (\d\.\d{3}): precision (\d\.\d{3}), coverage", dry.stdout)
    assert match, dry.stdout
    assert float(match.group(2)) >= 0.99
    assert "Stored" not in dry.stdout
    assert kb_fingerprint(seed_kb) == before

    stored = invoke("calibrate", str(dev), "--kb", str(seed_kb), "--precision", "0.99")
    assert stored.stdout.startswith(match.group(0))
    assert "Stored in" in stored.stdout
    store = SqliteStore.open(seed_kb)
    chosen = store.snapshot().options.threshold
    store.close()
    assert chosen is not None and f"{chosen:.3f}" == match.group(1)

    # ask now answers exactly the questions at or above the stored threshold, not the packaged default
    default = ScoringModel.packaged().default_threshold
    after_answers = _batch_answers(seed_kb, questions)
    flips = 0
    for (was, confidence), (now, same) in zip(before_answers, after_answers, strict=True):
        assert same == confidence
        if min(abs(confidence - default), abs(confidence - chosen)) < 1e-4:
            continue  # JSON rounds confidences to 4 decimals
        assert was == (confidence >= default)
        assert now == (confidence >= chosen)
        flips += was != now
    assert flips > 0, "pick a --precision whose threshold differs from the default on the dev set"


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "words"),
    [("", "The question is empty"), ("x" * 1_000_000, "1,000,000 characters"), ("a\x00b\x01c", "binary")],
    ids=["empty", "1MB", "binary"],
)
def test_bad_question(
    seed_kb: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    question: str,
    words: str,
) -> None:
    before = kb_fingerprint(seed_kb)
    code, out, err = run_main(capsys, monkeypatch, "ask", question, "--kb", str(seed_kb))
    assert code == 1
    assert err.startswith("Error: ") and words in err
    assert out == ""
    assert kb_fingerprint(seed_kb) == before


def _bad_files(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 8)
    utf8 = tmp_path / "latin1.txt"
    utf8.write_bytes(
        "What is synkinesis?\n\nIt is a movement.\n\nWhat is Bell's palsy?\n\nA caf\xe9 palsy.\n".encode("latin-1")
    )
    missing = DATA / "ingest" / "missing_column.csv"
    return {
        "binary": (binary, ["binary.txt", "binary"]),
        "not-faq": (DATA / "ingest" / "not_faq.txt", ["not_faq.txt"]),
        "csv-missing-column": (missing, ["missing_column.csv", "answer"]),
        "invalid-utf8": (utf8, ["latin1.txt:7", "UTF-8"]),
    }


@pytest.mark.parametrize("case", ["binary", "not-faq", "csv-missing-column", "invalid-utf8"])
def test_bad_ingest_file_leaves_kb_unchanged(
    seed_kb: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    path, words = _bad_files(tmp_path)[case]
    before = kb_fingerprint(seed_kb)
    code, _, err = run_main(capsys, monkeypatch, "ingest", str(path), "--kb", str(seed_kb))
    assert code == 1
    assert err.startswith("Error: ")
    for word in words:
        assert word in err
    assert kb_fingerprint(seed_kb) == before


def test_failed_first_ingest_creates_no_kb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = tmp_path / "new.sqlite"
    code, _, err = run_main(capsys, monkeypatch, "ingest", str(DATA / "ingest" / "not_faq.txt"), "--kb", str(kb))
    assert code == 1 and "not_faq.txt" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_bad_ingest_end_to_end(seed_kb: Path, tmp_path: Path) -> None:
    path, _ = _bad_files(tmp_path)["csv-missing-column"]
    before = kb_fingerprint(seed_kb)
    proc = run_faqtual(["ingest", str(path), "--kb", str(seed_kb)])
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: ") and "missing_column.csv" in proc.stderr and "answer" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert kb_fingerprint(seed_kb) == before


@pytest.mark.parametrize("command", ["ask", "ingest", "entries"])
def test_kb_path_is_a_directory(
    tmp_path: Path,
    seed_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    args = {
        "ask": ["ask", "what is synkinesis"],
        "ingest": ["ingest", str(seed_path)],
        "entries": ["entries"],
    }
    code, _, err = run_main(capsys, monkeypatch, *args[command], "--kb", str(tmp_path))
    assert code == 1
    assert f"KB path {tmp_path} is a directory" in err
    assert list(tmp_path.iterdir()) == []


def test_ask_on_missing_kb(tmp_path: Path) -> None:
    kb = tmp_path / "nope.sqlite"
    proc = run_faqtual(["ask", "what is synkinesis", "--kb", str(kb)])
    assert proc.returncode == 1
    assert f"Error: No KB at {kb}" in proc.stderr and "faqtual ingest" in proc.stderr
    assert not kb.exists()


@pytest.mark.parametrize("command", ["ask", "ingest"])
def test_corrupt_kb(
    tmp_path: Path,
    seed_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    kb = tmp_path / "corrupt.sqlite"
    junk = os.urandom(16384)
    kb.write_bytes(junk)
    args = {"ask": ["ask", "what is synkinesis"], "ingest": ["ingest", str(seed_path)]}
    code, _, err = run_main(capsys, monkeypatch, *args[command], "--kb", str(kb))
    assert code == 1
    assert f"KB file {kb} is not a readable faqtual KB" in err and "--replace" in err
    assert kb.read_bytes() == junk


def _without_root_override() -> list[str]:
    """A command prefix under which file permissions apply (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root and setpriv is missing: a read-only file would still be writable")
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]


@pytest.mark.slow
def test_read_only_kb(seed_kb: Path, seed_path: Path) -> None:
    prefix = _without_root_override()
    before = kb_fingerprint(seed_kb)
    seed_kb.chmod(0o444)
    try:
        argv = [*prefix, sys.executable, "-m", "faqtual"]
        ingest = subprocess.run(
            [*argv, "ingest", str(seed_path), "--kb", str(seed_kb)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ingest.returncode == 1
        assert f"Error: KB file {seed_kb} is read-only" in ingest.stderr
        # A read-only KB can still answer.
        ask = subprocess.run(
            [*argv, "ask", "can botox cure synkinesis", "--kb", str(seed_kb), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["answered"]
    finally:
        seed_kb.chmod(0o644)
    assert kb_fingerprint(seed_kb) == before


@pytest.mark.slow
def test_read_only_folder(tmp_path: Path, seed_kb: Path, seed_path: Path) -> None:
    prefix = _without_root_override()
    folder = tmp_path / "ro"
    folder.mkdir()
    kb = folder / "kb.sqlite"
    shutil.copyfile(seed_kb, kb)
    kb.chmod(0o444)
    before = kb_fingerprint(kb)
    listing = sorted(p.name for p in folder.iterdir())
    folder.chmod(0o555)
    argv = [*prefix, sys.executable, "-m", "faqtual"]
    try:
        new = subprocess.run(
            [*argv, "ingest", str(seed_path), "--kb", str(folder / "new.sqlite")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert new.returncode == 1
        assert f"folder {folder} is not writable" in new.stderr
        # An existing KB on a read-only folder (say, a read-only mount) still answers ...
        ask = subprocess.run(
            [*argv, "ask", "can botox cure synkinesis", "--kb", str(kb), "--json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["answers"][0]["question"] == "Can Botox cure synkinesis?"
        # ... and refuses writes with a message that names the problem.
        for command in (["ingest", str(seed_path)], ["calibrate", str(DATA / "seed_dev.jsonl")]):
            proc = subprocess.run([*argv, *command, "--kb", str(kb)], capture_output=True, text=True, timeout=120)
            assert proc.returncode == 1, command
            assert proc.stderr.startswith("Error: ") and "read-only" in proc.stderr, proc.stderr
        assert sorted(p.name for p in folder.iterdir()) == listing
    finally:
        folder.chmod(0o755)
        kb.chmod(0o644)
    assert kb_fingerprint(kb) == before


# -- crash safety --------------------------------------------------------------


def _big_jsonl(path: Path, n: int = 3000) -> None:
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            record = {
                "id": f"gen-{i}",
                "question": f"What is generated question number {i} about topic {i * 7919 % 1000}?",
                "answer": f"Generated answer {i}. It is about item {i} only. Thing {i * 31 % 997}.",
            }
            f.write(json.dumps(record) + "\n")


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_previous_kb_usable(seed_kb: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    _big_jsonl(big)
    before = kb_fingerprint(seed_kb)
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "faqtual", "ingest", str(big), "--kb", str(seed_kb)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        try:
            deadline = time.monotonic() + 60
            while "Embedding" not in stderr_path.read_text():
                assert proc.poll() is None, f"ingest ended before it was killed: {stderr_path.read_text()}"
                assert time.monotonic() < deadline, "ingest never started embedding"
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert kb_fingerprint(seed_kb) == before
    after = run_faqtual(["ask", "can botox cure synkinesis", "--kb", str(seed_kb), "--json"])
    assert after.returncode == 0, after.stderr
    data = json.loads(after.stdout)
    assert data["answered"] and data["answers"][0]["question"] == "Can Botox cure synkinesis?"
    listing = run_faqtual(["entries", "--kb", str(seed_kb)])
    assert len(listing.stdout.splitlines()) == 13
