"""Lexical analysis shared by BM25, spelling repair and coverage features."""

from __future__ import annotations

import importlib.resources
import json
import re
from collections.abc import Sequence
from functools import lru_cache

import Stemmer

from faqtual.text import content_words

_STEMMER = Stemmer.Stemmer("english")


def stems(tokens: Sequence[str]) -> list[str]:
    """Snowball (Porter 2) English stems of ``tokens``."""
    return list(_STEMMER.stemWords(list(tokens)))


def analyse(text: str) -> list[str]:
    """The BM25 terms of ``text``: content words, stemmed."""
    return stems(content_words(text))


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Whole English words of the embedding model's WordPiece vocabulary.

    Used as the list of words that are spelled right; it is the tokenizer's
    data, so it ships with the package at no extra cost.
    """
    resource = importlib.resources.files("faqtual") / "data" / "minilm-tokenizer.json"
    vocab = json.loads(resource.read_text(encoding="utf-8"))["model"]["vocab"]
    return frozenset(w for w in vocab if re.fullmatch(r"[a-z]{2,}", w))


# What kind of answer a question asks for. FAQ entries on one topic differ
# mostly in this (cause vs duration vs treatment of the same condition), and
# dense sentence embeddings blur it; MedQuAD's own "qtype" labels are the same
# idea (Ben Abacha & Demner-Fushman 2019). Patterns are generic English, not
# tied to any KB.
#: After "chance(s)": "(that) our baby will have it", "I have the gene": someone getting a
#: condition, not a patient's outlook ("chances the nerve will get back to full function").
_GETS_IT = (
    r"\b[^.?!]{0,40}?\b(have|has|get|gets|inherit|inherits|develop|develops|carry|carries)\b"
    r"(?! (back|better|well|over|through|worse|rid)\b)"
)
#: Who a parent asks about in "will our kids get it", "could my daughter have it".
_CHILDREN = r"(kids?|children|son|daughter|baby|babies|grandchildren)"
_INTENTS: dict[str, re.Pattern[str]] = {
    "cause": re.compile(
        r"\b(why|causes?|caused|causing|triggers?|reasons?|what makes|how come|lead to|due to"
        # "can Parkinson's be responsible for this?", "what is behind it", "what brought it on"
        r"|responsible for|to blame|(what('s| is)|anything) behind (this|it|that)"
        r"|(brought|bring|brings) (it |this |that )?on"
        # "is Kawasaki disease contagious?": how one gets it
        r"|contagious|catching"
        # "how did this happen", "how do kids get it" (not "get rid of")
        r"|how (did|does|do|could|can) (this|it|that|he|she|i|we|they|you|people|someone|kids|children|my \w+) "
        r"(happen|get(?! rid| better| over| well)|catch|develop)"
        r")\b"
    ),
    "duration": re.compile(
        # "last year", "my last appointment" date the story; they do not ask how long something lasts.
        # "how long do people with CF live" asks the outlook (below), not how long something lasts.
        r"\b(how long(?! (do|does|will|would|can|could|did) ([\w']+ ){0,4}live\b)"
        r"|duration|lasts?(?! (year|month|week|night|time|summer|winter|spring|autumn|fall|weekend"
        r"|days?|few|couple|appointment|visit|check-?up|consultation|session|scan|injections?|jabs?|dose)\b)"
        r"|lasting|permanent(ly)?|go away|forever|for good|for life|lifelong|(rest|end) of (my|his|her|their|your) life"
        r"|how many (days|weeks|months|years)|(wear|wears|wearing|wore|worn) off|until when|still be there"
        r"|grows? out of)\b"
    ),
    "location": re.compile(
        r"\b(where|which (muscles?|parts?|areas?|sites?|spots?|side)|what (muscles?|parts?|areas?|sites?))\b"
    ),
    "definition": re.compile(
        r"\b(what (is|are|does)\b.*\bmean|meaning|define|definition|what is (it|this)|what (is|are) (an? )?\w+\W*$"
        # "what actually is synkinesis, my doctor mentioned it", "is that an actual condition?"
        r"|what (actually|exactly|really) (is|are)"
        r"|(is|are) (this|that|it|these|those) (an? )?(real|actual|proper|known)"
        # "explain whether Parkinson's can be responsible" asks that question, not what it is
        r"|explain(?! (to me )?(whether|why|how|if|when|where))|information|tell me about)\b"
    ),
    "symptoms": re.compile(
        # "how to tell if a mole is melanoma", "how do I know if I have it"
        r"\b(symptoms?|signs?|feel like|look like|warning"
        r"|how (to|do|can|would|will|could) (i |you |we )?(tell|know) if)\b"
    ),
    "treatment": re.compile(
        r"\b(treat(ed|s|ing|ment|ments)?|cures?|cured|help(s|ful)?|therap(y|ies)|fix(ed|es)?|repair(ed|s)?|surgery"
        r"|get rid|improve|medications?|medicines?|drugs?|manage|management"
        # "what can be done", "is there anything we can do" (not "... to keep from getting it":
        # that is prevention), "can these be removed or drained"
        r"|(what (can|could|should) (be|i|we|you|he|she|they) (do|done)"
        r"|anything (that )?(can be done|(i|we|you) can do))"
        r"(?! to (keep|prevent|avoid|lower|reduce|stop|protect))"
        r"|remov(e|ed|al|ing)|drain(ed|ing)?|operat(e|ion|ions|ing))\b"
    ),
    "prevention": re.compile(
        r"\b(prevent(ed|ion|s)?|avoid(ed|ing)?|stop(ped|ping|s)?|reduce|minimi[sz]e|keep( .*)? from"
        r"|lower (the|my|our|his|her|their|your) (chances?|risk)|vaccines?|shots?"
        # "what can I do on the plane so that doesn't happen to me?"
        r"|(doesn'?t|does not|won'?t|will not|never) happen (to|again))\b"
    ),
    "recovery": re.compile(
        r"\b(regenerat(e|es|ed|ion)|regrow(s|th)?|grow back|heal(s|ed|ing)?|recover(y|s|ed)?|come back)\b"
    ),
    "inheritance": re.compile(
        r"\b(inherit(ed|ance)?|hereditary|genetic|genes?|runs? in (the |my )?famil|pass(ed)? (it )?(on|down)"
        # "passed it to my kids", "something I passed to him", "passed from the mom or the dad"
        r"|pass(es|ed|ing)? (it |this |that |the gene )?(to|from) (him|her|them|me|us|(the|my|our|his|her|their|your) )"
        r"|(mom|dad|mother|father)'?s side|skips? (a )?generations?"
        # "will our kids get it", "could my daughter have it" ("my son has VHS" only tells who is ill)
        rf"|carriers?|(our|my) {_CHILDREN} ((will|would|could|might|can) (get|have|inherit)|(get|inherit)s?\b)"
        rf"|(will|would|could|might|can|do|does) (our|my) {_CHILDREN} have"
        # "the chances (that) she will get it too": someone getting it, not the patient's outlook
        rf"|chances?{_GETS_IT})\b"
    ),
    "frequency": re.compile(
        r"\b(how (common|rare|many people)|prevalence|frequen(t|cy)"
        r"|how many ([\w']+ ){0,4}(have|has|get|gets|are (affected|born|diagnosed)))\b"
    ),
    # "was diagnosed with X" is how a message gives context, not what it asks:
    # "diagnosed" counts only in a question about diagnosing ("how is X diagnosed").
    "tests": re.compile(
        r"\b(diagnos(e|is|tic)|(how|when|where|who|can|could|will|would|should|is|are)\b[^.?!,;]{0,40}\bdiagnosed"
        r"|tests?|tested|testing|exams?|screen(ing)?|biops(y|ies)|scan)\b"
    ),
    "outlook": re.compile(
        r"\b(outlook|prognosis|life expectancy|surviv(e|al)|die|fatal|curable|life ?span|normal life"
        r"|how long (do|does|will|would|can|could|did) ([\w']+ ){0,4}live"
        # "is it really serious if it went away by itself?", "is this actually dangerous?"
        r"|(is|are|was) (it|this|that|they|he|she) (really |actually |very |that |so )?"
        r"(serious|dangerous|life[- ]threatening)"
        rf"|chances?(?!{_GETS_IT}))\b"
    ),
    "susceptibility": re.compile(r"\b(who (gets|is at risk|can get)|at risk|risk factors?|more likely|susceptib)\b"),
    "complications": re.compile(
        r"\b(complications?|side effects?|long[- ]term effects?"
        # "can it damage the kidneys", "does it cause lasting damage"; not "how to fix nerve damage"
        r"|damag(e|es|ing) (to|the|my|his|her|your|their|our|its)|(cause|causes|do|does|did|leave|leaves) "
        r"(any |lasting |permanent |long[- ]term |more |further )?damage)\b"
    ),
    "research": re.compile(r"\b(research|clinical trials?|studies|new treatments?)\b"),
    "support": re.compile(r"\b(support groups?|organi[sz]ations?|where can i find help)\b"),
}


#: Every intent name, in a fixed order (columns of per-entry intent tables).
INTENT_NAMES = tuple(_INTENTS)


#: "<modal> <subject> cause [<object>]" ("can it cause cancer", "does smoking cause synkinesis"):
#: it may ask what a condition leads to (see :func:`_only_effects`); with no subject between the
#: modal and "cause" ("what can cause ringing") it asks only what causes something.
_EFFECTS = re.compile(
    r"\b(can|could|will|would|may|might|does|do|did)\s+(?P<subject>(?!cause\b)[\w']+(\s+(?!cause\b)[\w']+){0,3})"
    r"\s+cause\b(\s+(?P<object>[\w']+))?"
)
#: Subjects that stand for the condition asked about: "can it cause cancer" asks what it leads to.
_ITSELF = frozenset({"it", "this", "that", "they", "these", "those", "he", "she"})
#: Words after "cause" that open no object: "what problems can diabetes cause in the eyes".
_NO_OBJECT = frozenset(
    {"in", "to", "for", "with", "on", "at", "if", "when", "later", "over", "and", "or", "as", "by", "during", "after"}
)


def _only_effects(match: re.Match[str]) -> bool:
    """Whether "<modal> <subject> cause [<object>]" asks only what the condition leads to: its
    subject is the condition ("can it cause cancer") or it has no object ("what can Kawasaki
    disease cause?"). With both named ("does smoking cause synkinesis", "can diabetes cause
    this problem") it may ask either way."""
    obj = match.group("object")
    return match.group("subject").split()[0] in _ITSELF or obj is None or obj in _NO_OBJECT


def intents(text: str) -> frozenset[str]:
    """The kinds of answer ``text`` asks for (cause, duration, location, ...)."""
    lowered = text.lower()
    found = {name for name, pattern in _INTENTS.items() if pattern.search(lowered)}
    effects = list(_EFFECTS.finditer(lowered)) if "cause" in found else []
    if effects:
        found.add("complications")
        if all(map(_only_effects, effects)) and not _INTENTS["cause"].search(_EFFECTS.sub(" ", lowered)):
            found.discard("cause")
    return frozenset(found)
