"""Text guards for the gateway and for library users.

Tier 3: imports ``core``, ``privacy`` and ``errors`` only. A guard inspects one text
and reports a hit; :func:`run_guards` applies a chain of them (block, redact or flag
each hit; a failing guard fails closed unless configured open)::

    from ramparts.guard import GuardContext, Role, default_input_guards, run_guards

    result = run_guards(default_input_guards(), prompt, GuardContext(role=Role.USER))
    forward(result.text)  # Blocked is raised instead when a guard blocks

See ``docs/guards.md`` for every guard, its code and its default action.
"""

from __future__ import annotations

from ramparts.guard.canary import CanaryGuard, make_canary, with_canary
from ramparts.guard.defaults import (
    BUILTIN,
    default_input_guards,
    default_output_guards,
    guards_from_config,
)
from ramparts.guard.exfil import ExfiltrationGuard
from ramparts.guard.html import HtmlGuard
from ramparts.guard.injection import InjectionDetector, InjectionGuard, RuleDetector
from ramparts.guard.interface import (
    Action,
    BaseGuard,
    Blocked,
    FailMode,
    Guard,
    GuardConfigError,
    GuardContext,
    GuardError,
    GuardResult,
    Hit,
    Role,
    Span,
    Verdict,
)
from ramparts.guard.leakage import PiiGuard, SecretGuard
from ramparts.guard.runner import run_guards
from ramparts.guard.size import SizeGuard
from ramparts.guard.stream import StreamGuard
from ramparts.guard.toolargs import ToolArgumentGuard

__all__ = [
    "BUILTIN",
    "Action",
    "BaseGuard",
    "Blocked",
    "CanaryGuard",
    "ExfiltrationGuard",
    "FailMode",
    "Guard",
    "GuardConfigError",
    "GuardContext",
    "GuardError",
    "GuardResult",
    "Hit",
    "HtmlGuard",
    "InjectionDetector",
    "InjectionGuard",
    "PiiGuard",
    "Role",
    "RuleDetector",
    "SecretGuard",
    "SizeGuard",
    "Span",
    "StreamGuard",
    "ToolArgumentGuard",
    "Verdict",
    "default_input_guards",
    "default_output_guards",
    "guards_from_config",
    "make_canary",
    "run_guards",
    "with_canary",
]
