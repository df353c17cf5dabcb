"""Safety rules: the packaged rules on the labelled dev set, the rules-file format, and the contract.

The dev set (tests/data/safety_dev.jsonl) holds red-flag messages labelled with
the rule that must fire and harmless look-alikes labelled null, which must
reach the FAQ. Both rates are printed and recorded (``record_property``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from faqtual import config
from faqtual.cli import cli
from faqtual.errors import ConfigError
from faqtual.factory import open_service, safety_rules
from faqtual.models import AskResult
from faqtual.retrieval.embed import HashEmbedder, OnnxMiniLM
from faqtual.safety import Disposition, SafetyHit, SafetyRules
from faqtual.service import FaqService

DEV = Path(__file__).resolve().parent / "data" / "safety_dev.jsonl"


def _dev() -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["q"], row["rule"]) for row in rows]


@pytest.fixture(scope="module")
def rules() -> SafetyRules:
    return SafetyRules.packaged()


@pytest.fixture
def default_service(minilm: OnnxMiniLM) -> Iterator[FaqService]:
    """The packaged synkinesis KB (built in the session cache) with the packaged rules and the real model."""
    service = open_service(config.load(), embedder=minilm)
    yield service
    service.store.close()


# -- the dev set ---------------------------------------------------------------


def test_dev_set_is_big_enough() -> None:
    rows = _dev()
    red = [r for r in rows if r[1]]
    assert len(red) >= 40 and len(rows) - len(red) >= 40
    assert {rule for _, rule in red} == {r.id for r in SafetyRules.packaged().rules}


@pytest.mark.model
def test_dev_set_rates_through_the_service(
    default_service: FaqService, record_property: pytest.RecordProperty, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _dev()
    results = default_service.ask_many([q for q, _ in rows])
    red_hits = [
        r.safety is not None and r.safety.rule == want for r, (_, want) in zip(results, rows, strict=True) if want
    ]
    harmless_ok = [r.safety is None for r, (_, want) in zip(results, rows, strict=True) if want is None]
    red_rate = sum(red_hits) / len(red_hits)
    harmless_rate = sum(harmless_ok) / len(harmless_ok)
    record_property("safety_red_flag_rate", red_rate)
    record_property("safety_harmless_pass_rate", harmless_rate)
    with capsys.disabled():
        print(
            f"\nsafety dev set: red flags caught {sum(red_hits)}/{len(red_hits)} ({red_rate:.0%}), "
            f"harmless reached the FAQ {sum(harmless_ok)}/{len(harmless_ok)} ({harmless_rate:.0%})"
        )
    wrong = [
        (q, want, r.safety.rule if r.safety else None)
        for r, (q, want) in zip(results, rows, strict=True)
        if (r.safety.rule if r.safety else None) != want
    ]
    assert wrong == []


@pytest.mark.parametrize(("question", "rule"), _dev())
def test_dev_set_patterns_alone(rules: SafetyRules, question: str, rule: str | None) -> None:
    """Phrases and patterns alone (no model) already get every dev message right."""
    hit = rules.check(question)
    assert (hit.rule if hit else None) == rule


@pytest.mark.model
def test_examples_catch_a_paraphrase_the_patterns_miss(rules: SafetyRules, minilm: OnnxMiniLM) -> None:
    embedded = rules.with_vectors(minilm)
    text = "one side of my face has started drooping"
    assert rules.check(text) is None
    hit = embedded.check(text, minilm.embed([text])[0])
    assert hit is not None and hit.rule == "sudden-facial-weakness" and hit.via == "example"


@pytest.mark.model
def test_examples_respect_vetoes(rules: SafetyRules, minilm: OnnxMiniLM) -> None:
    embedded = rules.with_vectors(minilm)
    text = "one side of my face has started drooping, two years ago"
    assert embedded.check(text, minilm.embed([text])[0]) is None


@pytest.mark.parametrize(
    "question",
    [
        "my face drooped after Bell's palsy two years ago, will Botox help?",
        "how long does Botox last",
        "my eye doesn't close fully since my palsy last year, is that synkinesis?",
        "Do I have to keep doing my exercises?",
        "How much does Botox cost?",
    ],
)
def test_harmless_look_alikes_do_not_fire(rules: SafetyRules, question: str) -> None:
    assert rules.check(question) is None


def test_new_red_flag_after_old_history_fires(rules: SafetyRules) -> None:
    hit = rules.check("I had Bell's palsy two years ago but this morning my face suddenly drooped")
    assert hit is not None and hit.disposition is Disposition.EMERGENCY


def test_emergency_wins_over_a_less_urgent_rule(rules: SafetyRules) -> None:
    hit = rules.check("Do I have bell's palsy? my face suddenly drooped an hour ago")
    assert hit is not None and hit.rule == "sudden-facial-weakness"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_check_never_raises_and_returns_a_known_rule(rules: SafetyRules, text: str) -> None:
    hit = rules.check(text)
    assert hit is None or hit.rule in {r.id for r in rules.rules}


# -- the service contract ------------------------------------------------------


@pytest.mark.model
def test_safety_hit_wins_over_any_answer(default_service: FaqService) -> None:
    result = default_service.ask("My face suddenly drooped an hour ago, will botox help my synkinesis?")
    assert result.safety is not None
    assert result.answered is False and result.answers == ()
    assert result.message == result.safety.message
    data = json.loads(json.dumps(result.to_json()))
    assert data["answered"] is False and data["answers"] == []
    assert data["safety"] == {
        "rule": "sudden-facial-weakness",
        "disposition": "emergency",
        "message": result.safety.message,
    }
    assert set(data["safety"]) == {"rule", "disposition", "message"}


@pytest.mark.model
def test_no_rule_gives_null_safety(default_service: FaqService) -> None:
    data = default_service.ask("How long does Botox last for synkinesis?").to_json()
    assert data["safety"] is None and data["answered"] is True


@pytest.mark.model
def test_safety_hit_is_logged_without_the_question(
    default_service: FaqService, caplog: pytest.LogCaptureFixture
) -> None:
    question = "how many units of botox should I inject, my name is Jane Example"
    with caplog.at_level(logging.INFO, logger="faqtual.service"):
        default_service.ask(question)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "dosing" in logged and "Jane" not in logged and "units" not in logged


def test_service_without_rules_answers_as_before(seed_service: FaqService) -> None:
    seed_service.safety = None
    assert seed_service.ask("My face suddenly drooped an hour ago").safety is None


def test_ask_result_json_has_safety_null_by_default() -> None:
    assert AskResult(question="q", answered=False, answers=(), message=None).to_json()["safety"] is None


def test_hit_to_json() -> None:
    hit = SafetyHit(rule="r", disposition=Disposition.OUT_OF_SCOPE, message="m")
    assert hit.to_json() == {"rule": "r", "disposition": "out-of-scope", "message": "m"}


@pytest.mark.model
def test_cli_ask_shows_the_emergency_message() -> None:
    result = CliRunner().invoke(cli, ["ask", "my face just started drooping on the left, what do I do"])
    assert result.exit_code == 0, result.output
    assert "EMERGENCY" in result.output
    assert "Call emergency services now" in result.output
    assert "Confidence:" not in result.output


@pytest.mark.model
def test_cli_ask_json_carries_the_safety_object() -> None:
    result = CliRunner().invoke(cli, ["ask", "what dose of botox should I take", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["safety"]["disposition"] == "see-a-clinician" and data["answers"] == []


# -- the rules file ------------------------------------------------------------

GOOD_RULE = """
[[rule]]
id = "r1"
disposition = "emergency"
message = "Call for help."
phrases = ["help me now"]
"""


def test_load_a_rules_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD_RULE, encoding="utf-8")
    rules = SafetyRules.load(path)
    assert [r.id for r in rules.rules] == ["r1"]
    assert rules.check("Please HELP   me now!") == SafetyHit("r1", Disposition.EMERGENCY, "Call for help.", "phrase")


def test_unknown_disposition_lists_the_valid_ones(tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(GOOD_RULE.replace('"emergency"', '"urgent"'), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        SafetyRules.load(path)
    text = str(info.value)
    assert str(path) in text and "'r1'" in text and "'urgent'" in text
    assert "emergency, see-a-clinician, out-of-scope" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rule]\nid=", "not valid TOML"),
        ("x = 1", "no rules"),
        (GOOD_RULE.replace('message = "Call for help."', ""), "'message'"),
        (GOOD_RULE.replace('phrases = ["help me now"]', ""), "no triggers"),
        (GOOD_RULE.replace('phrases = ["help me now"]', 'patterns = ["(unclosed"]'), "not a valid regular"),
        (GOOD_RULE.replace('phrases = ["help me now"]', 'patterns = ["{nope} x"]'), "{nope}"),
        (GOOD_RULE + 'colour = "red"\n', "unknown key(s) colour"),
        (GOOD_RULE + 'scope = "sentence"\n', "unknown scope 'sentence'"),
        (GOOD_RULE + "min_similarity = 2\n", "min_similarity"),
        (GOOD_RULE + GOOD_RULE, "two rules have the id 'r1'"),
        (GOOD_RULE.replace('id = "r1"', ""), "rule 1 has no 'id'"),
        (GOOD_RULE.replace('phrases = ["help me now"]', "phrases = [1]"), "'phrases' must be a list"),
    ],
)
def test_bad_rules_file_names_the_file_and_the_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        SafetyRules.load(path)
    assert str(path) in str(info.value) and expected in str(info.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Cannot read the safety rules file"):
        SafetyRules.load(tmp_path / "nope.toml")


def test_terms_and_clause_vetoes() -> None:
    rules = SafetyRules.parse(
        """
        [terms]
        now = 'today|just now'
        [[rule]]
        id = "r"
        disposition = "see-a-clinician"
        message = "m"
        patterns = ['{now}.*hurts']
        unless = ['years ago']
        """
    )
    assert rules.check("today it hurts") is not None
    assert rules.check("two years ago today it hurts") is None
    assert rules.check("it started years ago. but today it hurts") is not None


def test_message_vetoes_reach_across_clauses() -> None:
    """``unless_message`` looks at the whole message, so a clause-scoped rule sees "the ER said ..." elsewhere."""
    rules = SafetyRules.parse(
        """
        [[rule]]
        id = "r"
        disposition = "emergency"
        message = "m"
        patterns = ['today.*hurts']
        unless = ['years ago']
        unless_message = ['the er said']
        """
    )
    assert rules.check("today it hurts. what helps?") is not None
    assert rules.check("today it hurts. the ER said it is nothing, what helps?") is None
    assert rules.check("it hurt years ago. but today it hurts") is not None


def test_examples_with_the_fake_embedder() -> None:
    rules = SafetyRules.parse(
        """
        [[rule]]
        id = "ex"
        disposition = "out-of-scope"
        message = "m"
        examples = ["what is the weather like in paris"]
        min_similarity = 0.9
        """
    )
    embedder = HashEmbedder()
    assert rules.needs_vectors(embedder.model_id)
    embedded = rules.with_vectors(embedder)
    assert not embedded.needs_vectors(embedder.model_id)
    same, other = embedder.embed(["What is the weather like in Paris?", "how long does botox last"])
    assert embedded.check("x", same) == SafetyHit("ex", Disposition.OUT_OF_SCOPE, "m", "example")
    assert embedded.check("x", other) is None
    assert rules.check("x", same) is None  # examples not embedded yet: they cannot fire


# -- choosing the rules (setting safety_rules) ---------------------------------


def _clinic_rules(folder: Path) -> Path:
    """A clinic's own rules file with one rule: billing questions go to the office."""
    path = folder / "clinic.toml"
    path.write_text(
        '[[rule]]\nid = "billing"\ndisposition = "out-of-scope"\nmessage = "Call the office."\nphrases = ["invoice"]\n',
        encoding="utf-8",
    )
    return path


def test_the_setting_picks_packaged_none_or_a_file(tmp_path: Path) -> None:
    assert safety_rules(config.Settings()) == SafetyRules.packaged()
    assert safety_rules(config.Settings(safety_rules="none")) is None
    path = _clinic_rules(tmp_path)
    rules = safety_rules(config.Settings(safety_rules=str(path)))
    assert rules is not None and [r.id for r in rules.rules] == ["billing"]
    with pytest.raises(ConfigError, match="nope.toml"):
        safety_rules(config.Settings(safety_rules=str(tmp_path / "nope.toml")))


@pytest.mark.model
def test_cli_uses_the_rules_the_setting_names(tmp_path: Path) -> None:
    path = _clinic_rules(tmp_path)
    emergency = "my face suddenly drooped an hour ago"
    runner = CliRunner()
    own = runner.invoke(cli, ["ask", "--json", "where is my invoice"], env={"FAQTUAL_SAFETY_RULES": str(path)})
    assert own.exit_code == 0 and json.loads(own.output)["safety"]["rule"] == "billing"
    off = runner.invoke(cli, ["ask", "--json", emergency], env={"FAQTUAL_SAFETY_RULES": "none"})
    assert off.exit_code == 0 and json.loads(off.output)["safety"] is None
    packaged = runner.invoke(cli, ["ask", "--json", emergency])
    assert json.loads(packaged.output)["safety"]["disposition"] == "emergency"


_EXAMPLE_RULES = """
[[rule]]
id = "first"
disposition = "see-a-clinician"
message = "First rule."
examples = ["alpha bravo charlie", "delta echo foxtrot"]
min_similarity = 0.99

[[rule]]
id = "no-examples"
disposition = "see-a-clinician"
message = "Phrases only."
phrases = ["golf hotel"]

[[rule]]
id = "last"
disposition = "out-of-scope"
message = "Last rule."
examples = ["india juliett kilo", "quebec romeo sierra"]
min_similarity = 0.99

[[rule]]
id = "trailing"
disposition = "out-of-scope"
message = "Phrases only, last."
phrases = ["lima mike"]
"""


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("alpha bravo charlie", "first"),
        ("delta echo foxtrot", "first"),  # a rule's last example, before a rule without any
        ("quebec romeo sierra", "last"),  # the last example of all, before a trailing rule without any
        ("november oscar papa", None),
    ],
)
def test_every_rules_examples_are_compared(text: str, rule: str | None) -> None:
    embedder = HashEmbedder()
    rules = SafetyRules.parse(_EXAMPLE_RULES).with_vectors(embedder)
    hit = rules.check(text, embedder.embed([text])[0])
    assert (hit.rule if hit else None) == rule
    assert hit is None or hit.via == "example"
