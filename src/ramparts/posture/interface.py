"""Value types and errors of the ``posture`` layer.

Posture gathers *facts* (evidence) about a repository and ramparts' own state, judges
each *control* of a catalogue against them, and scores the results per domain and per
framework. Everything here is data: controls come from YAML files, facts from
collectors, results from a pure evaluation.

Errors::

    RampartsError
    └── PostureError         a catalogue, framework table or evidence source is unusable
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ramparts.core.records import field, record
from ramparts.core.types import Location, Severity
from ramparts.errors import RampartsError

__all__ = [
    "SEVERITY_WEIGHTS",
    "Control",
    "ControlResult",
    "Expectation",
    "Fact",
    "Framework",
    "FrameworkItem",
    "PostureError",
    "PostureReport",
    "Score",
    "Status",
]


class PostureError(RampartsError):
    """A control catalogue, framework table or evidence source cannot be used."""


class Status(enum.Enum):
    """The outcome of one control.

    Only ``PASS`` and ``FAIL`` count in a score; ``MANUAL`` means a person must judge
    (the evidence cannot be read by a program, or is missing), ``NOT_APPLICABLE`` that
    the control does not concern this project (no gateway configured, no IaC...).
    """

    PASS = "PASS"  # noqa: S105 - a status, not a password
    FAIL = "FAIL"
    MANUAL = "MANUAL"
    NOT_APPLICABLE = "NOT_APPLICABLE"


SEVERITY_WEIGHTS: Mapping[Severity, int] = MappingProxyType(
    {
        Severity.INFO: 1,
        Severity.LOW: 1,
        Severity.MEDIUM: 2,
        Severity.HIGH: 3,
        Severity.CRITICAL: 5,
    }
)
"""How much a control weighs in a score, by its severity (Prowler's ThreatScore uses a
1-5 level of risk the same way)."""


@record
class Fact:
    """One piece of evidence, gathered once per run and shared by every control.

    ``value`` is ``None`` when the collector could not decide (the control is then
    ``MANUAL``); ``detail`` says in one sentence what was seen, and ``locations``
    where (files relative to the posture root).
    """

    name: str
    value: bool | int | float | str | tuple[str, ...] | None
    detail: str
    locations: tuple[Location, ...] = ()


@record
class Expectation:
    """The pass rule of a control: what the fact's value must be.

    Exactly one operator is set. ``equals`` compares booleans and strings; ``max`` and
    ``min`` bound a number (a tuple counts by its length); ``empty``/``nonempty`` ask
    for a tuple or string of no / some items.
    """

    equals: bool | str | None = None
    max: float | None = None
    min: float | None = None
    empty: bool | None = None

    def __post_init__(self) -> None:
        set_ = [n for n in ("equals", "max", "min", "empty") if getattr(self, n) is not None]
        if len(set_) != 1:
            raise PostureError(
                f"a pass rule needs exactly one of equals, max, min, empty; got {set_ or 'none'}"
            )

    def describe(self) -> str:
        """The rule in words, for reports (``equals true``, ``at most 0``...)."""
        if self.equals is not None:
            shown = str(self.equals).lower() if isinstance(self.equals, bool) else self.equals
            return f"equals {shown}"
        if self.max is not None:
            return f"at most {self.max:g}"
        if self.min is not None:
            return f"at least {self.min:g}"
        return "empty" if self.empty else "not empty"


@record
class Control:
    """One automated control of the catalogue.

    ``evidence`` names the fact the rule reads; ``applies`` optionally names a boolean
    fact that must be true for the control to apply (otherwise ``NOT_APPLICABLE``).
    ``mappings`` maps a framework id (``nist-ai-rmf``) to the pinned item ids the
    control helps with (``GOVERN 1.6``).
    """

    id: str
    title: str
    domain: str
    severity: Severity
    rationale: str
    evidence: str
    expect: Expectation
    remediation: str
    applies: str | None = None
    mappings: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def weight(self) -> int:
        """The control's weight in a score."""
        return SEVERITY_WEIGHTS[self.severity]


@record
class ControlResult:
    """The judgement of one control, with the evidence that decided it."""

    control: Control
    status: Status
    evidence: str
    locations: tuple[Location, ...] = ()


@record
class FrameworkItem:
    """One pinned item of a framework: ``GOVERN 1.6``, ``A.6.2.8``, ``LLM01``..."""

    id: str
    title: str
    group: str = ""


@record
class Framework:
    """A pinned table of a framework's item ids, in the framework's own order."""

    id: str
    name: str
    version: str
    source: str
    items: tuple[FrameworkItem, ...]

    def ids(self) -> frozenset[str]:
        """Every item id of the table."""
        return frozenset(item.id for item in self.items)


@record
class Score:
    """Weighted passes over weighted passes and fails; ``None`` when nothing counted.

    It is a measure of the automated controls only; it never means "compliant".
    """

    passed: int
    failed: int
    manual: int
    not_applicable: int
    weight_passed: int
    weight_failed: int

    @property
    def value(self) -> float | None:
        """The score from 0 to 100, or ``None`` when no control passed or failed."""
        total = self.weight_passed + self.weight_failed
        return None if total == 0 else round(100.0 * self.weight_passed / total, 1)


@record
class PostureReport:
    """The outcome of one posture run.

    ``coverage`` maps a framework id to each of its item ids and a state: ``pass``
    (covered only by passing controls), ``fail`` (at least one mapped control failed),
    ``manual`` (mapped controls are manual or not applicable) or ``none`` (no control
    maps to it). ``inventory`` is the discovery output as JSON-ready data.
    """

    tool_version: str
    target: str
    started_at: datetime
    results: tuple[ControlResult, ...]
    score: Score
    domains: Mapping[str, Score]
    frameworks: Mapping[str, Score]
    coverage: Mapping[str, Mapping[str, str]]
    framework_tables: Mapping[str, Framework]
    inventory: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    previous: Mapping[str, Any] | None = None
    """The previous run's score and statuses (``{"score": .., "statuses": {id: status}}``),
    when one is recorded for the same target."""
