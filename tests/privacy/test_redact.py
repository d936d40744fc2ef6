"""Redaction operators and the key store: reversible only with the key."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ramparts.privacy.interface import Category, Detection, PrivacyError
from ramparts.privacy.keystore import LocalKeyStore
from ramparts.privacy.redact import Redactor

TEXT = "mail jane.doe@northwind.io or card 4103 0738 6009 7117 today"


def _dets() -> list[Detection]:
    email, card = "jane.doe@northwind.io", "4103 0738 6009 7117"
    return [
        Detection("RMP-PII-EMAIL", "email", "email", Category.PII, 5, 5 + len(email), email),
        Detection(
            "RMP-PII-CREDIT-CARD", "credit-card", "card", Category.PII, 35, 35 + len(card), card
        ),
    ]


def test_operators(tmp_path: Path) -> None:
    assert TEXT[5:26] == "jane.doe@northwind.io"
    key = LocalKeyStore(tmp_path).get("k", create=True)
    plain = Redactor().apply(TEXT, _dets())
    assert plain == "mail [REDACTED:email] or card [REDACTED:credit-card] today"
    masked = Redactor(default="mask").apply(TEXT, _dets())
    assert masked == "mail ***@northwind.io or card **** **** **** 7117 today"
    hashed = Redactor(default="hash", key=key).apply(TEXT, _dets())
    assert hashed == Redactor(default="hash", key=key).apply(TEXT, _dets())  # joinable
    assert "jane" not in hashed
    other = LocalKeyStore(tmp_path).get("other", create=True)
    assert Redactor(default="hash", key=other).apply(TEXT, _dets()) != hashed


@pytest.mark.parametrize("op", ["tokenize", "encrypt"])
def test_reversible_with_the_key_and_not_without(op: str, tmp_path: Path) -> None:
    store = LocalKeyStore(tmp_path)
    key = store.get("k", create=True)
    sealed = Redactor(default=op, key=key).apply(TEXT, _dets())
    assert "jane" not in sealed
    assert "4103" not in sealed
    restored, count = Redactor(key=key).reverse(sealed)
    assert (restored, count) == (TEXT, 2)
    wrong = store.get("wrong", create=True)
    with pytest.raises(PrivacyError, match="wrong key"):
        Redactor(key=wrong).reverse(sealed)


def test_tokens_are_deterministic_and_bound_to_their_kind(tmp_path: Path) -> None:
    key = LocalKeyStore(tmp_path).get("k", create=True)
    r = Redactor(default="tokenize", key=key)
    first = r.apply(TEXT, _dets())
    assert first == r.apply(TEXT, _dets())
    moved = first.replace("tok:email:", "tok:iban:")
    with pytest.raises(PrivacyError):
        r.reverse(moved)


def test_keyed_operators_need_a_key_and_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(PrivacyError, match="needs a key"):
        Redactor(default="tokenize")
    with pytest.raises(PrivacyError, match="unknown operator"):
        Redactor(operators={"email": "shred"})
    with pytest.raises(PrivacyError, match="invalid key name"):
        LocalKeyStore(tmp_path).get("../escape", create=True)
    with pytest.raises(PrivacyError, match="no key named"):
        LocalKeyStore(tmp_path).get("missing")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_key_files_are_private_and_others_are_refused(tmp_path: Path) -> None:
    store = LocalKeyStore(tmp_path / "keys")
    store.get("k", create=True)
    path = tmp_path / "keys" / "k.key"
    assert path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o700
    path.chmod(0o644)
    with pytest.raises(PrivacyError, match="chmod 600"):
        store.get("k")
