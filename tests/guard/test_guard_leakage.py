"""Secrets and personal data: found by the privacy layer, redacted with its placeholders."""

from __future__ import annotations

import random
import string
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.guard.interface import Action, GuardConfigError, GuardContext, Role
from ramparts.guard.leakage import DEFAULT_PII_KINDS, PiiGuard, SecretGuard, _windows, find_pii
from ramparts.guard.runner import run_guards
from ramparts.privacy.pii import PiiDetector
from ramparts.privacy.redact import Redactor

_RNG = random.Random(20260301)  # noqa: S311 - reproducible test data, not keys
USER = GuardContext(role=Role.USER)
ANSWER = GuardContext(role=Role.ASSISTANT)


def akid() -> str:
    """An AWS access key id of the published shape (generated: no literal keys here)."""
    return "AKIA" + "".join(_RNG.choice(string.ascii_uppercase + "234567") for _ in range(16))


def github() -> str:
    """A GitHub token with a valid checksum."""
    body = "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(30))
    crc = zlib.crc32(body.encode()) & 0xFFFFFFFF
    digits = string.digits + string.ascii_uppercase + string.ascii_lowercase
    out = ""
    while crc:
        crc, rem = divmod(crc, 62)
        out = digits[rem] + out
    return f"ghp_{body}{out.rjust(6, '0')}"


def test_secrets_in_a_prompt_are_redacted_by_kind() -> None:
    key, token = akid(), github()
    result = run_guards([SecretGuard()], f"use {key} and {token} to deploy", USER)
    assert result.text == ("use [REDACTED:aws-access-key-id] and [REDACTED:github-pat] to deploy")
    (verdict,) = result.verdicts
    assert verdict.code == "secret_in_prompt"
    assert verdict.action is Action.REDACT
    assert key not in verdict.detail
    assert "aws-access-key-id" in verdict.detail


def test_a_secret_in_an_answer_is_a_leak() -> None:
    hit = SecretGuard().check(f"The key is {akid()}.", ANSWER)
    assert hit is not None
    assert hit.code == "secret_leak"


def test_a_secret_split_by_invisible_characters_is_redacted_whole() -> None:
    key = akid()
    hidden = key[:6] + "\u200b" + key[6:12] + "\u2060" + key[12:]
    result = run_guards([SecretGuard()], f"key: {hidden} done", ANSWER)
    assert result.text == "key: [REDACTED:aws-access-key-id] done"


def test_redaction_operators_come_from_the_privacy_layer() -> None:
    guard = SecretGuard(redactor=Redactor(default="mask"))
    key = akid()
    result = run_guards([guard], f"key {key}", USER)
    assert result.text.startswith("key ")
    assert key not in result.text
    assert result.text.endswith(key[-4:])


def test_personal_data_is_redacted() -> None:
    text = "Contact jane.doe@northwind.io or pay with 4103 0738 6009 7117, SSN 536-22-1234."
    result = run_guards([PiiGuard()], text, USER)
    assert result.text == (
        "Contact [REDACTED:email] or pay with [REDACTED:credit-card], SSN [REDACTED:us-ssn]."
    )
    assert result.verdicts[0].code == "pii_in_prompt"
    assert PiiGuard().check(text, ANSWER).code == "pii_leak"  # type: ignore[union-attr]


def test_network_identifiers_are_not_redacted_by_default_but_can_be() -> None:
    text = "The server at 81.2.69.160 is down."
    assert "ipv4" not in DEFAULT_PII_KINDS
    assert PiiGuard().check(text, USER) is None
    hit = PiiGuard(kinds=["ipv4"]).check(text, USER)
    assert hit is not None
    assert "ipv4" in hit.detail


def test_unknown_pii_kinds_are_refused() -> None:
    with pytest.raises(GuardConfigError, match="shoe-size"):
        PiiGuard(kinds=["email", "shoe-size"])
    with pytest.raises(GuardConfigError):
        PiiGuard(kinds=[])


@pytest.mark.parametrize(
    "text",
    [
        "Write a Python function that parses a CSV file and sums the second column.",
        "Our SLA is 99.9% and the p50 latency is 120 ms; explain the trade-offs.",
        "commit 3f9a2b7 fixed the bug in version 4.31.2",
        "Use os.environ['API_KEY'] instead of hard-coding the key.",
    ],
)
def test_ordinary_prompts_are_left_alone(text: str) -> None:
    assert run_guards([SecretGuard(), PiiGuard()], text, USER).text == text


# Mostly lower-case prose, so that most texts are searched in windows, not whole.
PROSE = st.sampled_from(
    [
        *("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while"),
        *("parses", "csv", "files", "and", "writes", "about", "ships", "in", "on", "coast"),
        *("model", "answer", "question", "weather", "today", "with", "some", "more", "text"),
        *("of", "to", "is", "was", "it", "for", "that", "by", "from", "at", "as", "be"),
        *("12", "1888", "Python", "Elias", "Ward", "Maine"),
    ]
)
VALUES = st.sampled_from(
    [
        "jane.doe@northwind.io",
        "4103 0738 6009 7117",
        "SSN 536-22-1234",
        "Mr John Smith",
        "patient Maria Garcia",
        "date of birth: 04/03/1994",
        "1600 Pennsylvania Avenue, Washington, DC 20500",
        "GB82 WEST 1234 5698 7654 32",
        "call +44 20 7946 0018",
        "passport number: 123456789",
        "passport: X12Y3456",
        "born on 4 May 1994",
        "DOB 12 March 1987",
        "221B Baker Street, London NW1 6XE",
        "10 Downing Street, London SW1A 2AA",
        "NHS number 943 476 5919",
        "NI AB 12 34 56 C",
        "MRN: AB-1234",
        "wallet 0x52908400098527886E0F7030069857D2E4169EE7",
        "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        "fe80::1ff:fe23:4567:890a",
        '"phone": "020 7946 0018"',
        '"name": "Ada Lovelace"',
        "ip 81.2.69.160",
        "aa:bb:cc:dd:ee:ff",
        'version = "10.1.2.3"',
        "\n",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(PROSE, min_size=20, max_size=600),
    st.lists(st.tuples(st.integers(0, 600), VALUES), max_size=6),
)
def test_windowed_search_finds_what_a_whole_search_finds(
    prose: list[str], values: list[tuple[int, str]]
) -> None:
    for at, value in values:
        prose.insert(min(at, len(prose)), value)
    text = " ".join(prose)
    whole = {(d.kind, d.start, d.end) for d in PiiDetector().detect(text)}
    windowed = {(d.kind, d.start, d.end) for d in find_pii(text)}
    assert windowed == whole


def test_long_prose_is_searched_in_windows_only() -> None:
    prose = " ".join(["the model answered every question about the weather"] * 60)
    text = f"{prose} mail jane.doe@northwind.io now {prose}"
    windows = _windows(text)
    assert windows is not None
    assert len(windows) == 1
    assert sum(e - s for s, e in windows) < 400
    assert [d.kind for d in find_pii(text)] == ["email"]


@pytest.mark.parametrize(
    "filler", ["a " * 500_000, "1" * 1_000_000, "Aa Bb " * 170_000, "x@" * 500_000]
)
def test_a_megabyte_of_filler_finishes(filler: str) -> None:
    # No timing is asserted: a quadratic pattern would not finish in the test run.
    assert SecretGuard().check(filler, USER) is None
    assert PiiGuard().check(filler, USER) is None
