"""Value types, protocols and helpers shared by every layer (tier 0).

Import from here rather than from the submodules::

    from ramparts.core import Finding, Location, Report, Severity
"""

from ramparts.core.clock import FrozenClock, SystemClock
from ramparts.core.events import FanOutSink, MemorySink
from ramparts.core.hashing import hash_files, sha256_file, sha256_stream
from ramparts.core.ids import new_id, parse_id
from ramparts.core.interface import Clock, Event, EventSink, Outcome
from ramparts.core.types import (
    ArtifactRef,
    Confidence,
    Digest,
    ErrorRecord,
    ExitCode,
    Finding,
    Location,
    Principal,
    PrincipalKind,
    Report,
    Severity,
    Skip,
    Stats,
)

__all__ = [
    "ArtifactRef",
    "Clock",
    "Confidence",
    "Digest",
    "ErrorRecord",
    "Event",
    "EventSink",
    "ExitCode",
    "FanOutSink",
    "Finding",
    "FrozenClock",
    "Location",
    "MemorySink",
    "Outcome",
    "Principal",
    "PrincipalKind",
    "Report",
    "Severity",
    "Skip",
    "Stats",
    "SystemClock",
    "hash_files",
    "new_id",
    "parse_id",
    "sha256_file",
    "sha256_stream",
]
