"""The service fixtures skip without servers, and fail instead when CI requires them."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).parents[1] / "conftest.py"
USES_SERVICES = """
def test_pg(postgres_url): pass
def test_redis(redis_url): pass
"""


@pytest.fixture
def no_services(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for var in (
        "RAMPARTS_TEST_POSTGRES_URL",
        "RAMPARTS_TEST_REDIS_URL",
        "RAMPARTS_REQUIRE_SERVICES",
    ):
        monkeypatch.delenv(var, raising=False)
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(USES_SERVICES)
    return pytester


def test_missing_services_skip_with_the_variable_to_set(no_services: pytest.Pytester) -> None:
    result = no_services.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        ["*set RAMPARTS_TEST_POSTGRES_URL*", "*set RAMPARTS_TEST_REDIS_URL*"]
    )


def test_missing_services_fail_when_required(
    no_services: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPARTS_REQUIRE_SERVICES", "1")
    result = no_services.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*RAMPARTS_REQUIRE_SERVICES=1 forbids skipping*"])
