"""Abbreviations a KB defines, to spell out the ones a question uses.

People write "my son has NF1" or "mom has PKD"; the KB's questions say
"neurofibromatosis type 1" and "polycystic kidney disease". KB answers
usually define such abbreviations once ("polycystic kidney disease (PKD)"),
so the KB itself says what each one means. Definitions are found with the
algorithm of Schwartz & Hearst (2003, "A simple algorithm for identifying
abbreviation definitions in biomedical text"): the letters of the short form
must appear, in order, in the words just before the parenthesis, the first at
the start of a word. Nothing here is tied to one KB or field.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable

from faqtual.text import STOPWORDS

#: "long form (SHORT)": a short form of 2-10 characters with a letter first.
_DEFINED = re.compile(r"\(([A-Za-z][A-Za-z0-9-]{1,9})\)")
#: A token of a question that may be an abbreviation.
_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,9}\b")
#: A meaning must account for at least this share of a short form's definitions.
MIN_SHARE = 0.5


def definitions(text: str) -> list[tuple[str, str]]:
    """``(short, long)`` pairs that ``text`` defines, both lower-cased."""
    found = []
    for match in _DEFINED.finditer(text):
        short = match.group(1)
        if sum(c.isupper() for c in short) < 2:  # "(see below)", "(Bx)": not an abbreviation
            continue
        letters = sum(c.isalnum() for c in short)
        words = text[: match.start()].split()[-min(letters + 5, letters * 2) :]
        long = _long_form(short, " ".join(words))
        if long and _plausible(short, long) and short.lower() not in long.lower():
            found.append((short.lower(), long.lower().strip(" ,;:")))
    return found


def _plausible(short: str, long: str) -> bool:
    """Whether ``long`` may be what ``short`` stands for: several words, or one long word
    for a short form of three letters or more ("phenylketonuria (PKU)"). One word for two
    letters is too often a chance match ("alopecia areata (AA)" gives "areata"), and a
    hyphenated short form in one word is a word split into syllables ("(plate-lets)")."""
    if len(long.split()) > 1:
        return True
    return "-" not in short and sum(c.isalnum() for c in short) >= 3 and len(long) >= 2 * len(short)


def _long_form(short: str, candidate: str) -> str | None:
    """The shortest end of ``candidate`` that spells ``short`` (Schwartz & Hearst's matcher)."""
    s, i = len(short) - 1, len(candidate) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        # The first letter of the short form must open a word of the long form.
        while i >= 0 and (candidate[i].lower() != c or (s == 0 and i > 0 and candidate[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = candidate.rfind(" ", 0, i + 1) + 1
    return candidate[start:]


def mine(texts: Iterable[str], *, topics: Callable[[str], bool] = lambda long: True) -> dict[str, str]:
    """Short form -> its usual long form, over every definition in ``texts``.

    A short form the texts define in several ways keeps its majority meaning,
    and none if no meaning has :data:`MIN_SHARE` of its definitions. Only long
    forms that ``topics`` accepts are kept: a KB's answers define "ER" as
    "endoplasmic reticulum", but a patient's "ER" is the emergency room, and
    spelling it out helps only when the KB has questions about that very thing.
    """
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        if "(" in text:
            for short, long in definitions(text):
                counts[short][long] += 1
    out = {}
    for short, longs in counts.items():
        long, n = longs.most_common(1)[0]
        if n >= MIN_SHARE * sum(longs.values()) and topics(long):
            out[short] = long
    return out


def expansions(question: str, known: dict[str, str], *, common_words: Collection[str]) -> list[str]:
    """Long forms of the abbreviations ``question`` uses, in order of use.

    A token counts when the KB defines it and it is no English word ("pkd"), or
    is written in capitals ("MS") and is no function word: "ms" in lower case
    and "ALL" (for emphasis, or acute lymphoblastic leukemia?) are words. In a
    message typed in capitals, case says nothing, so only non-words count.
    """
    tokens = _TOKEN.findall(question)
    if not known or known.keys().isdisjoint(t.lower() for t in tokens):
        return []
    out: list[str] = []
    lowered = question.lower()
    shouting = sum(c.isupper() for c in question) > sum(c.islower() for c in question)
    for token in tokens:
        key = token.lower()
        long = known.get(key)
        if long is None or long in out or long in lowered:
            continue
        if key not in common_words:
            out.append(long)
        # A word in capitals is an abbreviation ("MS", "PE") unless it is a function word
        # written for emphasis ("it HAS to stop", "is it ALL genetic").
        elif not shouting and token.isupper() and key not in STOPWORDS:
            out.append(long)
    return out
