"""The privacy scrubber: examples of each identifier, and properties on arbitrary text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faqtual.privacy import PLACEHOLDERS, scrub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at john.smith+nhs@example.co.uk please", "mail me at [email] please"),
        ("write to jo (at) gmail (dot) com", "write to [email]"),
        ("call +44 (0)20 7946 0958 today", "call [phone] today"),
        ("my mobile is 07700 900123", "my mobile is [phone]"),
        ("US: (555) 123-4567 or 555.123.4567", "US: [phone] or [phone]"),
        ("+1-202-555-0143", "[phone]"),
        ("my NHS number is 943 476 5919", "my NHS number is [nhs-number]"),
        ("SSN 123-45-6789", "SSN [id]"),
        ("I live in SW1A 1AA, near M1 1AE", "I live in [postcode], near [postcode]"),
        ("New York, NY 10001", "New York, NY [postcode]"),
        ("zip 90210 or 12345-6789", "zip [postcode] or [postcode]"),
        ("born 03/12/1985", "born [date]"),
        ("DOB 1985-12-03", "DOB [date]"),
        ("born on 3rd March 1985", "born on [date]"),
        ("born March 3, 1985", "born [date]"),
        ("see https://example.org/x?token=abc&u=2 now", "see [url] now"),
        ("hospital number 1234567, ref 123456", "hospital number [number], ref [number]"),
    ],
)
def test_each_identifier_becomes_a_placeholder(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "My face drooped after Bell's palsy in 2019, will Botox help?",
        "I am 45 and take 200 mg of ibuprofen 3 times a day",
        "Is synkinesis permanent? See https://www.nhs.uk/conditions/bells-palsy/",
        "What does 'oral-ocular synkinesis' mean?",
    ],
)
def test_ordinary_questions_are_kept(text: str) -> None:
    assert scrub(text) == text


filler = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)
uk_phone = st.builds(
    lambda area, a, b, sep: f"0{area}{sep}{a}{sep}{b}",
    st.integers(1000, 9999),
    st.integers(100, 999),
    st.integers(100, 999),
    st.sampled_from([" ", "-", ""]),
)
intl_phone = st.builds(
    lambda cc, n, sep: f"+{cc}{sep}{sep.join(str(n)[i : i + 3] for i in range(0, len(str(n)), 3))}",
    st.integers(1, 999),
    st.integers(10**6, 10**11),
    st.sampled_from([" ", "-", ".", ""]),
)
us_phone = st.builds(
    lambda a, b, c, style: style.format(a, b, c),
    st.integers(200, 999),
    st.integers(100, 999),
    st.integers(1000, 9999),
    st.sampled_from(["({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "{} {} {}", "1-{}-{}-{}"]),
)
phones = st.one_of(uk_phone, intl_phone, us_phone)


@settings(max_examples=300)
@given(prefix=filler, email=st.emails(), suffix=filler)
def test_no_email_survives(prefix: str, email: str, suffix: str) -> None:
    out = scrub(f"{prefix} {email} {suffix}")
    assert email not in out
    assert not re.search(r"[\w.+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9-]+", out)


@settings(max_examples=300)
@given(prefix=filler, phone=phones, suffix=filler)
def test_no_phone_number_survives(prefix: str, phone: str, suffix: str) -> None:
    out = scrub(f"{prefix} {phone} {suffix}")
    assert phone not in out
    digits = re.sub(r"\D", "", phone)
    assert digits not in re.sub(r"\D", "", out)


@settings(max_examples=500)
@given(st.text())
def test_never_raises_and_is_idempotent(text: str) -> None:
    once = scrub(text)
    assert isinstance(once, str)
    assert scrub(once) == once


@given(st.lists(st.one_of(st.sampled_from(PLACEHOLDERS), filler), max_size=8).map(" ".join))
def test_placeholders_are_left_alone(text: str) -> None:
    assert scrub(scrub(text)) == scrub(text)
