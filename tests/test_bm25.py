"""BM25 as the index reads it: straight from bm25s's posting lists, dense for small KBs."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from faqtual.retrieval import postings as postings_module
from faqtual.retrieval.lexicon import analyse
from faqtual.retrieval.postings import Postings
from faqtual.text import content_words

DOCS = [
    "Botox relaxes the muscles that pull the face",
    "Synkinesis is facial muscles moving together when only one should",
    "Nerves regrow slowly after an injury to the face",
    "Massage the face daily and do not push the muscles",
    "Where is Botox injected for synkinesis?",
]
QUERIES = ["muscles pull together", "botox botox face", "nerve injury regrow slowly", "unrelated words only", ""]


@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("query", QUERIES)
def test_index_bm25_matches_bm25s_scores_and_counts_terms(
    query: str, dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postings_module, "DENSE_POSTINGS", 10**9 if dense else 0)
    reference = bm25s.BM25()
    reference.index([analyse(d) for d in DOCS], show_progress=False)
    postings = Postings.of(reference)
    assert (postings.dense is not None) is dense
    terms = [t for t in analyse(query) if t in reference.vocab_dict]
    ids = [reference.vocab_dict[t] for t in terms]
    scores, hits = postings.scores_and_hits(ids, len(DOCS))
    assert np.allclose(scores, reference.get_scores(terms) if terms else 0.0, atol=1e-6)
    assert np.array_equal(postings.scores(ids, len(DOCS)), scores)
    expected_hits = [sum(t in analyse(d) for t in terms) for d in DOCS]
    assert hits.tolist() == expected_hits


def test_bm25_for_more_documents_than_indexed_matches_the_sparse_path_to_the_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference = bm25s.BM25()
    reference.index([analyse(d) for d in DOCS], show_progress=False)
    ids = [reference.vocab_dict[t] for t in analyse("botox face muscles face")]
    dense = Postings.of(reference)
    monkeypatch.setattr(postings_module, "DENSE_POSTINGS", 0)
    sparse = Postings.of(reference)
    n = len(DOCS) + 3  # more documents than any posting names
    for a, b in zip(dense.scores_and_hits(ids, n), sparse.scores_and_hits(ids, n), strict=True):
        assert a.shape == (n,) and np.array_equal(a, b)


def test_postings_tell_how_many_documents_hold_a_term_and_which() -> None:
    reference = bm25s.BM25()
    reference.index([analyse(d) for d in DOCS], show_progress=False)
    postings = Postings.of(reference)
    vocab = reference.vocab_dict
    muscles, botox = vocab[analyse("muscles")[0]], vocab[analyse("botox")[0]]
    assert postings.frequency(muscles) == 3
    assert postings.documents([muscles, botox], len(DOCS)).tolist() == [0, 1, 3, 4]
    assert postings.documents([], len(DOCS)).tolist() == []


def test_a_condition_named_with_a_common_word_keeps_it() -> None:
    assert content_words("Is Down syndrome hereditary?") == ["down", "syndrome", "hereditary"]
