"""Abbreviations a KB defines are spelled out in questions; link-only answers rank below real ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.retrieval.abbreviations import definitions, expansions, mine
from faqtual.retrieval.confidence import ScoringModel
from faqtual.retrieval.embed import OnnxMiniLM
from faqtual.retrieval.index import FEATURES, LARGE_KB
from faqtual.retrieval.lexicon import common_words
from faqtual.text import prose_words


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("Polycystic kidney disease (PKD) is inherited.", [("pkd", "polycystic kidney disease")]),
        ("Some have neurofibromatosis type 1 (NF1).", [("nf1", "neurofibromatosis type 1")]),
        ("It is called Charcot-Marie-Tooth disease (CMT).", [("cmt", "charcot-marie-tooth disease")]),
        # One long word for a short form of three letters or more.
        ("Babies are screened for phenylketonuria (PKU) at birth.", [("pku", "phenylketonuria")]),
        # One word for two letters is a chance match; a hyphenated short form in one word is syllables.
        ("It is called alopecia areata (AA).", []),
        ("Blood clots need platelets (plate-lets).", []),
        # Not abbreviations, or letters the words before do not spell.
        ("Take it twice a day (see below).", []),
        ("The rash (ABC) fades.", []),
    ],
)
def test_definitions_are_found_only_where_the_words_spell_the_letters(text: str, pairs: list) -> None:
    assert definitions(text) == pairs


def test_a_short_form_keeps_its_majority_meaning_and_only_if_the_kb_is_about_it() -> None:
    texts = [
        "Multiple sclerosis (MS) affects nerves.",
        "People with multiple sclerosis (MS) tire.",
        "Mass spectrometry (MS) measures it.",
        "The endoplasmic reticulum (ER) folds proteins.",
    ]
    assert mine(texts) == {"ms": "multiple sclerosis", "er": "endoplasmic reticulum"}
    assert mine(texts, topics=lambda long: "sclerosis" in long) == {"ms": "multiple sclerosis"}


def test_only_capitals_or_non_words_are_spelled_out() -> None:
    known = {"ms": "multiple sclerosis", "pkd": "polycystic kidney disease", "all": "acute lymphoblastic leukemia"}
    words = common_words()
    assert expansions("My wife has MS and is tired", known, common_words=words) == ["multiple sclerosis"]
    assert expansions("my mom has pkd", known, common_words=words) == ["polycystic kidney disease"]
    assert expansions("is it all in my head", known, common_words=words) == []
    assert expansions("I have tried ALL of them", known, common_words=words) == []
    # Typed in capitals, case says nothing: "ALL" is the word, "PKD" still no word.
    assert expansions("IS IT ALL FROM PKD", known, common_words=words) == ["polycystic kidney disease"]
    # Already spelled out: nothing to add.
    assert expansions("MS (multiple sclerosis) flare", known, common_words=words) == []


def test_prose_words_count_statements_not_links_or_questions() -> None:
    links = "These resources address the management of X: - Genetic Testing Registry: X - MedlinePlus: X"
    assert prose_words(links) == 0
    assert prose_words("How might X be treated?") == 0
    assert prose_words("How might X be treated? Rest and fluids help most people recover.") == 7


@pytest.mark.model
def test_a_question_using_an_abbreviation_finds_the_entry_that_spells_it_out(
    tmp_path: Path, minilm: OnnxMiniLM
) -> None:
    # An invented syndrome: neither the model nor BM25 can know what "VHS" stands for,
    # except from the one answer that defines it.
    rows = [
        ("cause", "What causes Varden-Holm syndrome?", "Varden-Holm syndrome (VHS) is caused by a changed gene."),
        ("treat", "How is Varden-Holm syndrome treated?", "Physiotherapy and braces keep the joints moving."),
        ("other", "How is Kessler-Brandt disease treated?", "Medicines and diet protect the liver."),
        ("third", "How is Orlan fever treated?", "Rest and fluids until the fever passes."),
    ]
    source = tmp_path / "kb.jsonl"
    source.write_text("".join(json.dumps({"id": i, "question": q, "answer": a}) + "\n" for i, q, a in rows))
    service = open_service(Settings(), kb=str(tmp_path / "kb.sqlite"), create=True, embedder=minilm)
    service.ingest([source])
    # Unexpanded, "VHS" matches only the answer that defines it: the cause entry came first.
    assert service.ask("my son has VHS, what treatment is there").answers[0].entry_id == "treat"


def test_the_large_kb_ranker_puts_an_answer_that_only_lists_links_below_a_real_one() -> None:
    """MedQuAD holds 1,085 answers that only list links; its labeled questions never count them as answers."""
    model = ScoringModel.packaged().for_size(LARGE_KB + 1)
    features = np.full((2, len(FEATURES)), 0.5, dtype=np.float32)
    prose = FEATURES.index("answer_prose")
    features[0, prose], features[1, prose] = 0.0, 1.0
    scores = model.scores(features)
    assert scores[1] > scores[0]
