"""Pickle findings: what the static interpreter saw, judged by the policy.

One finding per distinct global a pickle references and the policy does not allow
(critical when the denylist knows it runs code, high when it is merely unknown), with
the call it would make as evidence; one for globals whose names are computed, for
unknown extension codes, for calls of computed callables, and one when the stream is
malformed. A payload before a broken stream is still reported.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from typing import IO

from ramparts.core.types import Confidence, Finding, Location, Severity
from ramparts.scan.models.pickle_policy import DEFAULT_POLICY, PicklePolicy, Verdict
from ramparts.scan.models.pickle_vm import CONST, Call, PickleResult, Ref, interpret

__all__ = ["MAX_IN_MEMORY", "findings_for", "scan_pickle_bytes", "scan_pickle_stream"]

MAX_IN_MEMORY = 2 << 30
"""A pickle that is not a real file (an archive member) is read into memory up to this."""

_REFS = ("CWE-502", "AML.T0010.003", "AML.T0011.000", "OWASP LLM03:2025")
_KNOWN_CVES = {
    "pip.main": "CVE-2025-1716",
    "pip._internal.main": "CVE-2025-1716",
    "torch.serialization.load": "CVE-2025-32434",
    "torch.load": "CVE-2025-32434",
    "pkgutil.resolve_name": "GHSA-promptfoo-resolve-name",
}
_REMEDIATION = (
    "Do not load this file. Convert models to safetensors; if a pickle is unavoidable, "
    "load it with an allowlisting unpickler (torch.load(weights_only=True) on torch >= 2.10)."
)
_MAX_EVIDENCE = 160


def _describe(value: object, depth: int = 0) -> str:
    if isinstance(value, str):
        return repr(value[:80])
    if isinstance(value, Ref):
        return f"{value.module}.{value.name}"
    if isinstance(value, Call):
        return _call_text(value, depth + 1)
    if isinstance(value, tuple):
        return "(" + ", ".join(_describe(v, depth + 1) for v in value[:6]) + ")"
    if value is CONST:
        return "…"
    return "…"


def _call_text(call: Call, depth: int = 0) -> str:
    if depth > 4:
        return "…"
    func = _describe(call.func, depth) if call.func is not None else "?"
    args = ", ".join(_describe(a, depth + 1) for a in call.args[:6])
    text = f"{func}({args})" if call.opcode != "BUILD" else f"{func}.__setstate__({args})"
    return text[:_MAX_EVIDENCE]


def _location(path: str, member: tuple[str, ...], offset: int) -> Location:
    return Location(path, member=member, offset=offset)


def findings_for(
    result: PickleResult,
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy = DEFAULT_POLICY,
    base_offset: int = 0,
) -> Iterator[Finding]:
    """Findings for one interpreted pickle."""
    first_call: dict[int, Call] = {}
    for call in result.calls:
        if isinstance(call.func, Ref):
            first_call.setdefault(id(call.func), call)
    seen: set[tuple[str, str]] = set()
    for ref in result.refs:
        key = (ref.module, ref.name)
        if key in seen:
            continue
        seen.add(key)
        dotted = f"{ref.module}.{ref.name}"
        ref_call = first_call.get(id(ref))
        if ref.dynamic:
            yield Finding(
                rule_id="RMP-PICKLE-003",
                title="pickle imports a computed global",
                message=(
                    f"{ref.opcode} at byte {ref.offset} takes its module or name from a "
                    "computed value, which hides what it imports"
                ),
                severity=Severity.CRITICAL,
                location=_location(path, member, base_offset + ref.offset),
                evidence=dotted[:_MAX_EVIDENCE],
                references=_REFS,
                remediation=_REMEDIATION,
                scanner="models",
            )
            continue
        verdict = policy.judge(ref.module, ref.name)
        if verdict is Verdict.ALLOWED:
            continue
        invoked = ref_call is not None
        cve = _KNOWN_CVES.get(dotted)
        action = "calls" if invoked else "imports"
        if verdict is Verdict.DANGEROUS:
            yield Finding(
                rule_id="RMP-PICKLE-001",
                title="pickle calls a dangerous global",
                message=f"loading this pickle {action} {dotted}, which can run code or touch "
                "the host",
                severity=Severity.CRITICAL,
                location=_location(path, member, base_offset + ref.offset),
                evidence=_call_text(ref_call) if ref_call is not None else dotted,
                references=(*_REFS, cve) if cve else _REFS,
                remediation=_REMEDIATION,
                scanner="models",
            )
        else:
            yield Finding(
                rule_id="RMP-PICKLE-002",
                title="pickle references a global outside the allowlist",
                message=f"loading this pickle {action} {dotted}, which is not on the allowlist "
                "of safe reconstruction functions; review it, then allow it in a policy file",
                severity=Severity.HIGH,
                confidence=Confidence.MEDIUM,
                location=_location(path, member, base_offset + ref.offset),
                evidence=_call_text(ref_call) if ref_call is not None else dotted,
                references=_REFS,
                remediation=_REMEDIATION,
                scanner="models",
            )
    for code, offset in result.ext_codes:
        yield Finding(
            rule_id="RMP-PICKLE-005",
            title="pickle uses a copyreg extension code",
            message=f"extension code {code} resolves to a global registered at load time; "
            "its target cannot be known from the file",
            severity=Severity.HIGH,
            location=_location(path, member, base_offset + offset),
            evidence=f"EXT {code}",
            references=_REFS,
            remediation=_REMEDIATION,
            scanner="models",
        )
    for call in result.calls:
        if isinstance(call.func, Call) and call.opcode in ("REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ"):
            yield Finding(
                rule_id="RMP-PICKLE-006",
                title="pickle calls the result of a call",
                message="a callable produced while loading is called in turn (a gadget chain)",
                severity=Severity.CRITICAL,
                location=_location(path, member, base_offset + call.offset),
                evidence=_call_text(call),
                references=_REFS,
                remediation=_REMEDIATION,
                scanner="models",
            )
            break
    if result.error is not None:
        yield Finding(
            rule_id="RMP-PICKLE-004",
            title="malformed pickle",
            message=f"the pickle stream breaks at byte {result.error_offset}: {result.error}; "
            "anything before the break still runs when it is loaded",
            severity=Severity.MEDIUM,
            location=_location(path, member, base_offset + (result.error_offset or 0)),
            references=("CWE-502", "AML.T0010.003"),
            remediation=_REMEDIATION,
            scanner="models",
        )


def scan_pickle_bytes(
    data: bytes | memoryview,
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy | None = None,
    base_offset: int = 0,
) -> list[Finding]:
    """Interpret every pickle in ``data`` and return the findings."""
    out: list[Finding] = []
    for result in interpret(data):
        out.extend(
            findings_for(
                result,
                path=path,
                member=member,
                policy=policy or DEFAULT_POLICY,
                base_offset=base_offset,
            )
        )
    return out


def scan_pickle_stream(
    stream: IO[bytes],
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy | None = None,
) -> list[Finding]:
    """Scan the pickles from the stream's position on; real files are memory-mapped."""
    start = stream.tell() if stream.seekable() else 0
    try:
        mapped = mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, AttributeError):
        data = stream.read(MAX_IN_MEMORY)
        return scan_pickle_bytes(data, path=path, member=member, policy=policy, base_offset=start)
    try:
        view = memoryview(mapped)[start:]
        try:
            return scan_pickle_bytes(
                view, path=path, member=member, policy=policy, base_offset=start
            )
        finally:
            view.release()
    finally:
        mapped.close()
