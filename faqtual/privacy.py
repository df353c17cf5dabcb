"""Scrub personal identifiers out of free text before it is stored.

:func:`scrub` is pure: it replaces what looks like an e-mail address, a phone
number, an NHS number or a US social security number, a UK postcode or US
ZIP code, a full date (a date of birth is the common case), a URL carrying a
query string, or a long run of digits (hospital and account numbers) with a
placeholder such as ``[email]``. It errs towards scrubbing: a question loses
a number now and then, a patient's phone number is never kept.

Placeholders hold no digits, ``@`` or ``/``, so scrubbing twice changes
nothing (a property test checks it).
"""

from __future__ import annotations

import re

__all__ = ["PLACEHOLDERS", "scrub"]

#: Every placeholder :func:`scrub` writes.
PLACEHOLDERS = ("[url]", "[email]", "[date]", "[id]", "[nhs-number]", "[phone]", "[postcode]", "[number]")

_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s?#]*\?\S*", re.IGNORECASE)

# RFC 5322 dot-atom local part, and a domain of at least two labels; "(at)"
# and "[at]" spellings too.
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
    r"(?:@|\s?[\[(]at[\])]\s?)"
    r"[A-Za-z0-9-]+(?:(?:\.|\s?[\[(]dot[\])]\s?)[A-Za-z0-9-]+)+",
    re.IGNORECASE,
)

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
# A day, month and year in the usual orders: 03/12/1985, 1985-12-03,
# 3rd December 1985, December 3, 1985. A bare year is left alone.
_DATE = re.compile(
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
    r"|\d{4}[/.-]\d{1,2}[/.-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\.?,?\s+\d{{2,4}}"
    rf"|{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})(?!\d)",
    re.IGNORECASE,
)

# US social security number: 3-2-4 digits with dashes or spaces.
_SSN = re.compile(r"(?<!\d)\d{3}[ -]\d{2}[ -]\d{4}(?!\d)")

# Digits with the separators phone numbers are written with: +44 (0)20 7946 0958,
# (555) 123-4567, 07700 900123, 0044 20..., 555.123.4567.
_DIGITS = re.compile(r"\+?\(?\d(?:[ ().-]{0,3}\d)+")

# UK postcode (BS 7666 shape): SW1A 1AA, M1 1AE, B33 8TH.
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
# US ZIP: ZIP+4 anywhere; five digits only after a state code or the word zip/postcode.
_ZIP = re.compile(
    r"(?:\b(?:[A-Z]{2}|(?i:zip(?:\s?code)?|post(?:al)?\s?code))\s*:?\s*)\d{5}(?:-\d{4})?(?!\d)"
    r"|(?<!\d)\d{5}-\d{4}(?!\d)",
)
_ZIP_WORD = re.compile(r"^(?:[A-Z]{2}|(?i:zip(?:\s?code)?|post(?:al)?\s?code))\s*:?\s*")

#: Fewest digits in a run that :func:`scrub` treats as a phone or other number.
PHONE_MIN_DIGITS = 7
#: Fewest digits in an unbroken run treated as an identifier (hospital number, account).
LONG_RUN_DIGITS = 6


def _nhs_valid(digits: str) -> bool:
    """Whether ten digits pass the NHS number modulus-11 check.

    See https://www.datadictionary.nhs.uk/attributes/nhs_number.html
    """
    if len(digits) != 10:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if len(digits) < PHONE_MIN_DIGITS:
        return "[number]" if re.search(rf"\d{{{LONG_RUN_DIGITS},}}", text) else text
    if _nhs_valid(digits):
        return "[nhs-number]"
    if text.isdigit() and text[0] != "0" and len(digits) not in (10, 11):
        return "[number]"  # an unbroken run that is no phone shape: a record or account number
    return "[phone]"


def _zip(match: re.Match[str]) -> str:
    word = _ZIP_WORD.match(match.group(0))
    return (word.group(0) if word else "") + "[postcode]"


def scrub(text: str) -> str:
    """Replace personal identifiers in ``text`` with placeholders.

    Args:
        text: any text, such as a patient's question.

    Returns:
        ``text`` with each identifier replaced by one of :data:`PLACEHOLDERS`;
        ``scrub(scrub(t)) == scrub(t)``.
    """
    text = _URL.sub("[url]", text)
    text = _EMAIL.sub("[email]", text)
    text = _DATE.sub("[date]", text)
    text = _SSN.sub("[id]", text)
    text = _ZIP.sub(_zip, text)
    text = _DIGITS.sub(_digits, text)
    return _UK_POSTCODE.sub("[postcode]", text)
