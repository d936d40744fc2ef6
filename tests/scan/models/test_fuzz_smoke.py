"""The fuzz target runs; the 10-minute campaign is run by hand (docs/models.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[2] / "fuzz" / "fuzz_models.py"


def test_fuzz_target_runs_clean_for_a_few_seconds() -> None:
    spec = importlib.util.spec_from_file_location("fuzz_models", FUZZ)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.run(seconds=3, max_seconds=5.0, max_mib=1024, seed=42) == 0
