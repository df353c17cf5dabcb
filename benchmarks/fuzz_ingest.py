"""Fuzz the ingest parsers: random and mutated files of every supported suffix for N seconds.

Usage: python benchmarks/fuzz_ingest.py [--seconds 120] [--seed 0]

Each input is written to a file and read by :func:`faqtual.ingest.parse_file`.
The contract is that a parser either returns entries or raises
:class:`faqtual.errors.IngestError`; anything else is a bug. Inputs come from
hypothesis: arbitrary bytes, arbitrary text, text built from each format's
markup (``Q:``, ``#``, ``<h2>``, JSON braces, delimiters) and byte-level
mutations of the checked-in example files in ``tests/data/ingest``.
Prints the number of inputs, the outcome counts and every unexpected
exception (type, suffix, first bytes of the input); exits 1 if there was one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from faqtual.errors import IngestError
from faqtual.ingest import SUPPORTED_SUFFIXES, parse_file

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "tests" / "data" / "ingest").iterdir()) + [ROOT / "faqtual" / "data" / "synkinesis.md"]
MARKUP = [
    "Q:",
    "A:",
    "Question:",
    "Answer:",
    "?",
    "\n",
    "\n\n",
    "# ",
    "## ",
    "### ",
    "**",
    "- ",
    "* ",
    "1. ",
    "---\n",
    "title: x\n",
    "<h2>",
    "</h2>",
    "<p>",
    "</p>",
    "<dl>",
    "<dt>",
    "<dd>",
    "<details>",
    "<summary>",
    "<script>",
    "<!--",
    "-->",
    "&amp;",
    "&#0;",
    "&#xD800;",
    '{"q": "',
    '", "a": "',
    '"}',
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\u0000",
    "\\ud800",
    ",",
    "\t",
    "question,answer\n",
    "\r\n",
    "\r",
    "\ufeff",
    "\u200b",
    "\u2028",
    "[1]",
    "https://x.y/?a=1",
    "What is it?",
    "It is a thing.",
]

seed_files = st.sampled_from([p for p in SEEDS if p.suffix in SUPPORTED_SUFFIXES])


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A checked-in example file with a few bytes flipped, cut, repeated or inserted."""
    path = draw(seed_files)
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "cut", "dup", "insert"]))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.sampled_from(MARKUP)).encode()
    return path.suffix, bytes(data)


inputs = st.one_of(
    st.tuples(st.sampled_from(SUPPORTED_SUFFIXES), st.binary(max_size=2048)),
    st.tuples(st.sampled_from(SUPPORTED_SUFFIXES), st.text(max_size=1024).map(str.encode)),
    st.tuples(
        st.sampled_from(SUPPORTED_SUFFIXES),
        st.lists(st.one_of(st.sampled_from(MARKUP), st.text(max_size=12)), max_size=60)
        .map("".join)
        .map(lambda s: s.encode("utf-8", "surrogatepass")),
    ),
    mutated(),
)


def main() -> int:
    """Run the fuzzer; print the counts and any unexpected exceptions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    folder = Path(tempfile.mkdtemp(prefix="faqtual-fuzz-"))

    @settings(
        max_examples=500,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def one(case: tuple[str, bytes]) -> None:
        suffix, data = case
        path = folder / f"input{suffix}"
        path.write_bytes(data)
        try:
            parse_file(path)
            outcomes["parsed"] += 1
        except IngestError:
            outcomes["IngestError"] += 1
        except Exception as exc:  # the point of the fuzzer: record, keep going
            outcomes[type(exc).__name__] += 1
            crashes.append(f"{type(exc).__name__} on {suffix} {data[:120]!r}\n{traceback.format_exc()}")

    start = time.monotonic()
    rounds = 0
    while time.monotonic() - start < args.seconds:
        one._hypothesis_internal_use_seed = args.seed + rounds  # type: ignore[attr-defined]
        one()
        rounds += 1
    elapsed = time.monotonic() - start
    total = sum(outcomes.values())
    print(f"fuzz_ingest: {total} inputs in {elapsed:.1f} s ({total / elapsed:.0f}/s), suffixes {SUPPORTED_SUFFIXES}")
    for name, n in outcomes.most_common():
        print(f"  {name}: {n}")
    unexpected = total - outcomes["parsed"] - outcomes["IngestError"]
    print(f"  unexpected exceptions (not IngestError): {unexpected}")
    for crash in crashes[:10]:
        print(crash)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
