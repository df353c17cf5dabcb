"""Safety rules: red-flag messages get a fixed response before any FAQ answer.

A rules file (TOML, readable by the clinicians who sign it off) lists rules;
each has a disposition (:class:`Disposition`), a fixed message and triggers:
phrases, regular expressions and semantic examples. :meth:`SafetyRules.check`
is pure: text (and optionally the question's embedding) in, a
:class:`SafetyHit` or ``None`` out. The packaged rules for the synkinesis FAQ
are ``faqtual/data/safety.toml``; its header explains the format.
"""

from __future__ import annotations

import enum
import importlib.resources
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from faqtual.errors import ConfigError
from faqtual.retrieval.embed import Embedder
from faqtual.text import normalize_text

Scope = Literal["clause", "message"]
Via = Literal["phrase", "pattern", "example"]

DEFAULT_RULES_RESOURCE = "safety.toml"
#: Cosine an example must reach when a rule sets none. Tuned on
#: tests/data/safety_dev.jsonl with all-MiniLM-L6-v2: harmless look-alikes
#: ("my face drooped after Bell's palsy two years ago") reach about 0.75.
DEFAULT_MIN_SIMILARITY = 0.8

# Where a message splits into clauses for "clause"-scoped rules: sentence ends,
# semicolons, line breaks, and contrast words, so "I had Bell's palsy two years
# ago but this morning my face suddenly drooped" keeps the old history (a veto)
# apart from the new red flag.
_CLAUSE_BREAK = re.compile(r"[.!?;\n]+|\b(?:but|however|although|though|whereas|except)\b")
_TERM = re.compile(r"\{([a-z_]+)\}")
_RULE_KEYS = frozenset(
    {
        "id",
        "disposition",
        "scope",
        "message",
        "phrases",
        "patterns",
        "unless",
        "unless_message",
        "examples",
        "min_similarity",
    }
)


class Disposition(enum.StrEnum):
    """What a triggered rule tells the patient to do."""

    EMERGENCY = "emergency"
    SEE_A_CLINICIAN = "see-a-clinician"
    OUT_OF_SCOPE = "out-of-scope"

    @classmethod
    def parse(cls, value: object) -> Disposition:
        """The disposition named ``value``.

        Raises:
            ValueError: ``value`` is not one of the valid names (the message lists them).
        """
        for member in cls:
            if value == member.value:
                return member
        valid = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown disposition {value!r}; valid: {valid}")


#: Rules are checked most urgent first, then in file order.
_URGENCY = {Disposition.EMERGENCY: 0, Disposition.SEE_A_CLINICIAN: 1, Disposition.OUT_OF_SCOPE: 2}


@dataclass(frozen=True)
class SafetyRule:
    """One rule of a rules file (patterns compiled, terms expanded)."""

    id: str
    disposition: Disposition
    message: str
    phrases: tuple[str, ...] = ()
    patterns: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    unless_message: tuple[re.Pattern[str], ...] = ()
    examples: tuple[str, ...] = ()
    min_similarity: float = DEFAULT_MIN_SIMILARITY
    scope: Scope = "clause"

    @cached_property
    def any_pattern(self) -> re.Pattern[str] | None:
        """``patterns`` as one alternation: one search per message part instead of one per pattern."""
        return _alternation(self.patterns)

    @cached_property
    def any_unless(self) -> re.Pattern[str] | None:
        """``unless`` as one alternation."""
        return _alternation(self.unless)

    @cached_property
    def any_unless_message(self) -> re.Pattern[str] | None:
        """``unless_message`` as one alternation."""
        return _alternation(self.unless_message)


def _alternation(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class SafetyHit:
    """A rule that fired on a question: the JSON contract's ``safety`` object.

    ``via`` says which kind of trigger fired; it is logged, not shown.
    """

    rule: str
    disposition: Disposition
    message: str
    via: Via = "pattern"

    def to_json(self) -> dict[str, str]:
        """``{"rule": ..., "disposition": ..., "message": ...}``."""
        return {"rule": self.rule, "disposition": self.disposition.value, "message": self.message}


@dataclass(frozen=True)
class SafetyRules:
    """The rules of one file, checked most urgent first.

    ``example_vectors`` holds one ``(n_examples, dim)`` array per rule once
    :meth:`with_vectors` has embedded the examples (with ``model_id``).
    """

    rules: tuple[SafetyRule, ...]
    source: str = ""
    model_id: str | None = None
    example_vectors: tuple[npt.NDArray[np.float32], ...] = field(default=(), repr=False)

    # -- loading -------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> SafetyRules:
        """Read a rules file.

        Raises:
            ConfigError: the file is missing, not TOML, or a rule is malformed
                (the message names the file and the rule).
        """
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"Cannot read the safety rules file {path}: {exc.strerror or exc}.") from exc
        return cls.parse(text, source=str(path))

    @classmethod
    def packaged(cls) -> SafetyRules:
        """The rules shipped for the default synkinesis KB (``faqtual/data/safety.toml``)."""
        resource = importlib.resources.files("faqtual") / "data" / DEFAULT_RULES_RESOURCE
        return cls.parse(resource.read_text(encoding="utf-8"), source=f"faqtual/data/{DEFAULT_RULES_RESOURCE}")

    @classmethod
    def parse(cls, text: str, *, source: str = "<rules>") -> SafetyRules:
        """Parse the TOML text of a rules file; ``source`` names it in errors.

        Raises:
            ConfigError: the text is not TOML or a rule is malformed.
        """
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML ({exc}).") from exc
        terms = data.get("terms", {})
        if not isinstance(terms, dict) or not all(isinstance(v, str) for v in terms.values()):
            raise ConfigError(f"{source}: [terms] must map names to regular-expression strings.")
        raw_rules = data.get("rule", [])
        if not isinstance(raw_rules, list) or not raw_rules:
            raise ConfigError(f"{source}: no rules; add at least one [[rule]] table.")
        rules = [_rule(raw, terms, source=source, number=n) for n, raw in enumerate(raw_rules, 1)]
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ConfigError(f"{source}: two rules have the id {rule.id!r}; give each rule its own id.")
            seen.add(rule.id)
        ordered = sorted(rules, key=lambda r: _URGENCY[r.disposition])  # stable: file order within a level
        return cls(tuple(ordered), source=source)

    # -- examples ------------------------------------------------------------

    def needs_vectors(self, model_id: str) -> bool:
        """Whether the examples still have to be embedded with the model ``model_id``."""
        return any(r.examples for r in self.rules) and self.model_id != model_id

    def with_vectors(self, embedder: Embedder) -> SafetyRules:
        """A copy whose example vectors are computed once, with ``embedder``."""
        vectors = tuple(
            embedder.embed(list(r.examples)) if r.examples else np.zeros((0, embedder.dim), dtype=np.float32)
            for r in self.rules
        )
        return replace(self, model_id=embedder.model_id, example_vectors=vectors)

    # -- checking ------------------------------------------------------------

    def check(self, question: str, question_vector: npt.NDArray[np.float32] | None = None) -> SafetyHit | None:
        """The first rule (most urgent first) that ``question`` triggers, or ``None``.

        Args:
            question: the patient's message as typed.
            question_vector: its embedding from the model the examples were
                embedded with; ``None`` (or no example vectors) checks only
                phrases and patterns.
        """
        text = normalize_text(question).lower()
        clauses = [c.strip() for c in _CLAUSE_BREAK.split(text) if c.strip()]
        use_vectors = question_vector is not None and len(self.example_vectors) == len(self.rules)
        whole = [" ".join(text.split())]
        nearest: npt.NDArray[np.float32] | None = None
        for n, rule in enumerate(self.rules):
            parts = clauses if rule.scope == "clause" else whole
            via = _lexical(rule, parts)
            if via is None and use_vectors and rule.examples:
                assert question_vector is not None
                if nearest is None:
                    nearest = self._nearest_examples(question_vector)
                if float(nearest[n]) >= rule.min_similarity and not _vetoed(rule, text):
                    via = "example"
            if via is not None and rule.any_unless_message is not None and rule.any_unless_message.search(whole[0]):
                via = None
            if via is not None:
                return SafetyHit(rule=rule.id, disposition=rule.disposition, message=rule.message, via=via)
        return None

    @cached_property
    def _stacked_examples(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Every rule's example vectors in one matrix, where each rule's rows start, and
        which rules have examples."""
        sizes = np.array([len(v) for v in self.example_vectors], dtype=np.intp)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        return np.vstack(self.example_vectors).astype(np.float32), starts, sizes > 0

    def _nearest_examples(self, question_vector: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Per rule, the similarity of ``question_vector`` to its nearest example (-1 without examples).

        One product for all rules: this runs for nearly every question."""
        matrix, starts, has = self._stacked_examples
        best = np.full(len(self.rules), -1.0, dtype=np.float32)
        if len(matrix):
            best[has] = np.maximum.reduceat(matrix @ question_vector, starts[has])
        return best


def _lexical(rule: SafetyRule, parts: Sequence[str]) -> Via | None:
    for part in parts:
        via: Via | None = None
        if any(phrase in part for phrase in rule.phrases):
            via = "phrase"
        elif rule.any_pattern is not None and rule.any_pattern.search(part):
            via = "pattern"
        # A veto only matters where something matched: most parts never pay for it.
        if via is not None and not _vetoed(rule, part):
            return via
    return None


def _vetoed(rule: SafetyRule, text: str) -> bool:
    return rule.any_unless is not None and rule.any_unless.search(text) is not None


def _strings(raw: Mapping[str, object], key: str, *, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where}: {key!r} must be a list of non-empty strings.")
    return tuple(value)


def _compile(pattern: str, terms: Mapping[str, str], *, where: str) -> re.Pattern[str]:
    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            known = ", ".join(sorted(terms)) or "none"
            raise ConfigError(
                f"{where}: the pattern uses {{{name}}}, which [terms] does not define (defined: {known})."
            )
        return f"(?:{terms[name]})"

    expanded = _TERM.sub(expand, pattern)
    try:
        return re.compile(expanded, re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ConfigError(f"{where}: the pattern {pattern!r} is not a valid regular expression ({exc}).") from exc


def _rule(raw: object, terms: Mapping[str, str], *, source: str, number: int) -> SafetyRule:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: rule {number} is not a table; write it as [[rule]].")
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise ConfigError(f"{source}: rule {number} has no 'id'; give it a short name such as 'sudden-weakness'.")
    where = f"{source}: rule {rule_id!r}"
    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(_RULE_KEYS))}.")
    try:
        disposition = Disposition.parse(raw.get("disposition"))
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}.") from exc
    message = raw.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ConfigError(f"{where}: 'message' (the fixed text the patient sees) is missing or empty.")
    scope = raw.get("scope", "clause")
    if scope not in get_args(Scope):
        raise ConfigError(f"{where}: unknown scope {scope!r}; valid: {', '.join(get_args(Scope))}.")
    similarity = raw.get("min_similarity", DEFAULT_MIN_SIMILARITY)
    if isinstance(similarity, bool) or not isinstance(similarity, int | float) or not -1.0 <= similarity <= 1.0:
        raise ConfigError(f"{where}: 'min_similarity' must be a number from -1 to 1, not {similarity!r}.")
    phrases = tuple(" ".join(normalize_text(p).lower().split()) for p in _strings(raw, "phrases", where=where))
    patterns = tuple(_compile(p, terms, where=where) for p in _strings(raw, "patterns", where=where))
    examples = _strings(raw, "examples", where=where)
    if not (phrases or patterns or examples):
        raise ConfigError(f"{where}: no triggers; give 'phrases', 'patterns' or 'examples'.")
    return SafetyRule(
        id=rule_id,
        disposition=disposition,
        message=" ".join(message.split()),
        phrases=phrases,
        patterns=patterns,
        unless=tuple(_compile(p, terms, where=where) for p in _strings(raw, "unless", where=where)),
        unless_message=tuple(_compile(p, terms, where=where) for p in _strings(raw, "unless_message", where=where)),
        examples=examples,
        min_similarity=float(similarity),
        scope=scope,
    )
