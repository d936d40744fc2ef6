"""Value types, protocols and helpers shared by every layer (tier 0).

Import from here rather than from the submodules::

    from ramparts.core import Finding, Location, Report, Severity
"""

import importlib

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
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

# Re-exports resolve on first use (PEP 562), so importing one submodule, or the CLI,
# does not pay for every other one.
_EXPORTS = {
    "ArtifactRef": "ramparts.core.types",
    "Clock": "ramparts.core.interface",
    "Confidence": "ramparts.core.types",
    "Digest": "ramparts.core.types",
    "ErrorRecord": "ramparts.core.types",
    "Event": "ramparts.core.interface",
    "EventSink": "ramparts.core.interface",
    "ExitCode": "ramparts.core.types",
    "FanOutSink": "ramparts.core.events",
    "Finding": "ramparts.core.types",
    "FrozenClock": "ramparts.core.clock",
    "Location": "ramparts.core.types",
    "MemorySink": "ramparts.core.events",
    "Outcome": "ramparts.core.interface",
    "Principal": "ramparts.core.types",
    "PrincipalKind": "ramparts.core.types",
    "Report": "ramparts.core.types",
    "Severity": "ramparts.core.types",
    "Skip": "ramparts.core.types",
    "Stats": "ramparts.core.types",
    "SystemClock": "ramparts.core.clock",
    "hash_files": "ramparts.core.hashing",
    "new_id": "ramparts.core.ids",
    "parse_id": "ramparts.core.ids",
    "sha256_file": "ramparts.core.hashing",
    "sha256_stream": "ramparts.core.hashing",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ramparts.core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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
