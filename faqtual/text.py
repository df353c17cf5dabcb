"""Pure text helpers: cleaning curated text, ids, and tokens for retrieval."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)

# Numeric citation markers as medical web pages print them: "(8-10)", "(12)",
# "[7,8]", "[3]", "(9–11)". Only digits, commas, dashes and spaces inside, so
# "(FNP)" or "(see below)" stay.
_CITATION = re.compile(r"\s*(?:\(\s*\d+(?:\s*[-\u2013,]\s*\d+)*\s*\)|\[\s*\d+(?:\s*[-\u2013,]\s*\d+)*\s*\])")

# An answer cut off mid-sentence when it was copied: it ends with a title
# abbreviation that must be followed by a name ("... up to four months. Dr."),
# or with a word that cannot end a sentence ("... and the").
_DANGLING = re.compile(
    r"(?:(?<=[.!?])|^)\s*((?:Dr|Mr|Mrs|Ms|Prof|Drs|St|Fig|Ref|Vol|No)\.?)\s*$"
    r"|\s((?:and|or|the|a|an|of|to|with|by|for|in|on|at|from|as|is|are|was)\s*)$",
    re.IGNORECASE,
)

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _normalize_characters(text: str) -> str:
    """Unicode NFC with straight quotes; spacing untouched."""
    if text.isascii():  # nothing to compose and no curly quotes: most questions
        return text
    return unicodedata.normalize("NFC", text).translate(_QUOTES)


def normalize_text(text: str) -> str:
    """Unicode NFC, straight quotes, single spaces; paragraph breaks kept.

    Returns:
        The text with runs of spaces/tabs collapsed, each paragraph stripped and
        paragraphs joined by one blank line.
    """
    if "\n" not in text and "\r" not in text:  # one paragraph
        return " ".join(_normalize_characters(text).split())
    text = _normalize_characters(text).replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = re.split(r"\n\s*\n", text)
    cleaned = (" ".join(p.split()) for p in paragraphs)
    return "\n\n".join(p for p in cleaned if p)


def strip_citations(text: str) -> tuple[str, int]:
    """Remove numeric citation markers such as ``(8-10)`` and ``[7,8]``.

    Returns:
        The cleaned text and how many markers were removed.
    """
    cleaned, count = _CITATION.subn("", text)
    return cleaned, count


def dangling_fragment(text: str) -> str | None:
    """The cut-off fragment at the end of ``text`` (such as ``"Dr."``), if any."""
    match = _DANGLING.search(text.rstrip())
    if match is None:
        return None
    return (match.group(1) or match.group(2)).strip()


def slugify(text: str, *, max_length: int = 60) -> str:
    """Lower-case ASCII words joined by hyphens, cut at a word boundary."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "entry"


def entry_id_for(question: str) -> str:
    """A stable, readable id for an entry whose source gave none.

    The slug of the question plus a short hash of its normalised text, so the
    same question keeps its id across re-ingests and two questions that slug
    alike still differ.
    """
    key = " ".join(_WORD.findall(normalize_text(question).lower()))
    digest = hashlib.sha256(key.encode()).hexdigest()[:6]
    return f"{slugify(question, max_length=48)}-{digest}"


def content_hash(*parts: str) -> str:
    """sha256 over the parts, separated so ("ab", "c") != ("a", "bc")."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters/digits, inner apostrophes kept)."""
    # Spacing does not change the words, so only the characters are normalised.
    return _WORD.findall(_normalize_characters(text).lower())


# Function words that carry no topic. Question words ("what", "how") are in:
# every FAQ question has one, so they only add noise to lexical matching.
# "down" is not: it names a condition ("Down syndrome"), and a KB's BM25 weighs it
# by how rare it is.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    during each few for from further get gets got had hadn't has hasn't have haven't having he he'd he'll
    he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
    it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought our
    ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've
    this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what
    what's when when's where where's which while who who's whom why why's will with won't would wouldn't
    you you'd you'll you're you've your yours yourself yourselves im ive dont doesnt cant whats hi hello
    please thanks thank anyone someone something just really also still ever even much many know tell
    want wondering wonder question questions help mean""".split()
)


def content_words(text: str) -> list[str]:
    """Word tokens without stopwords (apostrophes dropped, so bell's -> bells)."""
    return [
        bare
        for word in words(text)
        if word not in STOPWORDS and (len(bare := word.replace("'", "")) > 1 or bare.isdigit())
    ]


_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(])|\n\s*\n|\n\s*[-*\u2022]\s+")


def sentences(text: str) -> list[str]:
    """Split an answer into sentences (and list items / paragraphs)."""
    parts = (" ".join(p.split()) for p in _SENTENCE.split(text))
    return [p for p in parts if len(p) > 2]


# Pieces of an answer: sentences, list items, and the lead-ins before a colon.
_PIECE = re.compile(r"(?<=[.!?])\s+|\s+[-*\u2022]\s+|\n+|:\s+")


def prose_words(answer: str) -> int:
    """Words of ``answer`` that stand in full statements (sentences of four words or more, not questions).

    An answer that only points elsewhere ("These resources address the
    diagnosis of X: - Genetic Testing Registry: X - ...") or repeats its
    question with no body ("How might X be treated?") has none; a real answer
    has dozens.
    """
    total = 0
    for piece in _PIECE.split(answer):
        piece = piece.strip()
        if piece[-1:] in (".", "!") and len(found := piece.split()) >= 4:
            total += len(found)
    return total


# A message's sentences, for picking out the ones that ask something.
_MESSAGE_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_ASKS = re.compile(
    r"^(what|whats|what's|why|how|when|where|who|which|is|are|can|could|will|would|should|do|does|did|has|have"
    r"|any|anything)\b",
    re.IGNORECASE,
)


def question_part(message: str) -> str:
    """The sentences of ``message`` that ask something, or its last sentence if none does.

    Patients give context before they ask ("I had Bell's palsy last year and read
    about treatments. What causes it?"): the kind of answer wanted is in the
    question, not in the story. A one-sentence message is returned unchanged.
    """
    parts = [p.strip() for p in _MESSAGE_SENTENCE.split(message) if p.strip()]
    if len(parts) <= 1:
        return message
    asking = [p for p in parts if p.endswith("?") or _ASKS.match(p)]
    return " ".join(asking or parts[-1:])
