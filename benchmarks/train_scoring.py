"""Fit faqtual's rank weights and confidence model on the labeled development sets.

Usage: python benchmarks/train_scoring.py [--write]

Builds the seed KB and the packaged default KB with the real model, computes
every entry's features for every labeled question, then
1. searches rank weights that maximise top-1 (ties broken by MRR) on in-scope questions,
2. fits the logistic confidence model on the top candidates (out-of-scope = wrong),
3. picks the default threshold: the lowest at which answered questions are right >= 95 %.
It reports each step trained on set A and tested on set B (and the reverse)
before fitting on both; with --write it stores faqtual/data/scoring.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faqtual.config import Settings  # noqa: E402
from faqtual.eval.harness import LabeledQuestion, is_right, load_questions  # noqa: E402
from faqtual.eval.metrics import Judged, expected_calibration_error, pick_threshold, summarise  # noqa: E402
from faqtual.models import Answer  # noqa: E402
from faqtual.retrieval.confidence import CONFIDENCE_INPUTS, ScoringModel, fit_logistic  # noqa: E402
from faqtual.retrieval.embed import OnnxMiniLM  # noqa: E402
from faqtual.retrieval.index import FEATURES  # noqa: E402
from faqtual.service import FaqService  # noqa: E402
from faqtual.store.sqlite import SqliteStore  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from report import write_section  # noqa: E402

SEED = ROOT.parent / "shared" / "seeds" / "000_dd4fd59666329539.txt"
DEFAULT_KB = ROOT / "faqtual" / "data" / "synkinesis.md"
MEDQUAD_DEV = ROOT / "benchmarks" / "data" / "medquad_dev.jsonl"
SETS = {"A": ROOT / "tests" / "data" / "seed_dev.jsonl", "B": ROOT / "tests" / "data" / "seed_dev_b.jsonl"}
# Small curated KBs: >= 95 % precision on answered questions (issue 2). Large
# general KBs such as MedQuAD hold many near-identical entries that the labels
# do not all list, so measured precision understates the truth there; their
# default aims at 90 % and `faqtual calibrate` sets a KB's own.
TARGET_PRECISION = {"small": 0.95, "large": 0.90}
CANDIDATES = 1


@dataclass
class Case:
    kb: str
    split: str
    features: np.ndarray  # (n_entries, n_features)
    right: np.ndarray  # (n_entries,) bool
    in_scope: bool


def collect(embedder: OnnxMiniLM, tmp: Path, *, medquad_kb: Path | None) -> list[Case]:
    # Features do not depend on the scoring model; a neutral one lets this run before scoring.json matches.
    neutral = ScoringModel((0.0,) * len(FEATURES), (0.0,) * len(CONFIDENCE_INPUTS), 0.0, 0.5)
    cases = []
    kbs: list[tuple[str, FaqService, dict[str, list[LabeledQuestion]]]] = []
    for kb_name, source in (("seed", SEED), ("default", DEFAULT_KB)):
        store = SqliteStore.open(tmp / f"{kb_name}.sqlite", create=True)
        service = FaqService(store, embedder=embedder, scoring=neutral, settings=Settings(cache_dir=str(tmp)))
        service.ingest([source])
        kbs.append((kb_name, service, {split: load_questions(path) for split, path in SETS.items()}))
    if medquad_kb is not None:
        store = SqliteStore.open(medquad_kb)
        service = FaqService(store, embedder=embedder, scoring=neutral, settings=Settings(cache_dir=str(tmp)))
        questions = load_questions(MEDQUAD_DEV)
        kbs.append(("medquad", service, {"A": questions[0::2], "B": questions[1::2]}))
    for kb_name, service, splits in kbs:
        loaded = service.loaded()
        entries = loaded.index.entries
        for split, questions in splits.items():
            prepared = [loaded.index.prepare(q.question) for q in questions]
            vectors = embedder.embed([p.text for p in prepared])
            for q, p, v in zip(questions, prepared, vectors, strict=True):
                scores = loaded.index.score(p, v)
                right = np.array(
                    [is_right(Answer(e.id, e.question, e.alternates, "", 0.0, None), q.gold) for e in entries]
                )
                # A question whose gold entries this KB lacks is out of scope here.
                cases.append(Case(kb_name, split, scores.features, right[scores.entries], bool(right.any())))
    return cases


def rank_quality(cases: list[Case], weights: np.ndarray) -> tuple[float, float]:
    top1, mrr = [], []
    for c in cases:
        if not c.in_scope:
            continue
        order = np.argsort(-(c.features @ weights), kind="stable")
        hits = c.right[order]
        top1.append(float(hits[0]))
        first = np.flatnonzero(hits[:5])
        mrr.append(1.0 / (first[0] + 1) if len(first) else 0.0)
    return float(np.mean(top1)), float(np.mean(mrr))


def search_weights(cases: list[Case], rng: np.random.Generator, *, frozen: tuple[str, ...] = ()) -> np.ndarray:
    start = {
        "question_sim": 0.5,
        "bm25": 0.1,
        "qa_sim": 1.0,
        "intent": 0.2,
        "question_recall": 0.1,
        "question_bm25": 0.1,
    }
    best = np.array([start.get(name, 0.0) for name in FEATURES])
    # Every feature is evidence for an entry, except hubness (a penalty): keep the signs.
    signed = np.array([name != "hubness" for name in FEATURES])
    for unused in frozen:
        best[FEATURES.index(unused)] = 0.0
    best_key = rank_quality(cases, best)
    for step in (0.2, 0.1, 0.05, 0.02):
        for _ in range(150):
            trial = best + rng.normal(0, step, len(best))
            trial[signed] = np.clip(trial[signed], 0, None)
            for unused in ("kb_coverage", "query_length", *frozen):  # the first two are equal for all entries
                trial[FEATURES.index(unused)] = 0.0
            key = rank_quality(cases, trial)
            if key > best_key:
                best, best_key = trial, key
    return best / np.abs(best).sum()


def conf_data(cases: list[Case], model: ScoringModel) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for c in cases:
        fused = model.fused(c.features.astype(np.float32))
        order = np.argsort(-fused, kind="stable")[:CANDIDATES]
        xs.append(model.confidence_inputs(c.features.astype(np.float32), fused, order))
        ys.append(c.right[order] & c.in_scope)
    return np.vstack(xs).astype(np.float64), np.concatenate(ys).astype(np.float64)


# Hubness did not help ranking on the small sets in cross-validation (it did on
# MedQuAD), so small KBs keep it for the confidence model only.
FROZEN_FOR_RANKING = {"small": ("hubness",), "large": ()}


def fit(cases: list[Case], rng: np.random.Generator) -> ScoringModel:
    large = any(c.kb == "medquad" for c in cases)
    weights = search_weights(cases, rng, frozen=FROZEN_FOR_RANKING["large" if large else "small"])
    n = len(CONFIDENCE_INPUTS)
    draft = ScoringModel(tuple(weights.tolist()), (0.0,) * n, 0.0, 0.5)
    x, y = conf_data(cases, draft)
    w, b = fit_logistic(x, y, l2=1.0)
    model = ScoringModel(tuple(weights.tolist()), tuple(w.tolist()), b, 0.5)
    target = TARGET_PRECISION["large" if large else "small"]
    threshold = pick_threshold(judge(cases, model), precision=target, min_answered=10) or 0.5
    return ScoringModel(model.rank_weights, model.conf_weights, model.conf_bias, float(threshold))


def judge(cases: list[Case], model: ScoringModel) -> list[Judged]:
    out = []
    for c in cases:
        order, conf = model.rank(c.features.astype(np.float32), depth=10)
        out.append(Judged(c.in_scope, tuple(bool(h) for h in c.right[order]), float(conf[0])))
    return out


def report(label: str, cases: list[Case], model: ScoringModel) -> str:
    judged = judge(cases, model)
    m = summarise(judged, threshold=model.default_threshold)
    ece = expected_calibration_error(judged)
    print(
        f"{label:28s} n={m.questions:3d} top1={m.top1:.3f} mrr5={m.mrr5:.3f} "
        f"prec={m.precision_answered:.3f} cov={m.coverage:.3f} abst={m.abstention_accuracy:.3f} "
        f"handled={m.handled:.3f} ece={ece:.3f} thr={m.threshold:.3f}"
    )
    return (
        f"| {label} | {m.in_scope}+{m.out_of_scope} | {m.top1:.3f} | {m.mrr5:.3f} | {m.precision_answered:.3f} | "
        f"{m.coverage:.3f} | {m.abstention_accuracy:.3f} | {m.handled:.3f} | {ece:.3f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="store faqtual/data/scoring.json")
    parser.add_argument(
        "--medquad-kb",
        type=Path,
        help="a KB built by 'faqtual ingest medquad.jsonl'; adds benchmarks/data/medquad_dev.jsonl "
        "(even lines A, odd B)",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        cases = collect(OnnxMiniLM(), Path(tmp), medquad_kb=args.medquad_kb)
    rows = []
    profiles: dict[str, ScoringModel] = {}
    packaged = json.loads((ROOT / "faqtual" / "data" / "scoring.json").read_text())
    for profile, kbs in (("small", ("seed", "default")), ("large", ("medquad",))):
        subset = [c for c in cases if c.kb in kbs]
        if not subset:
            print(f"no labeled questions for the {profile} profile; keeping the packaged one")
            if profile in packaged:
                profiles[profile] = ScoringModel.from_json(packaged[profile])
            continue
        for train, test in (("A", "B"), ("B", "A")):
            model = fit([c for c in subset if c.split == train], rng)
            for kb in kbs:
                held_out = [c for c in subset if c.split == test and c.kb == kb]
                rows.append(report(f"fit on {train}, tested on {test}, {kb} KB", held_out, model))
        model = fit(subset, rng)
        profiles[profile] = model
        print(
            f"{profile}: features",
            ", ".join(FEATURES),
            "| rank weights:",
            np.round(model.rank_weights, 3).tolist(),
        )
        print(
            f"{profile}: confidence weights",
            np.round(model.conf_weights, 3).tolist(),
            "bias",
            round(model.conf_bias, 3),
        )
        for kb in kbs:
            for split in SETS:
                in_sample = [c for c in subset if c.split == split and c.kb == kb]
                rows.append(report(f"final model on {split}, {kb} KB", in_sample, model))
    if args.write:
        data = {name: model.to_json() for name, model in profiles.items()}
        (ROOT / "faqtual" / "data" / "scoring.json").write_text(json.dumps(data, indent=2) + "\n")
        print("wrote faqtual/data/scoring.json")
        table = "\n".join(
            [
                "| run | questions (in+out) | top-1 | MRR@5 | precision answered | coverage | abstention | "
                "handled right | ECE |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|",
                *rows,
            ]
        )
        thresholds = ", ".join(f"{name} KBs {m.default_threshold:.3f}" for name, m in profiles.items())
        write_section(
            "## Quality (development sets)",
            "## Quality (development sets)\n\n"
            "Command: `HF_HUB_OFFLINE=1 python benchmarks/train_scoring.py --medquad-kb medquad.sqlite --write` "
            "(the MedQuAD KB built by `faqtual ingest ../shared/data/medquad/medquad.jsonl --kb medquad.sqlite`). "
            "Set A is `tests/data/seed_dev.jsonl`, B is `tests/data/seed_dev_b.jsonl`; for MedQuAD, A and B "
            "are the even and odd lines of `benchmarks/data/medquad_dev.jsonl`. The seed KB is `faqtual "
            "ingest` of the seed file, the default KB is `faqtual/data/synkinesis.md`. Small KBs (<= 2,000 "
            "entries) and large ones get separate models, because their indexes embed different units. "
            "Rows 'fit on X, tested on Y' are honest held-out figures (the model never saw Y); 'final' rows "
            f"are in-sample. Default thresholds (>= 95 % precision on A+B for small KBs, >= 90 % for large "
            f"ones): {thresholds}. Questions whose "
            "gold entry is missing from a KB count as out of scope there.\n\n"
            f"{table}\n",
        )


if __name__ == "__main__":
    main()
