"""Pickle findings: what the static interpreter saw, judged by the policy.

One finding per distinct global of a stream that the policy does not allow (critical
when the denylist knows it runs code, high when it is merely unknown), with the call
it makes as redacted evidence (``os.system('touch /tmp/x')``); one for each global whose
name is computed, each copyreg extension code, each call of a call's result, each
``BUILD`` that sets attributes of a global, persistent ids of an unknown form, and one
when the stream is malformed. Everything decoded before a break is still reported.

Rules (id, slug, severity):

========================  ======================  ==========
RMP-PICKLE-001            dangerous-global        critical
RMP-PICKLE-002            unknown-global          high
RMP-PICKLE-003            dynamic-global          critical
RMP-PICKLE-004            malformed               medium
RMP-PICKLE-005            unknown-extension       high
RMP-PICKLE-006            call-of-call-result     critical
RMP-PICKLE-007            global-attribute-write  high
RMP-PICKLE-008            analysis-limit          high
RMP-PICKLE-009            custom-persistent-id    low
========================  ======================  ==========
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Iterable, Mapping

from ramparts.core.records import field, record
from ramparts.core.types import Confidence, Finding, Location, Severity
from ramparts.scan.models.pickle_policy import DEFAULT_POLICY, PicklePolicy, Verdict
from ramparts.scan.models.pickle_vm import (
    CONST,
    UNKNOWN,
    Bag,
    Call,
    Limits,
    PickleResult,
    Ref,
    Truncated,
    interpret,
)

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO, Final

__all__ = [
    "RULES",
    "describe",
    "findings_for",
    "looks_like_pickle",
    "scan_pickle_bytes",
    "scan_pickle_stream",
]

RULES: Final[Mapping[str, str]] = {
    "RMP-PICKLE-001": "dangerous-global",
    "RMP-PICKLE-002": "unknown-global",
    "RMP-PICKLE-003": "dynamic-global",
    "RMP-PICKLE-004": "malformed",
    "RMP-PICKLE-005": "unknown-extension",
    "RMP-PICKLE-006": "call-of-call-result",
    "RMP-PICKLE-007": "global-attribute-write",
    "RMP-PICKLE-008": "analysis-limit",
    "RMP-PICKLE-009": "custom-persistent-id",
}
"""Every pickle rule id and its slug."""

_REFS: Final = ("CWE-502", "AML.T0010.003", "AML.T0011.000", "OWASP LLM03:2025")
# Published bypasses of other scanners, by the global they used: (module, name or any).
_KNOWN_CVES: Final = (
    ("pip", None, "CVE-2025-1716"),
    ("torch", "load", "CVE-2025-32434"),
    ("torch.serialization", "load", "CVE-2025-32434"),
    ("asyncio", None, "CVE-2025-10157"),
)
_REMEDIATION: Final = (
    "Do not load this file. Convert the model to safetensors; where a pickle is "
    "unavoidable, load it only with an allowlisting unpickler "
    "(PyTorch's weights_only mode, on torch >= 2.10)."
)
_REVIEW: Final = (
    "Review the named global. If it only rebuilds data, allow it in the policy "
    '([scan.models] allow = ["module.Name"]); otherwise treat the file as unsafe.'
)
_MAX_EVIDENCE: Final = 120
_MAX_ARG_TEXT: Final = 60
_PARTIAL: Final = frozenset({"functools.partial", "functools.partialmethod", "_functools.partial"})


@functools.cache
def _redactors() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """URL user info and secret-looking assignments (compiled on first use: 0.6 ms)."""
    return re.compile(r"(://)[^/@\s]+@"), re.compile(
        r"(?i)((?:password|passwd|token|secret|api[_-]?key)\s*[=:]\s*)\S+|(AKIA[0-9A-Z]{16})"
    )


def _redact(text: str) -> str:
    userinfo, secretish = _redactors()
    text = userinfo.sub(r"\1***@", text)
    text = secretish.sub(lambda m: (m.group(1) or "") + "***", text)
    if len(text) > _MAX_ARG_TEXT:
        text = text[: _MAX_ARG_TEXT - 1] + "…"
    return text


def describe(value: object, depth: int = 0) -> str:  # noqa: PLR0911, PLR0912 - a case per kind
    """A short, redacted rendering of a symbolic value: ``'text'``, ``os.system(...)``."""
    if depth > 4:
        return "…"
    if isinstance(value, str):
        return repr(_redact(value))
    if isinstance(value, Truncated):
        prefix = value.prefix
        if isinstance(prefix, bytes):
            return repr(prefix[:24]) + "…"
        return repr(_redact(prefix[:_MAX_ARG_TEXT])) + "…"
    if isinstance(value, bytes):
        return repr(value[:24]) + ("…" if len(value) > 24 else "")
    if isinstance(value, Ref):
        if value.ext_code is not None:
            return f"<extension {value.ext_code}>"
        if value.dynamic and value.operands is not None:
            module, name = value.operands
            return f"<global {describe(module, depth + 1)}.{describe(name, depth + 1)}>"
        return value.dotted
    if isinstance(value, Call):
        return _call_text(value.func, value.args, value.opcode, depth + 1)
    if isinstance(value, Bag):
        return "[" + ", ".join(describe(v, depth + 1) for v in value.nodes[:4]) + ", …]"
    if isinstance(value, tuple):
        inner = ", ".join(describe(v, depth + 1) for v in value[:6])
        return f"({inner}{', …' if len(value) > 6 else ''}{',' if len(value) == 1 else ''})"
    if value is CONST or value is UNKNOWN:
        return "…"
    if isinstance(value, bool | int | float | complex) or value is None:
        return repr(value)[:24]
    return "…"


def _call_text(func: object, args: object, opcode: str, depth: int = 0) -> str:
    name = describe(func, depth)
    if isinstance(args, tuple):
        inner = ", ".join(describe(a, depth + 1) for a in args[:6])
    else:
        inner = describe(args, depth + 1)
    text = f"{name}({inner})"
    if opcode == "BUILD":
        text = f"{name}.__setstate__({inner})"
    return text


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_EVIDENCE else text[: _MAX_EVIDENCE - 1] + "…"


def _ref_evidence(ref: Ref) -> str:
    if ref.invoked_by is not None:
        return _clip(_call_text(ref, ref.args, ref.invoked_by))
    return _clip(describe(ref))


def _cves(ref: Ref) -> tuple[str, ...]:
    return tuple(
        cve
        for module, name, cve in _KNOWN_CVES
        if (ref.module == module or ref.module.startswith(module + "."))
        and (name is None or ref.name == name)
    )


def _action(ref: Ref) -> str:
    if ref.invoked_by is None:
        return "imports"
    if ref.setstate:
        return f"calls ({ref.invoked_by}, then __setstate__ by BUILD)"
    return f"calls ({ref.invoked_by})"


@record(frozen=False, slots=False)
class _Judge:
    """Per-stream state: verdict cache and the findings already made (deduplicated)."""

    path: str
    member: tuple[str, ...]
    policy: PicklePolicy
    base_offset: int
    verdicts: dict[tuple[str, str], Verdict] = field(default_factory=dict)
    seen: set[tuple[str, str]] = field(default_factory=set)
    out: list[Finding] = field(default_factory=list)

    def verdict(self, ref: Ref) -> Verdict:
        key = (ref.module, ref.name)
        found = self.verdicts.get(key)
        if found is None:
            found = self.verdicts[key] = self.policy.judge(ref.module, ref.name)
        return found

    def add(
        self,
        key: str,
        rule_id: str,
        title: str,
        message: str,
        severity: Severity,
        offset: int | None,
        *,
        evidence: str | None = None,
        confidence: Confidence = Confidence.HIGH,
        references: tuple[str, ...] = _REFS,
        remediation: str = _REMEDIATION,
    ) -> None:
        if (rule_id, key) in self.seen:
            return
        self.seen.add((rule_id, key))
        location = Location(
            self.path,
            member=self.member,
            offset=None if offset is None else self.base_offset + offset,
        )
        self.out.append(
            Finding(
                rule_id=rule_id,
                title=title,
                message=message,
                severity=severity,
                location=location,
                confidence=confidence,
                evidence=evidence,
                remediation=remediation,
                references=references,
                scanner="models",
            )
        )

    def result(self, result: PickleResult) -> None:
        for ref in result.globals:
            self.global_ref(ref, result)
        for chain in result.chains:
            self.add(
                describe(chain.func),
                "RMP-PICKLE-006",
                "pickle calls the result of a call",
                "a callable produced while loading is called in turn (a gadget chain); "
                "what finally runs depends on values computed at load time",
                Severity.CRITICAL,
                chain.offset,
                evidence=_clip(_call_text(chain.func, chain.args, chain.opcode)),
            )
        for ref, offset in result.build_on_globals:
            self.add(
                ref.dotted,
                "RMP-PICKLE-007",
                "pickle sets attributes of a global",
                f"BUILD at byte {self.base_offset + offset} applies state to {describe(ref)} "
                "itself, not to an instance: loading it would patch a class or function",
                Severity.HIGH,
                offset,
                evidence=describe(ref),
            )
        for pid, offset in result.persistent_ids:
            self.add(
                describe(pid),
                "RMP-PICKLE-009",
                "pickle uses a custom persistent id",
                "a persistent id outside PyTorch's ('storage', ...) form is resolved by the "
                "loader's own persistent_load, whose behaviour the file cannot show",
                Severity.LOW,
                offset,
                evidence=_clip(describe(pid)),
                confidence=Confidence.LOW,
                remediation=_REVIEW,
            )
        if "joblib" in result.limits:
            self.add(
                "joblib",
                "RMP-PICKLE-008",
                "joblib array whose size cannot be read",
                "joblib reads raw array bytes after this wrapper, but its dtype or shape is "
                "not a constant the scanner can follow, so the rest of the stream was not "
                "analysed",
                Severity.HIGH,
                result.error_offset,
            )
        if "max_globals" in result.limits:
            self.add(
                "max_globals",
                "RMP-PICKLE-008",
                "pickle names more globals than the scanner tracks",
                "the pickle names an extraordinary number of distinct globals; the ones past "
                "the limit were not judged",
                Severity.HIGH,
                result.start,
            )
        if result.error is not None:
            self.add(
                "malformed",
                "RMP-PICKLE-004",
                "malformed pickle",
                f"the pickle stream breaks at byte "
                f"{self.base_offset + (result.error_offset or 0)}: {result.error}; a loader "
                "stops there, but everything before the break runs when it is loaded",
                Severity.MEDIUM,
                result.error_offset,
                references=("CWE-502", "AML.T0010.003"),
            )

    def global_ref(self, ref: Ref, result: PickleResult) -> None:
        if ref.ext_code is not None:
            self.add(
                f"ext{ref.ext_code}",
                "RMP-PICKLE-005",
                "pickle uses a copyreg extension code",
                f"{ref.opcode} at byte {self.base_offset + ref.offset} names extension code "
                f"{ref.ext_code}, which resolves to whatever global the loading process "
                "registered for it; the file cannot show which",
                Severity.HIGH,
                ref.offset,
                evidence=_ref_evidence(ref),
                confidence=Confidence.MEDIUM,
            )
            return
        if ref.dynamic:
            note = ""
            if result.limits:
                note = " (values were let go at the interpreter's limits)"
            self.add(
                f"{ref.offset}",
                "RMP-PICKLE-003",
                "pickle imports a computed global",
                f"STACK_GLOBAL at byte {self.base_offset + ref.offset} takes its module or name "
                f"from a value that is not a constant string{note}, which hides what it "
                "imports",
                Severity.CRITICAL,
                ref.offset,
                evidence=_ref_evidence(ref),
            )
            return
        verdict = self.verdict(ref)
        if verdict is not Verdict.DANGEROUS and ref.dotted in _PARTIAL:
            wrapped = [v for v in _flat(ref.args) if isinstance(v, Ref)]
            if any(self.verdict(w) is Verdict.DANGEROUS for w in wrapped if not w.dynamic):
                verdict = Verdict.DANGEROUS
        dotted = ref.dotted
        times = f" ({ref.count} references)" if ref.count > 1 else ""
        if verdict is Verdict.DANGEROUS:
            self.add(
                dotted,
                "RMP-PICKLE-001",
                "pickle imports a dangerous global",
                f"loading this pickle {_action(ref)} {dotted}{times}, which can run code or "
                "reach the host (files, processes, network, other loaders)",
                Severity.CRITICAL,
                ref.offset,
                evidence=_ref_evidence(ref),
                references=_REFS + _cves(ref),
            )
        elif verdict is Verdict.UNKNOWN:
            self.add(
                dotted,
                "RMP-PICKLE-002",
                "pickle references a global outside the allowlist",
                f"loading this pickle {_action(ref)} {dotted}{times}, which is not on the "
                "allowlist of functions and classes that only rebuild data",
                Severity.HIGH,
                ref.offset,
                evidence=_ref_evidence(ref),
                confidence=Confidence.MEDIUM,
                remediation=_REVIEW,
            )
        elif ref.bad_call is not None:
            opcode, offset, args = ref.bad_call
            self.add(
                dotted,
                "RMP-PICKLE-002",
                "pickle calls an allowed global in an unexpected way",
                f"{dotted} is allowed only with the arguments that pickle writers use; the "
                f"call at byte {self.base_offset + offset} passes others",
                Severity.HIGH,
                offset,
                evidence=_clip(_call_text(ref, args, opcode)),
                confidence=Confidence.MEDIUM,
                remediation=_REVIEW,
            )


def _flat(value: object, depth: int = 0) -> Iterable[object]:
    if depth > 3:
        return
    if isinstance(value, tuple):
        for item in value:
            yield from _flat(item, depth + 1)
    elif isinstance(value, Bag):
        yield from value.nodes
    else:
        yield value


def findings_for(
    results: Iterable[PickleResult],
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy | None = None,
    base_offset: int = 0,
) -> list[Finding]:
    """Findings for the interpreted pickles of one stream (deduplicated across them)."""
    judge = _Judge(path, member, policy or DEFAULT_POLICY, base_offset)
    for result in results:
        judge.result(result)
    return judge.out


def scan_pickle_stream(
    stream: IO[bytes],
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy | None = None,
    limits: Limits | None = None,
) -> list[Finding]:
    """Scan every pickle in ``stream`` from its current position to the end.

    Offsets in findings are stream offsets (a pickle embedded after a header keeps the
    file's offsets). The stream is read in chunks and never loaded whole.
    """
    chosen = policy or DEFAULT_POLICY
    results = interpret(
        stream,
        limits=limits,
        checks=chosen.arg_checks,
        exact_for=_reported(chosen),
        skip_data=_worth_skipping(stream),
    )
    return findings_for(results, path=path, member=member, policy=chosen)


_SKIP_MIN_BYTES = 1 << 20


def _worth_skipping(stream: IO[bytes]) -> bool:
    """Whether the data-run fast path pays: compiling its patterns costs about 0.1 s,
    far more than interpreting a small pickle exactly. Unknown sizes take the fast path.
    """
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
    except (OSError, ValueError, AttributeError):
        return True
    return end - here >= _SKIP_MIN_BYTES


def scan_pickle_bytes(
    data: bytes | bytearray | memoryview,
    *,
    path: str,
    member: tuple[str, ...] = (),
    policy: PicklePolicy | None = None,
    limits: Limits | None = None,
    base_offset: int = 0,
) -> list[Finding]:
    """:func:`scan_pickle_stream` over bytes in memory; offsets start at ``base_offset``."""
    chosen = policy or DEFAULT_POLICY
    results = interpret(
        io.BytesIO(bytes(data)),
        limits=limits,
        checks=chosen.arg_checks,
        exact_for=_reported(chosen),
    )
    return findings_for(results, path=path, member=member, policy=chosen, base_offset=base_offset)


def _reported(policy: PicklePolicy) -> Callable[[Ref], bool]:
    """Whether a global will be reported (its evidence then deserves an exact pass)."""

    def reported(ref: Ref) -> bool:
        if ref.dynamic or ref.ext_code is not None:
            return True
        return policy.judge(ref.module, ref.name) is not Verdict.ALLOWED

    return reported


# Opcodes that can start a pickle of protocol 0 or 1 (which has no magic number): MARK,
# GLOBAL, empty containers, NONE, the number and string pushes, PERSID.
_PROTO01_FIRST: Final = frozenset(b"(c}])NILFSVUTXKJMGP")
_SNIFF_LIMITS: Final = Limits(chunk_size=4096, max_line=4096)


def looks_like_pickle(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts a pickle of any protocol.

    Protocols 2-5 start with PROTO and their version. Protocols 0 and 1 have no magic:
    the head must decode as a pickle to its STOP, or without error up to the end of a
    head of at least 256 bytes, so that text that merely starts with ``(`` or ``I`` is
    not taken.
    """
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return True
    if not head or (head[0] not in _PROTO01_FIRST and head[0] != 0x80):
        return False
    result = next(iter(interpret(io.BytesIO(head), limits=_SNIFF_LIMITS, skip_data=False)), None)
    if result is None:
        return False
    if result.error is None:
        return True
    return len(head) >= 256 and result.end_offset >= len(head) and "ends" in result.error
