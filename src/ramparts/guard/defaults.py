"""The default guard chains, and chains built from a configuration mapping.

Built-in guards are an explicit mapping, :data:`BUILTIN`, from the name used in
configuration to the class; names are never imported from dotted strings.

======================  ==========================  ===============  ================
name                    code(s)                     default action   default chains
======================  ==========================  ===============  ================
``size``                ``input_too_large``         block            input
``injection``           ``prompt_injection``        block            input
``tool_arguments``      ``tool_argument_injection`` block            input, output
``secrets``             ``secret_in_prompt``,       redact           input, output
                        ``secret_leak``
``pii``                 ``pii_in_prompt``,          redact           input, output
                        ``pii_leak``
``canary``              ``system_prompt_leak``      block            output
``exfiltration``        ``exfiltration_link``       redact           output
``html``                ``unsafe_html``             redact           output
======================  ==========================  ===============  ================

Every guard fails closed unless configured otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ramparts.guard.canary import CanaryGuard
from ramparts.guard.exfil import ExfiltrationGuard
from ramparts.guard.html import HtmlGuard
from ramparts.guard.injection import InjectionGuard
from ramparts.guard.interface import Action, BaseGuard, FailMode, Guard, GuardConfigError
from ramparts.guard.leakage import PiiGuard, SecretGuard
from ramparts.guard.size import SizeGuard
from ramparts.guard.toolargs import ToolArgumentGuard

__all__ = ["BUILTIN", "default_input_guards", "default_output_guards", "guards_from_config"]

BUILTIN: Mapping[str, type[BaseGuard]] = MappingProxyType(
    {
        cls.name: cls
        for cls in (
            SizeGuard,
            InjectionGuard,
            ToolArgumentGuard,
            SecretGuard,
            PiiGuard,
            CanaryGuard,
            ExfiltrationGuard,
            HtmlGuard,
        )
    }
)
"""Every built-in guard by its configuration name."""

_KEYS = frozenset({"action", "fail_mode", "enabled"})


def default_input_guards() -> list[Guard]:
    """The chain for text sent to the model: blocking guards first, then redaction."""
    return [SizeGuard(), InjectionGuard(), ToolArgumentGuard(), SecretGuard(), PiiGuard()]


def default_output_guards() -> list[Guard]:
    """The chain for the model's answers and tool calls."""
    return [
        CanaryGuard(),
        ToolArgumentGuard(),
        SecretGuard(),
        PiiGuard(),
        ExfiltrationGuard(),
        HtmlGuard(),
    ]


def _choice(enum: type[Action] | type[FailMode], value: object, name: str, key: str) -> object:
    if isinstance(value, enum):
        return value
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise GuardConfigError(f"guard {name!r}: {key} {value!r} is not one of {choices}") from None


def guards_from_config(config: Mapping[str, object]) -> list[Guard]:
    """The chain a configuration mapping describes, in the mapping's order.

    Each key is a built-in name (:data:`BUILTIN`); each value is ``None`` (the guard's
    defaults), an action name (``"block"``, ``"redact"``, ``"flag"``), or a mapping
    with any of ``action``, ``fail_mode`` (``"closed"``, ``"open"``) and ``enabled``
    (``false`` leaves the guard out). Anything else raises
    :class:`~ramparts.guard.interface.GuardConfigError`; an empty chain is refused.
    """
    guards: list[Guard] = []
    for name, value in config.items():
        cls = BUILTIN.get(name)
        if cls is None:
            known = ", ".join(sorted(BUILTIN))
            raise GuardConfigError(f"unknown guard {name!r} (built-in guards: {known})")
        entry: Mapping[str, object]
        if value is None:
            entry = {}
        elif isinstance(value, str | Action):
            entry = {"action": value}
        elif isinstance(value, Mapping):
            entry = value
        else:
            raise GuardConfigError(f"guard {name!r}: expected an action or a mapping")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise GuardConfigError(f"guard {name!r}: unknown option(s) {', '.join(unknown)}")
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise GuardConfigError(f"guard {name!r}: enabled must be true or false")
        if not enabled:
            continue
        action = entry.get("action")
        fail_mode = entry.get("fail_mode", FailMode.CLOSED)
        guards.append(
            cls(
                action=None if action is None else Action(_choice(Action, action, name, "action")),
                fail_mode=FailMode(_choice(FailMode, fail_mode, name, "fail_mode")),
            )
        )
    if not guards:
        raise GuardConfigError("a guard chain needs at least one enabled guard")
    return guards
