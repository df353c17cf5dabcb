"""Replicas on one PostgreSQL KB: throughput of one vs two, and how fast a new replica is ready.

Usage: FAQTUAL_TEST_PG_DSN=postgresql://... HF_HUB_OFFLINE=1 python benchmarks/replicas.py
       [--seconds 10] [--rounds 3] [--clients 32] [--medquad-limit 2000] [--full] [--write]

The DSN names a database the benchmark may write to (the test database); it works in a
fresh schema, dropped at the end, and is read from the environment, never the command line.

1. Throughput: two ``faqtual serve`` replicas on the synkinesis KB in PostgreSQL. In
   alternating rounds of ``--seconds``, ``--clients`` clients send ``POST /v1/ask`` back to
   back either all to replica A or half to A and half to B (both replicas run throughout,
   so the rounds differ only in where the load goes).
2. Time to ready: a new replica, with an empty index cache, on a MedQuAD KB, from process
   start to ``/readyz`` 200 -- once with every embedding already in the database (another
   replica or the ingest made them), once with the embeddings table emptied, so the replica
   embeds every text itself. ``--medquad-limit`` entries (an even spread of MedQuAD; 0: all);
   ``--full`` also times the "in the database" case on all of MedQuAD.
With --write the table replaces the "Replicas (PostgreSQL)" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "faqtual" / "data" / "synkinesis.md"
QUESTIONS = ROOT / "tests" / "data" / "seed_dev.jsonl"
MEDQUAD = ROOT.parent / "shared" / "data" / "medquad" / "medquad.jsonl"
KEY = "benchmark-curator-key"
HEADING = "## Replicas (PostgreSQL)"
sys.path.insert(0, str(ROOT / "benchmarks"))

from loadgen import Run, ask_back_to_back, free_port, run_async  # noqa: E402
from report import write_section  # noqa: E402


def with_schema(dsn: str, schema: str) -> str:
    """``dsn`` whose tables live in ``schema`` (as tests/contract/conftest.py does)."""
    return f"{dsn}{'&' if '?' in dsn else '?'}options={quote(f'-c search_path={schema}')}"


def env_for(tmp: Path, dsn: str, *, kb_name: str = "default") -> dict[str, str]:
    """A replica's environment: the DSN by variable, a private (empty) cache, no rate limit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQTUAL_")}
    cache = tmp / f"cache-{uuid.uuid4().hex[:8]}"
    env.update(
        HF_HUB_OFFLINE="1",
        FAQTUAL_CACHE_DIR=str(cache),
        FAQTUAL_CONFIG=str(tmp / "none.toml"),
        FAQTUAL_STORE=dsn,
        FAQTUAL_KB_NAME=kb_name,
        FAQTUAL_RATE_LIMIT="0",
        FAQTUAL_API_KEY_HASHES=hashlib.sha256(KEY.encode()).hexdigest(),
    )
    return env


def ingest(path: Path, env: dict[str, str]) -> float:
    """``faqtual ingest PATH --kb $FAQTUAL_STORE``; seconds it took."""
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "faqtual", "ingest", str(path), "--kb", env["FAQTUAL_STORE"]],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.monotonic() - start


def start_replica(env: dict[str, str], port: int, *, timeout: float = 900.0) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``faqtual serve``; return it and the seconds from spawn to ``/readyz`` 200."""
    started = time.monotonic()
    log = Path(env["FAQTUAL_CACHE_DIR"] + ".log")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "faqtual", "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    deadline = started + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"faqtual serve exited with {process.returncode}:\n{tail}")
            try:
                if client.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    return process, time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    process.kill()
    raise TimeoutError(f"faqtual serve on port {port} not ready after {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


async def load(urls: list[str], questions: list[str], *, clients: int, seconds: float) -> Run:
    """``clients`` clients asking back to back for ``seconds``; client i asks ``urls[i % len(urls)]``."""
    run = Run(seconds=seconds)
    async with httpx.AsyncClient(timeout=30) as client:  # the warm-up
        for n, q in enumerate(questions[:clients]):  # warm-up, not counted
            await client.post(f"{urls[n % len(urls)]}/v1/ask", json={"question": q})
        end = time.monotonic() + seconds
        await asyncio.gather(
            *(
                ask_back_to_back(urls[i % len(urls)], questions, first=i, stride=clients, until=end, run=run)
                for i in range(clients)
            )
        )
    return run


def merged(runs: list[Run]) -> Run:
    out = Run(seconds=0.0)
    for r in runs:
        out.add(r)
    return out


def throughput(dsn: str, tmp: Path, args: argparse.Namespace) -> dict[str, object]:
    """Rounds alternating one replica / two replicas on the synkinesis KB."""
    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    ingest(FAQ, env_for(tmp, dsn))
    ports = free_port(), free_port()
    a, ready_a = start_replica(env_for(tmp, dsn), ports[0])
    try:
        b, ready_b = start_replica(env_for(tmp, dsn), ports[1])
    except BaseException:
        stop(a)
        raise
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    one: list[Run] = []
    two: list[Run] = []
    try:
        for _ in range(args.rounds):  # alternate, so load from elsewhere on the machine hits both alike
            one.append(run_async(load(urls[:1], questions, clients=args.clients, seconds=args.seconds)))
            two.append(run_async(load(urls, questions, clients=args.clients, seconds=args.seconds)))
    finally:
        stop(a)
        stop(b)
    return {
        "one": merged(one),
        "two": merged(two),
        "per_round": list(zip(one, two, strict=True)),
        "ready_small": max(ready_a, ready_b),
    }


def medquad_subset(limit: int, tmp: Path) -> tuple[Path, int]:
    """An even spread of ``limit`` MedQuAD records (all of them for 0), as a JSONL file."""
    lines = [line for line in MEDQUAD.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit and limit < len(lines):
        step = len(lines) / limit
        lines = [lines[int(n * step)] for n in range(limit)]
    path = tmp / f"medquad-{limit or 'all'}.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(lines)


def time_to_ready(dsn: str, tmp: Path, *, limit: int, kb_name: str, empty_first: bool) -> dict[str, float]:
    """Ingest a MedQuAD KB, then time a new replica with the vectors in the database (and without)."""
    path, count = medquad_subset(limit, tmp)
    env = env_for(tmp, dsn, kb_name=kb_name)
    out: dict[str, float] = {"entries": count, "ingest_s": ingest(path, env)}
    process, out["ready_in_db_s"] = start_replica(env_for(tmp, dsn, kb_name=kb_name), free_port())
    stop(process)
    if empty_first:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM faqtual_embeddings WHERE kb = %s", (kb_name,)).fetchone()
            out["vectors"] = int(row[0]) if row else 0
            conn.execute("DELETE FROM faqtual_embeddings WHERE kb = %s", (kb_name,))
        process, out["ready_not_in_db_s"] = start_replica(env_for(tmp, dsn, kb_name=kb_name), free_port())
        stop(process)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of one load round.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of each, alternating one and two replicas.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--medquad-limit", type=int, default=2000, help="MedQuAD entries for time-to-ready; 0: all.")
    parser.add_argument("--full", action="store_true", help="Also time 'in the database' on all of MedQuAD.")
    parser.add_argument("--write", action="store_true", help="Write the table into docs/benchmarks.md.")
    args = parser.parse_args()
    base = os.environ.get("FAQTUAL_TEST_PG_DSN")
    if not base:
        sys.exit("Set FAQTUAL_TEST_PG_DSN to a PostgreSQL database the benchmark may write to.")
    schema = f"faqtual_bench_{uuid.uuid4().hex[:10]}"
    load_before = os.getloadavg()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        server_version = conn.info.server_version
    dsn = with_schema(base, schema)
    try:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            t = throughput(dsn, tmp, args)
            load_mid = os.getloadavg()
            subset = time_to_ready(dsn, tmp, limit=args.medquad_limit, kb_name="medquad_subset", empty_first=True)
            full = time_to_ready(dsn, tmp, limit=0, kb_name="medquad", empty_first=False) if args.full else None
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
    load_after = os.getloadavg()
    one, two = t["one"], t["two"]
    assert isinstance(one, Run) and isinstance(two, Run)
    result = {
        "one_replica": {
            "rps": one.rps,
            "p50_ms": one.percentile(50),
            "p99_ms": one.percentile(99),
            "failed": one.failures,
        },
        "two_replicas": {
            "rps": two.rps,
            "p50_ms": two.percentile(50),
            "p99_ms": two.percentile(99),
            "failed": two.failures,
        },
        "per_round_ratio": [b.rps / a.rps for a, b in t["per_round"]],  # type: ignore[attr-defined]
        "ready_small_s": t["ready_small"],
        "medquad_subset": subset,
        "medquad_full": full,
        "load_average": {"before": load_before, "between": load_mid, "after": load_after},
    }
    print(json.dumps(result, indent=2))
    if args.write:
        write_section(HEADING, render(result, args, server_version))


def render(r: dict[str, object], args: argparse.Namespace, server_version: int) -> str:
    one, two = r["one_replica"], r["two_replicas"]
    subset, full, la = r["medquad_subset"], r["medquad_full"], r["load_average"]
    assert isinstance(one, dict) and isinstance(two, dict) and isinstance(subset, dict) and isinstance(la, dict)
    command = (
        "FAQTUAL_TEST_PG_DSN=... HF_HUB_OFFLINE=1 python benchmarks/replicas.py "
        f"--seconds {args.seconds:g} --rounds {args.rounds} --clients {args.clients} "
        f"--medquad-limit {args.medquad_limit}{' --full' if args.full else ''} --write"
    )
    ratios = sorted(r["per_round_ratio"])  # type: ignore[call-overload]
    rounds = ", ".join(f"{x:.2f}x" for x in r["per_round_ratio"])  # type: ignore[attr-defined]
    median = ratios[len(ratios) // 2]
    lines = [
        HEADING,
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {server_version // 10000} on the same machine (loopback). Load average (1/5/15 min) "
        f"before the run {'/'.join(f'{x:.1f}' for x in la['before'])}, after the throughput rounds "
        f"{'/'.join(f'{x:.1f}' for x in la['between'])}, at the end {'/'.join(f'{x:.1f}' for x in la['after'])}: "
        "the machine is shared, and other work on it skews these figures. "
        f"Command: `{command}`.",
        "",
        f"Throughput, synkinesis KB: {args.rounds} rounds of {args.seconds:g} s each, alternating; "
        f"{args.clients} clients send `POST /v1/ask` back to back, either all to replica A or half to A and "
        "half to B. Both replicas run throughout; the load generator runs on the same 2 cores.",
        "",
        "| replicas | requests/s | p50 (ms) | p99 (ms) | failed |",
        "|---|---:|---:|---:|---:|",
        f"| 1 | {one['rps']:.1f} | {one['p50_ms']:.0f} | {one['p99_ms']:.0f} | {one['failed']} |",
        f"| 2 | {two['rps']:.1f} | {two['p50_ms']:.0f} | {two['p99_ms']:.0f} | {two['failed']} |",
        "",
        f"Two / one: **{two['rps'] / one['rps']:.2f}x** over all rounds; per round {rounds}, median "
        f"**{median:.2f}x**. When other work on a shared machine comes and goes between rounds, the "
        "median round is the steadier figure. On 2 cores a second replica adds no CPU: it helps only as "
        "far as one process leaves a core idle.",
        "",
        "Time for a new replica (empty index cache) to become ready, from process start to `/readyz` 200; "
        "it includes loading the query model. MedQuAD here is an even spread of "
        f"{subset['entries']:,} of its 16,423 entries"
        + (" (and, in the last row, all of it)" if full else "")
        + f"; the ingest that put them in the database took {subset['ingest_s']:.0f} s"
        + ("." if full else " (so all of MedQuAD, about 33 times as many, was not timed on this machine)."),
        "",
        "| KB | embeddings | ready after |",
        "|---|---|---:|",
        f"| synkinesis (15 entries) | in the database | {r['ready_small_s']:.1f} s |",
        f"| MedQuAD, {subset['entries']:,} entries | in the database | {subset['ready_in_db_s']:.1f} s |",
        f"| MedQuAD, {subset['entries']:,} entries | not in the database ({subset['vectors']:,} texts to embed) "
        f"| {subset['ready_not_in_db_s']:.1f} s |",
    ]
    if isinstance(full, dict):
        lines.append(f"| MedQuAD, all {full['entries']:,} entries | in the database | {full['ready_in_db_s']:.1f} s |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
