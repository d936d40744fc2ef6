"""``ramparts identity``: identities, their API keys and short-lived tokens."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser, UsageError
from ramparts.cli.policy_cmd import add_policy_option
from ramparts.cli.state import AppState
from ramparts.errors import InputError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ramparts.core.interface import Clock, EventSink
    from ramparts.policy.identities import Identities
    from ramparts.policy.identity_types import Revocations
    from ramparts.policy.mfa import SecondFactors
    from ramparts.policy.token_keys import TokenKeys
    from ramparts.policy.tokens import Tokens

__all__ = ["add_parser", "wiring"]

DESCRIPTION = """\
People and services that authenticate: each has roles, teams, API keys (stored only as
keyed hashes), short-lived tokens (JWTs signed with Ed25519, 15 minutes by default) and
optionally a TOTP second factor. Every change is recorded in the audit log.

  ramparts identity create ci-bot --role data-scientist --team vision --service
  ramparts identity token ci-bot         # a token for ci-bot (the caller is trusted locally)
  ramparts identity mfa alice            # enrol a TOTP second factor (secret shown once)
  ramparts identity token alice --totp 123456   # a token that says a code was verified
  ramparts identity rotate ci-bot        # a new key; the previous one works 24 h more
  ramparts identity revoke ci-bot        # its keys and tokens are denied from now on
  ramparts identity list
  ramparts identity jwks                 # the public keys that verify tokens (JWK Set)
"""

_SHOWN_ONCE = "shown once: store it now"
_MFA_SHOWN_ONCE = "shown once and will not be shown again: enrolling again replaces it"
_MFA_KEY = "mfa-secrets"
"""The key-store key that seals TOTP secrets."""


def add_parser(commands: Any) -> None:
    """Add ``identity`` and its subcommands."""
    identity: Parser = commands.add_parser(
        "identity", help="identities, API keys and short-lived tokens", description=DESCRIPTION
    )
    identity.set_defaults(handler=identity.help_handler())
    sub = identity.add_command_parsers()

    create = sub.add_parser("create", help="create an identity and print its first API key")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--role",
        action="append",
        required=True,
        metavar="ROLE",
        help="a role it holds (repeatable); built-in or from --policy",
    )
    create.add_argument(
        "--team",
        action="append",
        default=[],
        metavar="TEAM",
        help="a team whose registry assets it sees (repeatable; none: organisation-wide)",
    )
    create.add_argument("--service", action="store_true", help="a workload, not a person")
    add_policy_option(create)
    create.set_defaults(handler=run_create)

    token = sub.add_parser("token", help="issue a short-lived token (printed on stdout)")
    token.add_argument("name", metavar="NAME")
    token.add_argument(
        "--totp",
        metavar="CODE",
        help="a one-time code of its second factor: the token then says MFA (amr: otp)",
    )
    token.set_defaults(handler=run_token)

    mfa = sub.add_parser("mfa", help="enrol a TOTP second factor and print its secret once")
    mfa.add_argument("name", metavar="NAME", nargs="?", help="the identity (or give --local)")
    mfa.add_argument(
        "--local", action="store_true", help="the local administrator's factor (local-admin)"
    )
    mfa.add_argument(
        "--remove", action="store_true", help="remove the second factor instead of enrolling one"
    )
    mfa.set_defaults(handler=run_mfa)

    rotate = sub.add_parser("rotate", help="print a new API key; the previous ones expire later")
    rotate.add_argument("name", metavar="NAME")
    rotate.add_argument(
        "--grace",
        type=float,
        metavar="HOURS",
        help="how long the previous keys keep working (default: identity.key_rotation_grace_hours)",
    )
    rotate.set_defaults(handler=run_rotate)

    revoke = sub.add_parser("revoke", help="disable an identity, all its keys and tokens")
    revoke.add_argument("name", metavar="NAME")
    revoke.set_defaults(handler=run_revoke)

    listing = sub.add_parser("list", help="the identities, their kind, roles, teams and state")
    listing.set_defaults(handler=run_list)

    jwks = sub.add_parser("jwks", help="print the JWK Set of the token verification keys")
    jwks.add_argument(
        "--rotate",
        action="store_true",
        help="start a new signing key first (old ones still verify)",
    )
    jwks.set_defaults(handler=run_jwks)


def _actor() -> str:
    """Who runs the command, for the audit log: the local user (trusted locally)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name in a bare container
        return "cli"


def wiring(state: AppState) -> _Wiring:
    """The identity store and its collaborators, for commands outside this module."""
    return _Wiring(state)


class _Wiring:
    """The pieces a command needs, each made once, on first use."""

    def __init__(self, state: AppState) -> None:
        from ramparts.core.clock import SystemClock  # noqa: PLC0415

        self.state = state
        self.settings = state.settings()
        self.clock: Clock = SystemClock()

    @cached_property
    def engine(self) -> sa.Engine:
        from ramparts.store import create_engine, upgrade  # noqa: PLC0415

        engine = create_engine(self.settings.sqlalchemy_url())
        upgrade(engine)
        return engine

    @cached_property
    def sink(self) -> EventSink:
        from ramparts.cli.audit_cmd import open_log  # noqa: PLC0415

        return open_log(self.state, self.engine)

    def close(self) -> None:
        """Release the database connections this wiring opened."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    @cached_property
    def revocations(self) -> Revocations:
        """In Redis when ``redis_url`` is set (shared by replicas), else in the database."""
        from ramparts.policy.revocations import RedisRevocations, SqlRevocations  # noqa: PLC0415

        url = self.settings.redis_url
        if url is None:
            return SqlRevocations(self.engine, clock=self.clock)
        from ramparts.store.redis import RedisAdapter  # noqa: PLC0415

        return RedisRevocations(RedisAdapter.from_url(url.get_secret_value()), clock=self.clock)

    @cached_property
    def identities(self) -> Identities:
        from ramparts.policy.apikeys import PEPPER_FILE, KeyHasher  # noqa: PLC0415
        from ramparts.policy.identities import Identities  # noqa: PLC0415

        hasher = KeyHasher.from_file(self.settings.state_dir / "keys" / PEPPER_FILE)
        return Identities(
            self.engine, hasher, clock=self.clock, sink=self.sink, revocations=self.revocations
        )

    @cached_property
    def token_keys(self) -> TokenKeys:
        from ramparts.policy.token_keys import TokenKeys  # noqa: PLC0415

        config = self.settings.identity
        lifetime = timedelta(minutes=config.token_lifetime_minutes)
        return TokenKeys(
            self.settings.state_dir / "keys" / "token-signing",
            clock=self.clock,
            retain=lifetime + timedelta(seconds=config.leeway_seconds),
            algorithm=config.token_algorithm,
            max_age=timedelta(days=config.signing_key_max_age_days),
        )

    @cached_property
    def tokens(self) -> Tokens:
        from ramparts.policy.tokens import Tokens  # noqa: PLC0415

        config = self.settings.identity
        return Tokens(
            self.token_keys,
            self.revocations,
            clock=self.clock,
            issuer=config.issuer,
            audience=config.audience,
            lifetime=timedelta(minutes=config.token_lifetime_minutes),
            leeway=timedelta(seconds=config.leeway_seconds),
            sink=self.sink,
        )

    @cached_property
    def second_factors(self) -> SecondFactors:
        """TOTP factors, sealed under the key store's ``mfa-secrets`` key."""
        from ramparts.policy.mfa import SecondFactors  # noqa: PLC0415
        from ramparts.privacy.keystore import LocalKeyStore  # noqa: PLC0415

        key = LocalKeyStore(self.settings.state_dir / "keys").get(_MFA_KEY, create=True)
        return SecondFactors(self.engine, key, clock=self.clock, sink=self.sink)


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_roles(roles: list[str], policies: list[Path]) -> None:
    """A typo in a role name must fail now, not quietly grant nothing later."""
    from ramparts.policy.roles import load_roles  # noqa: PLC0415

    known = load_roles(policies)
    unknown = sorted(set(roles) - set(known))
    if unknown:
        raise InputError(
            f"unknown role(s) {', '.join(unknown)} (known: {', '.join(sorted(known))}; "
            "custom roles come from --policy FILE)"
        )


def run_create(state: AppState, args: argparse.Namespace) -> int:
    """Create an identity; print its first API key, once."""
    from ramparts.core.types import PrincipalKind  # noqa: PLC0415

    _check_roles(args.role, args.policy)
    kind = PrincipalKind.SERVICE if args.service else PrincipalKind.HUMAN
    issued = _Wiring(state).identities.create(
        args.name, args.role, kind=kind, teams=args.team, actor=_actor()
    )
    identity = issued.identity
    if state.format == "json":
        echo(json.dumps({"id": identity.id, "name": identity.name, "kind": kind.value,
                         "roles": list(identity.roles), "teams": list(identity.teams),
                         "key_id": issued.key_id, "api_key": issued.api_key},
                        indent=2))  # fmt: skip
        return 0
    teams = f" in team(s) {', '.join(identity.teams)}" if identity.teams else ""
    echo(
        f"created {kind.value} identity {identity.name} (id {identity.id}) "
        f"with role(s) {', '.join(identity.roles)}{teams}"
    )
    echo(f"API key {issued.key_id} ({_SHOWN_ONCE}):")
    echo(issued.api_key)
    return 0


def run_token(state: AppState, args: argparse.Namespace) -> int:
    """Issue a token for the identity: the token alone on stdout, its expiry on stderr.

    With ``--totp`` the code is checked (and spent) first; a code that is not accepted
    issues no token.
    """
    from ramparts.policy.identity_types import IdentityError, MfaError  # noqa: PLC0415

    wiring = _Wiring(state)
    identity = wiring.identities.get(args.name)
    mfa = args.totp is not None
    if mfa:
        if identity.revoked:  # checked by issue too, but before the code is spent
            raise IdentityError(f"identity {identity.name!r} is revoked: no token is issued")
        factors = wiring.second_factors
        if not factors.enrolled(identity.id):  # a clearer line than verify's; verify decides
            raise MfaError(
                f"{identity.name} has no second factor: ramparts identity mfa {identity.name}"
            )
        factors.verify(identity.id, args.totp.strip())
    issued = wiring.tokens.issue(identity, actor=_actor(), mfa=mfa)
    if state.format == "json":
        echo(json.dumps({"token": issued.token, "jti": issued.jti, "kid": issued.kid,
                         "subject": issued.subject, "mfa": issued.mfa,
                         "expires_at": _when(issued.expires_at)}, indent=2))  # fmt: skip
        return 0
    echo(issued.token)
    if not state.quiet:
        with_mfa = ", second factor verified" if issued.mfa else ""
        sys.stderr.write(
            f"token for {identity.name} (jti {issued.jti}{with_mfa}), "
            f"expires {_when(issued.expires_at)}\n"
        )
    return 0


def run_mfa(state: AppState, args: argparse.Namespace) -> int:
    """Enrol (or with ``--remove`` remove) the TOTP second factor of an identity or local-admin."""
    from ramparts.policy.identity_types import LOCAL_ADMIN_ID, IdentityError  # noqa: PLC0415

    if args.local == (args.name is not None):
        raise UsageError("give either an identity NAME or --local", "ramparts identity mfa")
    wiring = _Wiring(state)
    if args.local:
        principal_id = name = LOCAL_ADMIN_ID
    else:
        identity = wiring.identities.get(args.name)
        if identity.revoked and not args.remove:
            raise IdentityError(f"identity {identity.name!r} is revoked: no second factor")
        principal_id, name = identity.id, identity.name
    factors = wiring.second_factors
    if args.remove:
        factors.remove(principal_id, actor=_actor())
        if state.format == "json":
            echo(json.dumps({"principal_id": principal_id, "name": name, "removed": True},
                            indent=2))  # fmt: skip
        else:
            echo(f"removed the second factor of {name}")
        return 0
    enrollment = factors.enroll(principal_id, actor=_actor(), label=name)
    warning = f"the secret is {_MFA_SHOWN_ONCE}"
    if state.format == "json":
        echo(json.dumps({"principal_id": principal_id, "name": name, "secret": enrollment.secret,
                         "uri": enrollment.uri}, indent=2))  # fmt: skip
        if not state.quiet:
            sys.stderr.write(f"warning: {warning}\n")
        return 0
    echo(f"enrolled a TOTP second factor for {name}; add it to an authenticator app.")
    echo(f"Warning: {warning}.")
    echo(f"URI:    {enrollment.uri}")
    echo(f"secret: {enrollment.secret}")
    return 0


def run_rotate(state: AppState, args: argparse.Namespace) -> int:
    """Issue a new API key; the previous keys keep working for the grace period."""
    hours = args.grace
    if hours is None:
        hours = state.settings().identity.key_rotation_grace_hours
    if hours < 0:
        raise InputError(f"--grace must be >= 0 hours, got {hours}")
    issued = _Wiring(state).identities.rotate(
        args.name, grace=timedelta(hours=hours), actor=_actor()
    )
    until = _when(issued.previous_valid_until) if issued.previous_valid_until else None
    if state.format == "json":
        echo(json.dumps({"name": issued.identity.name, "key_id": issued.key_id,
                         "api_key": issued.api_key, "previous_valid_until": until},
                        indent=2))  # fmt: skip
        return 0
    echo(f"new API key {issued.key_id} for {issued.identity.name} ({_SHOWN_ONCE});")
    echo(f"the previous key(s) stop working at {until}:")
    echo(issued.api_key)
    return 0


def run_revoke(state: AppState, args: argparse.Namespace) -> int:
    """Disable the identity, all its API keys and all its tokens."""
    result = _Wiring(state).identities.revoke(args.name, actor=_actor())
    identity = result.identity
    if state.format == "json":
        revoked_at = _when(identity.disabled_at) if identity.disabled_at else None
        echo(json.dumps({"name": identity.name, "id": identity.id, "revoked_at": revoked_at,
                         "keys_revoked": result.keys_revoked}, indent=2))  # fmt: skip
        return 0
    echo(
        f"revoked {identity.name}: {result.keys_revoked} API key(s) disabled, "
        "its tokens are denied from now on"
    )
    return 0


def run_list(state: AppState, args: argparse.Namespace) -> int:
    """List the identities."""
    identities = _Wiring(state).identities.list()
    if state.format == "json":
        echo(json.dumps([{"id": i.id, "name": i.name, "kind": i.kind.value,
                          "roles": list(i.roles), "teams": list(i.teams),
                          "created_at": _when(i.created_at),
                          "revoked_at": _when(i.disabled_at) if i.disabled_at else None}
                         for i in identities], indent=2))  # fmt: skip
        return 0
    if not identities:
        echo("no identities yet: ramparts identity create NAME --role ROLE")
        return 0
    rows = [("NAME", "KIND", "STATE", "CREATED", "ROLES", "TEAMS")]
    rows += [
        (i.name, i.kind.value, "revoked" if i.revoked else "active", _when(i.created_at),
         ",".join(i.roles), ",".join(i.teams) or "-")
        for i in identities
    ]  # fmt: skip
    widths = [max(len(row[c]) for row in rows) for c in range(5)]
    for row in rows:
        echo("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[5]]))
    return 0


def run_jwks(state: AppState, args: argparse.Namespace) -> int:
    """Print the JWK Set (after starting a new signing key with ``--rotate``)."""
    from ramparts.policy.identity_types import emit  # noqa: PLC0415

    wiring = _Wiring(state)
    keys = wiring.token_keys
    if args.rotate:
        key = keys.rotate()
        emit(wiring.sink, actor=_actor(), action="identity.signing_key.rotate",
             resource=f"key:{key.kid}", time=wiring.clock.now(),
             details={"kid": key.kid, "alg": key.algorithm})  # fmt: skip
    else:
        keys.current()  # the first use makes the first key
    echo(json.dumps(keys.jwks(), indent=2))
    return 0
