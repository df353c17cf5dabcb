"""Throughput of ``faqtual serve`` under 32 concurrent clients, against a naive baseline in the same run.

Usage: HF_HUB_OFFLINE=1 python benchmarks/serve_load.py [--seconds 10] [--rounds 3] [--clients 32] [--write]

1. The baseline (benchmarks/serve_baseline.py: FastAPI calling sentence-transformers
   ``encode`` per request) and faqtual (micro-batched) serve the default KB on loopback;
   in alternating rounds of ``--seconds``, ``--clients`` clients send ``POST /v1/ask``
   back to back to one of them. Reported: requests per second and p50/p99 latency.
   Bar: faqtual >= 3x the baseline's throughput, with p99 <= 150 ms.
2. A KB update through the curator API halfway through faqtual's first round: zero failed
   requests, and the new answer is served within 2 s of the update returning.
With --write the table replaces the "Serving" section of docs/benchmarks.md.
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
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
FAQ = ROOT / "faqtual" / "data" / "synkinesis.md"
QUESTIONS = ROOT / "tests" / "data" / "seed_dev.jsonl"
KEY = "benchmark-curator-key"
sys.path.insert(0, str(ROOT / "benchmarks"))

import loadgen  # noqa: E402
from loadgen import ask_back_to_back, free_port  # noqa: E402
from report import write_section  # noqa: E402


@dataclass
class Run(loadgen.Run):
    """One load run against one server, and how soon a KB update was served during it."""

    name: str = ""
    update_to_served: float | None = None


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cmd} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"{cmd} not ready")


async def load(url: str, questions: list[str], *, clients: int, seconds: float, name: str, update: bool) -> Run:
    run = Run(name=name, seconds=seconds)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:  # warm-up and the KB update
        for q in questions[:clients]:  # warm-up, not counted
            await client.post("/v1/ask", json={"question": q})
        stop = time.monotonic() + seconds

        async def updater() -> None:
            await asyncio.sleep(seconds / 2)
            headers = {"Authorization": f"Bearer {KEY}"}
            entry = (await client.get("/v1/entries/botox-duration")).json()
            question = entry["question"]
            new_answer = entry["answer"] + " (Updated during the load test.)"
            body = {k: entry[k] for k in ("question", "alternates", "source", "url", "tags")}
            r = await client.put(
                "/v1/admin/entries/botox-duration", json={**body, "answer": new_answer}, headers=headers
            )
            r.raise_for_status()
            returned = time.perf_counter()
            while True:
                got = (await client.post("/v1/ask", json={"question": question})).json()
                if got["answers"][0]["answer"] == new_answer:
                    run.update_to_served = time.perf_counter() - returned
                    return
                await asyncio.sleep(0.01)

        tasks = [
            ask_back_to_back(url, questions, first=i, stride=clients, until=stop, run=run) for i in range(clients)
        ] + ([updater()] if update else [])
        await asyncio.gather(*tasks)
    return run


def measure(url: str, questions: list[str], args: argparse.Namespace, *, name: str, update: bool) -> Run:
    """One load run of ``args.seconds`` against ``url``."""
    return loadgen.run_async(load(url, questions, clients=args.clients, seconds=args.seconds, name=name, update=update))


def merged(runs: list[Run]) -> Run:
    """Several rounds of one server as one run."""
    out = Run(name=runs[0].name, seconds=0.0)
    for r in runs:
        out.add(r)
        if r.update_to_served is not None:
            out.update_to_served = r.update_to_served
    return out


def counter(metrics: str, name: str) -> int:
    """A counter's value from Prometheus text."""
    return next(int(line.split()[-1]) for line in metrics.splitlines() if line.startswith(name + " "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of one round.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds, alternating baseline and faqtual.")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--write", action="store_true", help="Write the table into docs/benchmarks.md.")
    args = parser.parse_args()
    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQTUAL_")}
    load_before = os.getloadavg()[0]
    base_runs: list[Run] = []
    our_runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        env.update(HF_HUB_OFFLINE="1", FAQTUAL_CACHE_DIR=tmp, FAQTUAL_CONFIG=str(Path(tmp) / "none.toml"))
        env.update(FAQTUAL_RATE_LIMIT="0", FAQTUAL_API_KEY_HASHES=hashlib.sha256(KEY.encode()).hexdigest())
        kb = Path(tmp) / "kb.sqlite"
        ingest = [sys.executable, "-m", "faqtual", "ingest", str(FAQ), "--kb", str(kb)]
        subprocess.run(ingest, env=env, check=True, capture_output=True)
        base_port, our_port = free_port(), free_port()
        baseline = start(
            [sys.executable, str(ROOT / "benchmarks" / "serve_baseline.py"), str(FAQ), str(base_port)],
            env,
            base_port,
        )
        server = start(
            [sys.executable, "-m", "faqtual", "serve", "--kb", str(kb), "--port", str(our_port)],
            env,
            our_port,
        )
        try:
            # Alternate short rounds so that load from elsewhere on the machine hits both alike.
            for n in range(args.rounds):
                base_runs.append(
                    measure(f"http://127.0.0.1:{base_port}", questions, args, name="baseline", update=False)
                )
                our_runs.append(measure(f"http://127.0.0.1:{our_port}", questions, args, name="faqtual", update=n == 0))
            metrics = httpx.get(f"http://127.0.0.1:{our_port}/metrics").text
        finally:
            for process in (baseline, server):
                process.terminate()
                process.wait(timeout=30)
    batches = counter(metrics, "faqtual_encoder_batches_total")
    batched = counter(metrics, "faqtual_batched_questions_total")
    base, ours = merged(base_runs), merged(our_runs)
    ratios = sorted(o.rps / b.rps for o, b in zip(our_runs, base_runs, strict=True))
    lines = [
        "## Serving (default KB, concurrent clients)",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average before the run {load_before:.1f} (other work on the machine skews these figures). "
        f"Command: `HF_HUB_OFFLINE=1 python benchmarks/serve_load.py --seconds {args.seconds:g} "
        f"--rounds {args.rounds} --clients {args.clients} --write`. {args.rounds} rounds of "
        f"{args.seconds:g} s per server, alternating, on loopback, the load generator "
        "(`benchmarks/loadgen.py`, one keep-alive asyncio connection per client) on the same machine; "
        "the baseline is `benchmarks/serve_baseline.py` (FastAPI calling sentence-transformers `encode` "
        "per request).",
        "",
        "| server | requests/s | p50 (ms) | p99 (ms) | failed |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in (base, ours):
        lines.append(f"| {r.name} | {r.rps:.1f} | {r.percentile(50):.1f} | {r.percentile(99):.1f} | {r.failures} |")
    served = ours.update_to_served
    lines += [
        "",
        f"Throughput ratio faqtual / baseline: **{ours.rps / base.rps:.2f}x** over all rounds "
        f"(per round: {', '.join(f'{r:.2f}x' for r in ratios)}); bar: >= 3x with p99 <= 150 ms. "
        f"faqtual's p99 per round: {', '.join(f'{r.percentile(99):.0f} ms' for r in our_runs)} "
        "(the first round includes the KB update). "
        f"Mean micro-batch: {batched / max(batches, 1):.1f} questions per encoder call.",
        f"KB update through the curator API during the first faqtual round: {our_runs[0].failures} failed "
        f"requests; the new answer was served {served if served is not None else float('nan'):.3f} s after "
        "the update returned (bar: 0 failed, <= 2 s).",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write:
        write_section("## Serving (default KB, concurrent clients)", section)


if __name__ == "__main__":
    main()
