"""``ramparts policy``: explain a decision, list the roles."""

from __future__ import annotations

import argparse
import ipaddress
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.state import AppState
from ramparts.errors import InputError

__all__ = ["add_parser", "add_policy_option"]

DESCRIPTION = """\
Roles and decisions: deny by default, an explicit deny wins, and every decision says
which rule decided and which conditions failed.

  ramparts policy roles
  ramparts policy explain --principal alice --action approve --resource model:fraud@7
  ramparts policy explain --principal alice --role model-approver \\
      --action approve --resource model:fraud@7 --mfa
  ramparts policy explain --principal ci --role data-scientist --action invoke \\
      --resource endpoint:scoring --env prod --policy policy.yaml

Exit codes for explain: 0 allowed, 1 denied.
"""


def add_parser(commands: Any) -> None:
    """Add ``policy`` and its subcommands."""
    policy: Parser = commands.add_parser(
        "policy", help="roles and access decisions", description=DESCRIPTION
    )
    policy.set_defaults(handler=policy.help_handler())
    sub = policy.add_command_parsers()

    explain = sub.add_parser("explain", help="decide one request and say why")
    explain.add_argument(
        "--principal", required=True, metavar="NAME", help="an identity, or any name with --role"
    )
    explain.add_argument(
        "--role",
        action="append",
        default=[],
        metavar="ROLE",
        help="a role the principal holds (repeatable)",
    )
    explain.add_argument("--action", required=True)
    explain.add_argument("--resource", required=True, metavar="TYPE[:ID]")
    explain.add_argument("--env", help="the resource's environment (dev, staging, prod)")
    explain.add_argument("--classification", help="public, internal, confidential or restricted")
    explain.add_argument("--owner", help="the resource's owner")
    explain.add_argument("--mfa", action="store_true", help="the principal used MFA")
    explain.add_argument("--ip", help="the request's source address")
    explain.add_argument("--time", help="when (ISO 8601, default now)")
    add_policy_option(explain)
    explain.set_defaults(handler=run_explain)

    roles = sub.add_parser("roles", help="the roles and their rules")
    add_policy_option(roles)
    roles.set_defaults(handler=run_roles)


def add_policy_option(parser: argparse.ArgumentParser) -> None:
    """``--policy FILE``: custom roles in YAML, repeatable."""
    parser.add_argument(
        "--policy",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="custom roles (YAML, repeatable)",
    )


def run_explain(state: AppState, args: argparse.Namespace) -> int:
    """Decide the request; print the decision and its trace."""
    from ramparts.core.types import Principal  # noqa: PLC0415
    from ramparts.policy.engine import PolicyEngine  # noqa: PLC0415
    from ramparts.policy.interface import Context, Request, Resource  # noqa: PLC0415
    from ramparts.policy.roles import load_roles  # noqa: PLC0415

    try:
        when = (
            datetime.fromisoformat(args.time.replace("Z", "+00:00"))
            if args.time
            else datetime.now(UTC)
        )
        source = ipaddress.ip_address(args.ip) if args.ip else None
    except ValueError as exc:
        raise InputError(f"--time or --ip: {exc}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if args.role:
        principal = Principal(id=args.principal, name=args.principal, roles=tuple(args.role))
    else:  # the identity's own roles, as the gateway would see them
        from ramparts.cli.identity_cmd import wiring  # noqa: PLC0415

        principal = wiring(state).identities.get(args.principal).principal()
    resource = Resource.parse(
        args.resource, environment=args.env, classification=args.classification, owner=args.owner
    )
    request = Request(
        principal, args.action, resource, Context(when, source_ip=source, mfa=args.mfa)
    )
    decision = PolicyEngine(load_roles(args.policy)).decide(request)
    if state.format == "json":
        shown = {"allowed": decision.allowed, "reason": decision.reason, "rule": decision.rule}
        echo(json.dumps({**shown, "trace": list(decision.trace)}, indent=2))
    else:
        echo(("ALLOW" if decision.allowed else "DENY") + f": {decision.reason}")
        for line in decision.trace:
            echo(f"  {line}")
    return 0 if decision.allowed else 1


def run_roles(state: AppState, args: argparse.Namespace) -> int:
    """List the roles and their rules."""
    from ramparts.policy.roles import load_roles  # noqa: PLC0415

    roles = load_roles(args.policy)
    if state.format == "json":
        echo(json.dumps({n: {"description": r.description, "rules": [str(x) for x in r.rules]}
                         for n, r in roles.items()}, indent=2))  # fmt: skip
        return 0
    for name, role in roles.items():
        echo(f"{name}: {role.description}")
        for rule in role.rules:
            echo(f"  {rule}")
    return 0
