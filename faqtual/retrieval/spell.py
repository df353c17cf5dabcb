"""Query spelling repair against the knowledge base's own vocabulary.

Patients misspell the very words an FAQ is about ("synkenesis", "botx").
A query word that is neither a KB word nor a common English word is replaced
by the closest KB word within a small edit distance (Damerau–Levenshtein,
optimal string alignment); anything else is left alone. The common-word list
is the embedding model's WordPiece vocabulary, so real words such as "cost" are
never "corrected" into KB words such as "cause". A KB word typed with a space or
hyphen inside ("sin kinesis" from a voice assistant, "synki nesis") is joined
back when one of its pieces is such an unknown word and the pieces together are
nearer a KB word than the unknown piece alone. Dictation can break a word into
three pieces ("sink in esis") or leave a piece too short to fix on its own
("bow tox"): up to three pieces are joined, and an unknown piece of two or three
letters may take part in a join though it is never changed alone; such joins,
and joins of three, must come within one edit of a KB word.

Distances are computed by ``rapidfuzz`` (C++): a misspelt word is compared with
a few hundred KB words of similar length, which in Python took milliseconds —
as long as the query encoder — for every message with a typo or an unknown name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

#: A query word (apostrophes inside kept: "bell's").
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: What may stand between the two halves of a word typed in two.
_SPLIT_GAPS = frozenset({" ", "-"})


def _allowed(word: str) -> int:
    if len(word) <= 3:
        return 0
    if len(word) <= 6:
        return 1
    return 2


class SpellFixer:
    """Maps misspelled query words to KB words.

    Args:
        kb_words: word -> count over the KB's texts.
        common_words: words never treated as misspellings.
    """

    def __init__(self, kb_words: dict[str, int], *, common_words: Collection[str]) -> None:
        self._kb = kb_words
        self._common = common_words
        # Buckets by (first letter, length): typos rarely hit the first letter,
        # and this keeps a 100,000-word vocabulary as quick as a small one.
        self._buckets: dict[tuple[str, int], list[str]] = {}
        for word in kb_words:
            if len(word) > 3 and not word.isdigit():
                self._buckets.setdefault((word[0], len(word)), []).append(word)
        self._known = frozenset(kb_words).union(common_words)

    def unknown(self, words: Iterable[str]) -> set[str]:
        """Those of ``words`` (apostrophes dropped) that :meth:`fix` might change."""
        odd = {w.replace("'", "") for w in words}.difference(self._known)
        return {w for w in odd if _allowed(w) and not w.isdigit()}

    def _fragments(self, words: Iterable[str]) -> set[str]:
        """Unknown pieces of two or three letters ("tox" in "bow tox"): joined, never fixed alone."""
        return {w for w in words if 2 <= len(w) <= 3 and w.isalpha() and w not in self._known}

    def fix(self, word: str) -> str:
        """The KB word ``word`` was probably meant as, or ``word`` itself."""
        if word in self._kb or word in self._common or word.isdigit():
            return word
        return self._nearest(word)[0]

    def repair(self, text: str, *, keep: Collection[str] = ()) -> str:
        """``text`` (lower case) with its misspelt words replaced by KB words.

        Words in ``keep`` (the KB's abbreviations: "pkd" is no misspelling of
        "pad") are left alone. An unknown word, or an unknown piece of two or
        three letters, may instead be joined with the one or two words around it
        when together they are nearer a KB word ("sin kinesis" -> "synkinesis",
        "bow tox" -> "botox").
        """
        found = _WORD.findall(text)
        unknown = self.unknown(found)
        odd = unknown.union(self._fragments(found)).difference(keep)
        if not odd:  # most questions: one set difference and done
            return text
        matches = list(_WORD.finditer(text))
        words = [m.group(0).replace("'", "") for m in matches]
        kept = set(keep)
        out: list[str] = []
        done = 0  # text[:done] is settled
        for i, (match, word) in enumerate(zip(matches, words, strict=True)):
            if word not in odd or match.start() < done:
                continue
            fixed, distance = self._nearest(word)
            span = (match.start(), match.end()) if fixed != word else None
            # The pieces around it, two first, then three: (i-1, i), (i, i+1), (i-2, i), ...
            for a, b in ((i - 1, i), (i, i + 1), (i - 2, i), (i - 1, i + 1), (i, i + 2)):
                if a < 0 or b >= len(matches) or matches[a].start() < done or set(words[a : b + 1]) & kept:
                    continue
                if any(text[matches[k].end() : matches[k + 1].start()] not in _SPLIT_GAPS for k in range(a, b)):
                    continue
                joined, joined_distance = self._nearest("".join(words[a : b + 1]))
                # A short piece or three pieces say less: their join must be near ("psa went"
                # is two edits from "patent", "bow tox" one from "botox").
                if joined_distance > 1 and (b - a == 2 or word not in unknown):
                    continue
                if joined in self._kb and (span is None or joined_distance < distance):
                    fixed, distance, span = joined, joined_distance, (matches[a].start(), matches[b].end())
            if span is not None:
                out += [text[done : span[0]], fixed]
                done = span[1]
        out.append(text[done:])
        return "".join(out)

    def _nearest(self, word: str) -> tuple[str, int]:
        """The KB word nearest ``word`` within its allowed distance, and the distance; else ``(word, 0)``."""
        if word in self._kb:
            return word, 0
        limit = _allowed(word)
        if limit == 0:
            return word, 0
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        # The nearest word; among equally near ones the most frequent, then the first met.
        best, best_key = word, (limit + 1, 0, 0, 0)
        for length in range(len(word) - limit, len(word) + limit + 1):
            bucket = self._buckets.get((word[0], length))
            if not bucket:
                continue
            for candidate, d, position in process.extract(
                word, bucket, scorer=OSA.distance, score_cutoff=limit, limit=None
            ):
                key = (int(d), -self._kb[candidate], length, position)
                if key < best_key:
                    best, best_key = candidate, key
        return best, best_key[0] if best != word else 0

    def fix_words(self, words: Iterable[str]) -> list[str]:
        """:meth:`fix` applied to each word."""
        return [self.fix(w) for w in words]
