"""The text fuzz target runs clean for a few seconds (longer campaigns by hand)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from ramparts.privacy.interface import Claims

FUZZ = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_text.py"


def test_fuzz_target_runs_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("fuzz_text", FUZZ)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["fuzz_text", "--seconds", "3", "--seed", "7"])
    assert module.main() == 0


def test_claims_find_every_overlap() -> None:
    claims = Claims([(10, 20), (30, 40)])
    assert claims.overlaps(15, 16)
    assert claims.overlaps(5, 11)
    assert claims.overlaps(39, 50)
    assert not claims.overlaps(20, 30)
    assert not claims.overlaps(0, 10)
    claims.add(20, 30)
    assert claims.overlaps(25, 26)
