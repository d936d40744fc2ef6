"""PII recognizers: each kind found with its validator, look-alikes left alone."""

from __future__ import annotations

import pytest

from ramparts.privacy.checksums import (
    base58check_ok,
    bech32_ok,
    eip55_ok,
    iban_ok,
    keccak256,
    luhn_ok,
    nhs_ok,
)
from ramparts.privacy.pii import KINDS, PiiDetector, column_hint

DETECTOR = PiiDetector()

# kind -> (texts holding exactly one value of that kind, look-alikes holding none)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "credit-card": (
        [
            "card 4103 0738 6009 7117 on file",
            "paid with 2223-0000-4841-0010.",
            "amex 3700 000000 00002",
        ],
        ["card 4103 0738 6009 7118", "test card 4242 4242 4242 4242", "order 1234 5678 9012 3456"],
    ),
    "iban": (
        ["IBAN GB82 WEST 1234 5698 7654 32 please", "to DE89370400440532013000."],
        ["IBAN GB82 WEST 1234 5698 7654 33", "code XX12 3456 7890"],
    ),
    "us-ssn": (
        ["SSN 219-09-9998 on the form", "social security number: 123 45 6780"],
        ["ssn 666-12-3456", "id 900-12-3456", "ref 123-00-4567", "123-45-0000"],
    ),
    "uk-nino": (["NI number AB 12 34 56 C", "nino JT123456A"], ["GB123456A", "XD 12 34 56 A"]),
    "uk-nhs-number": (["NHS number 943 476 5919"], ["NHS number 943 476 5918", "ref 943 476 5919"]),
    "email": (["mail jane.doe@northwind.co.uk today"], ["user@example.com", "see @handle", "a@b"]),
    "phone-number": (
        ["call +44 20 7946 0958 now", "phone (512) 238-5156.", "mobile: 06 38 70 21 88"],
        ["build 20250803", "total 1234567", "date 2025-08-03"],
    ),
    "ipv4": (
        ["client 142.104.95.171 connected"],
        ["version 4.31.24.13", "127.0.0.1", "169.254.169.254"],
    ),
    "ipv6": (["from 2406:599e:383f:970a::67a1 ok"], ["at 12:30:45", "the :: operator"]),
    "mac-address": (["nic 34-0E-B4-A3-D8-14 up", "d8:b7:a2:32:1a:74"], ["12:30:45:00"]),
    "bitcoin-address": (
        [
            "send to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
            "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",
        ],
        ["1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5"],
    ),
    "ethereum-address": (
        ["wallet 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"],
        ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"],
    ),
    "date-of-birth": (
        ["DOB: 06/06/1947", "born on 6 Oct 1966"],
        ["signed up 2025-08-03", "due 06/06/1947"],
    ),
    "passport-number": (["Passport No: 944061954"], ["passport office", "passport: pending"]),
    "medical-record-number": (["MRN: 0056974"], ["MRN pending"]),
    "postal-address": (
        ["ship to 74 Park Avenue, London N7 4TY", "at 5501 Ridge Road, Madison, WI 53752."],
        ["Park Avenue is long", "74 reasons"],
    ),
    "person-name": (
        ["Customer Chloé Haddad called", "Dr. Priya Raman", "On call: Keiko Thompson"],
        ["Park Avenue", "The Data Team", "Dear customer"],
    ),
}


def test_every_kind_has_cases() -> None:
    assert set(CASES) == set(KINDS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_true_positives(kind: str) -> None:
    for text in CASES[kind][0]:
        found = [d for d in DETECTOR.detect(text) if d.kind == kind]
        assert len(found) == 1, (text, DETECTOR.detect(text))
        assert text[found[0].start : found[0].end] == found[0].value


@pytest.mark.parametrize("kind", sorted(CASES))
def test_look_alikes(kind: str) -> None:
    for text in CASES[kind][1]:
        assert [d.kind for d in DETECTOR.detect(text) if d.kind == kind] == [], text


def test_column_hints_confirm_values() -> None:
    assert column_hint("date_of_birth") == "date-of-birth"
    assert column_hint("Email Address") == "email"
    assert column_hint("os_build") == "none"
    assert column_hint("hostname") is None
    assert column_hint("payee") == "person-name"
    assert [d.kind for d in DETECTOR.detect_value("Stefan", "person-name")] == ["person-name"]
    assert [d.kind for d in DETECTOR.detect_value("4.31.24.13", "none")] == []
    # A hint the value does not confirm falls back to free text.
    assert [d.kind for d in DETECTOR.detect_value("ops@northwind.io", "person-name")] == ["email"]
    assert [d.kind for d in DETECTOR.detect_value("169-69-4733", "national-id")] == ["us-ssn"]


def test_checksums() -> None:
    assert keccak256(b"").hex().startswith("c5d2460186f7233c")
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32")
    assert not iban_ok("GB82 WEST 1234 5698 7654")  # wrong length for GB
    assert nhs_ok("9434765919")
    assert base58check_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert bech32_ok("bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0")
    assert eip55_ok("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")  # all lower: no checksum
