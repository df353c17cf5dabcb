"""Near ties, several KBs in precedence, and the large-KB index path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import run_faqtual

from faqtual.config import Settings
from faqtual.factory import open_service
from faqtual.models import FaqEntry
from faqtual.retrieval import index as index_module
from faqtual.retrieval.embed import HashEmbedder, OnnxMiniLM
from faqtual.retrieval.index import Index, units_for
from faqtual.retrieval.lexicon import common_words, intents
from faqtual.router import KbRouter
from faqtual.service import FaqService
from faqtual.text import question_part

pytestmark = pytest.mark.model


def test_two_entries_that_answer_alike_are_offered_as_did_you_mean(seed_service: FaqService) -> None:
    result = seed_service.ask("how long does synkinesis last")
    ids = [a.entry_id for a in result.answers]
    assert {ids[0], *result.did_you_mean} >= {
        a.entry_id for a in result.answers if a.question.startswith("How long does") and "synkinesis last" in a.question
    }
    assert result.did_you_mean, "the two 'how long does synkinesis last' entries are a near tie"


def test_an_exact_question_has_no_near_tie(seed_service: FaqService) -> None:
    result = seed_service.ask("How long does Botox last for synkinesis?")
    assert result.answered
    assert result.answers[0].question == "How long does Botox last for synkinesis?"
    assert result.did_you_mean == ()


def test_confidences_never_rise_down_the_list(seed_service: FaqService) -> None:
    for question in ("where is botox injected", "can nerves grow back", "what is the capital of France"):
        confidences = [a.confidence for a in seed_service.ask(question, top=8).answers]
        assert confidences == sorted(confidences, reverse=True)


def test_the_first_kb_that_is_sure_answers_and_names_itself(seed_kb: Path, tmp_path: Path, minilm: OnnxMiniLM) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(
        json.dumps({"id": "shingles-1", "question": "What is shingles?", "answer": "Shingles is a painful rash."})
        + "\n"
    )
    general = open_service(Settings(), kb=str(tmp_path / "general.sqlite"), create=True, embedder=minilm)
    general.ingest([other])
    seed = open_service(Settings(), kb=str(seed_kb), embedder=minilm)
    router = KbRouter([seed, general])
    botox = router.ask("how long does botox last for synkinesis")
    assert botox.answered and botox.answers[0].kb == "seed"
    shingles = router.ask("what is shingles")
    assert shingles.answered and shingles.answers[0].entry_id == "shingles-1"
    assert router.ask("what is the capital of france").answered is False


def test_cli_asks_several_kbs_in_order(seed_kb: Path) -> None:
    done = run_faqtual(["ask", "what does synkinesis mean", "--kb", "default", "--kb", str(seed_kb), "--json"])
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["answered"] and data["answers"][0]["kb"] == "synkinesis"  # the packaged KB came first


def test_large_kbs_use_the_hnsw_index_and_find_the_same_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    entries = [
        FaqEntry(id=f"e{n}", question=f"What is condition number {n} called {word}?", answer=f"It is {word}.")
        for n, word in enumerate(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"] * 5)
    ]
    embedder = HashEmbedder()
    units = units_for(entries, large=True)
    vectors = embedder.embed(list(units.texts))
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 10)
    monkeypatch.setattr(index_module, "LARGE_KB", 10)
    monkeypatch.setattr(index_module, "LEXICAL_SHORTLIST", 5)
    monkeypatch.setattr(index_module, "DENSE_SHORTLIST", 5)
    hnsw = Index.build(entries, units, vectors, common_words=common_words())
    assert hnsw._ann is not None
    query = hnsw.prepare("what is condition number 17 called bravo")
    scores = hnsw.score(query, embedder.embed([query.text])[0])
    assert len(scores.entries) < len(entries)  # candidates only, not every entry
    best = scores.entries[np.argmax(scores.features[:, 0])]
    assert entries[best].id == "e17"


def test_a_reloaded_hnsw_index_searches_as_wide_as_the_one_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = [
        FaqEntry(id=f"e{n}", question=f"What is disease {n}?", answer=f"Disease {n} is rare.") for n in range(40)
    ]
    embedder = HashEmbedder()
    units = units_for(entries, large=True)
    monkeypatch.setattr(index_module, "EXACT_LIMIT", 10)
    built = Index.build(entries, units, embedder.embed(list(units.texts)), common_words=common_words())
    built.save(tmp_path / "index")
    loaded = Index.load(tmp_path / "index", entries, common_words=common_words())
    # usearch forgets the search width on save; a restart must not search narrower.
    assert loaded._ann.expansion_search == built._ann.expansion_search == index_module.ann_settings(len(units.texts))[1]


def test_a_large_kb_index_is_cached_and_reloaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("faqtual.service.LARGE_KB", 5)
    monkeypatch.setattr("faqtual.indexing.LARGE_KB", 5)
    rows = [{"id": f"q{n}", "question": f"What is disease {n}?", "answer": f"Disease {n} is rare."} for n in range(12)]
    source = tmp_path / "kb.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    settings = Settings(cache_dir=str(tmp_path / "cache"))
    first = open_service(settings, kb=str(tmp_path / "kb.sqlite"), create=True, embedder=HashEmbedder())
    first.ingest([source])
    answer = first.ask("what is disease 7").answers[0].entry_id
    cached = list((tmp_path / "cache" / "indexes").iterdir())
    assert len(cached) == 1 and (cached[0] / "vectors.npy").is_file()
    second = open_service(settings, kb=str(tmp_path / "kb.sqlite"), embedder=HashEmbedder())
    assert second.ask("what is disease 7").answers[0].entry_id == answer == "q7"


def test_loading_the_hnsw_index_first_does_not_crash_the_encoder() -> None:
    """onnxruntime imported after usearch segfaults; the index must import it first."""
    code = (
        "from faqtual.retrieval.index import _hnsw_class; _hnsw_class();"
        "from faqtual.retrieval.embed import OnnxMiniLM; print(OnnxMiniLM().embed(['hello']).shape)"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "(1, 384)" in done.stdout


def test_a_curated_question_asked_word_for_word_is_answered_with_its_entry(tmp_path: Path, minilm: OnnxMiniLM) -> None:
    faq = tmp_path / "faq.md"
    faq.write_text(
        "## Can synkinesis spread to my family?\n"
        "<!-- alternates: Can my dog catch it from me? -->\n"
        "No. Synkinesis comes from how a facial nerve healed; it cannot pass to anyone else.\n\n"
        "## How long does Botox last for synkinesis?\n\nUsually about three to four months.\n\n"
        "## What does synkinesis mean?\n\nFacial muscles moving together when only one should.\n",
        encoding="utf-8",
    )
    service = open_service(Settings(), kb=str(tmp_path / "kb.sqlite"), create=True, embedder=minilm)
    service.ingest([faq])
    # The curator's own alternate, case, punctuation and spacing aside: right by curation.
    result = service.ask("  can my DOG catch it from me  ")
    assert result.answered and result.answers[0].question == "Can synkinesis spread to my family?"
    assert result.answers[0].confidence >= 0.99 and result.did_you_mean == ()
    # Another animal is a new question for the model to judge, not a curated one.
    assert service.ask("can my cat catch it from me").answers[0].confidence < 0.99


@pytest.mark.parametrize(
    ("question", "asked", "not_asked"),
    [
        (
            "My husband was diagnosed with Marfan syndrome. What are the chances our kids have it too?",
            "inheritance",
            "outlook",
        ),
        ("what the chances are that our baby would have it too?", "inheritance", "outlook"),
        ("what are my chances of recovery after the surgery", "outlook", "inheritance"),
        ("what are the chances our baby will have sickle cell disease?", "inheritance", "outlook"),
        ("what are the chances I have PKD too, and could I have passed it to my kids", "inheritance", "outlook"),
        ("Is it always passed on, does it skip generations?", "inheritance", None),
        ("is fragile x passed from the mom or the dad", "inheritance", None),
        ("Is it something I passed to him? I am his mother", "inheritance", None),
        ("my son has VHS, what treatment is there", "treatment", "inheritance"),
        ("could my daughter have it too", "inheritance", None),
        ("the doctor passed me to a specialist, what treatment is there", "treatment", "inheritance"),
        ("is there any chance the nerve will get back to full function?", "outlook", "inheritance"),
        ("is there anything I can do to lower my chances?", "prevention", None),
        ("How long do people usually live after being diagnosed with ALS?", "outlook", None),
        ("How long do people with CF live now days?", "outlook", "duration"),
        ("how to tell if a mole is melanoma", "symptoms", None),
        ("how do i know if my son has it", "symptoms", None),
        ("will my son be able to live a normal life?", "outlook", None),
        ("I was diagnosed with gout last year, what should I eat?", None, "tests"),
        ("I was diagnosed with gout last year, what should I eat?", None, "duration"),
        ("how is gout diagnosed", "tests", None),
        ("how long does it last", "duration", None),
        ("what actually is synkinesis, my doctor mentioned it at my last appointment", "definition", "duration"),
        ("does it last a few months", "duration", None),
        ("will these linked movements be there for life", "duration", None),
        ("botox wears off synkinesis when", "duration", None),
        ("the jabs were wearing off after ten weeks", "duration", None),
        ("another part of my face moves too. is that an actual condition?", "definition", None),
        ("what can be done for this? will it go away on its own", "treatment", None),
        ("can these cysts be removed or drained?", "treatment", None),
        ("is there anything we can do for her", "treatment", None),
        ("is there anything i can do to keep from getting diabetes", "prevention", "treatment"),
        ("we are both average height, how did this happen", "cause", None),
        ("Could you kindly explain whether Parkinson's can be responsible for this?", "cause", "definition"),
        ("what brought this on", "cause", None),
        ("Can a water pill bring on gout?", "cause", None),
        ("Is Kawasaki disease contagious to siblings?", "cause", None),
        ("Will he grow out of it when he gets older?", "duration", None),
        ("Is it really serious if it went away by itself?", "outlook", None),
        ("What can I do on the plane so that doesn't happen to me?", "prevention", None),
        ("can you explain synkinesis", "definition", None),
        ("how do kids get pinworms", "cause", None),
        ("how do you get rid of warts", "treatment", "cause"),
        ("progeria how many kids in the world have it", "frequency", None),
        ("What long term heart problems can Kawasaki disease cause?", "complications", "cause"),
        ("can it cause cancer", "complications", "cause"),
        ("can diabetes damage the kidneys", "complications", None),
        ("how to fix facial nerve damage", "treatment", "complications"),
        ("what problems can diabetes cause in the eyes", "complications", "cause"),
        ("Can Parkinson's disease cause synkinesis, or only Bell's palsy?", "cause", None),
        ("does smoking cause synkinesis", "cause", None),
        ("he has trouble keeping an erection. Can diabetes cause this problem?", "cause", None),
        ("he has trouble keeping an erection. Can diabetes cause this problem?", "complications", None),
        ("what can cause ringing in the ears", "cause", "complications"),
        ("what causes gout and can it cause kidney stones", "cause", None),
        ("what causes gout and can it cause kidney stones", "complications", None),
    ],
)
def test_intents_tell_what_is_asked_from_the_story_around_it(
    question: str, asked: str | None, not_asked: str | None
) -> None:
    found = intents(question)
    if asked:
        assert asked in found, sorted(found)
    if not_asked:
        assert not_asked not in found, sorted(found)


@pytest.mark.parametrize(
    ("message", "part"),
    [
        ("how long does botox last", "how long does botox last"),
        (
            "I had Bell's palsy last year and tried every treatment. What causes the twitching?",
            "What causes the twitching?",
        ),
        ("Dad had surgery in May. Is this synkinesis? He is 79.", "Is this synkinesis?"),
        ("My eye shuts when I smile. Please explain it to me.", "Please explain it to me."),
        ("Had Botox twice. why does it wear off. is it normal", "why does it wear off. is it normal"),
    ],
)
def test_the_question_part_of_a_message_is_the_sentences_that_ask(message: str, part: str) -> None:
    assert question_part(message) == part


def test_what_a_long_message_asks_comes_from_its_question_not_its_story() -> None:
    entries = [FaqEntry(id="cause", question="What is the cause of synkinesis?", answer="Nerve fibres regrow wrongly.")]
    embedder = HashEmbedder()
    units = units_for(entries)
    index = Index.build(entries, units, embedder.embed(list(units.texts)), common_words=common_words())
    story = "I tried Botox treatment and facial therapy for a year. What actually causes it in the first place?"
    asked = index.prepare(story).intents
    assert "cause" in asked and "treatment" not in asked, sorted(asked)


def test_a_message_longer_than_the_encoder_reads_keeps_its_question(seed_service: FaqService) -> None:
    """The encoder reads ~180 words; cut at that, this message would lose the question at its end."""
    story = (
        "I had my parotid surgery two years ago at the city hospital and the surgeon was kind and the nurses "
        "were lovely, and I went home after four days with my husband, who drove very slowly all the way. "
    )
    message = "Hello. " + story * 8 + "Why does my eye close whenever I smile now?"
    assert len(message.split()) > index_module.ENCODER_WORDS
    query = seed_service.loaded().index.prepare(message)
    assert query.encoder_text.endswith("why does my eye close whenever i smile now?")
    assert len(query.encoder_text.split()) <= index_module.ENCODER_WORDS
    # Cut at 256 tokens, the encoder saw only the story, and no answer about the cause came up.
    shown = [a.question for a in seed_service.ask(message, top=3).answers]
    assert "What is the cause of synkinesis?" in shown


def test_a_question_the_faq_has_no_kind_of_entry_for_looks_to_the_entry_that_covers_it() -> None:
    def kb(*extra: FaqEntry) -> Index:
        entries = [
            FaqEntry(id="cause", question="What is the cause of it?", answer="Faulty genes, or an injury."),
            FaqEntry(id="last", question="How long does it last?", answer="About two years."),
            *extra,
        ]
        units = units_for(entries, large=False)
        return Index.build(entries, units, HashEmbedder().embed(list(units.texts)), common_words=common_words())

    def intent_feature(index: Index, question: str) -> dict[str, float]:
        query = index.prepare(question)
        scores = index.score(query, HashEmbedder().embed([query.encoder_text])[0])
        column = index_module.FEATURES.index("intent")
        return {index.entries[i].id: float(f) for i, f in zip(scores.entries, scores.features[:, column], strict=True)}

    # No entry asks whether it is inherited: the cause entry is the one that speaks of genes.
    assert intent_feature(kb(), "is it genetic?") == {"cause": 1.0, "last": 0.0}
    # With an entry that asks it, that entry alone matches.
    inherited = FaqEntry(id="inherited", question="Is it inherited?", answer="No, it is not passed on.")
    assert intent_feature(kb(inherited), "is it genetic?") == {"cause": 0.0, "last": 0.0, "inherited": 1.0}
