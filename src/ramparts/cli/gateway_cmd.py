"""``ramparts gateway``: the AI gateway in front of model endpoints, and its kill switch."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.policy_cmd import add_policy_option
from ramparts.cli.state import AppState
from ramparts.errors import ConfigError, InputError

if TYPE_CHECKING:
    from ramparts.audit.log import AuditLog
    from ramparts.core.interface import Event, ModelVersions
    from ramparts.gateway.config import GatewayConfig
    from ramparts.gateway.killswitch import KillSwitchAdmin

__all__ = ["add_parser", "build_gateway"]

DESCRIPTION = """\
An authenticated, rate-limited, guarded and audited proxy in front of OpenAI-compatible
model servers (OpenAI, vLLM, Ollama, llama.cpp). Clients send "Authorization: Bearer
KEY_OR_TOKEN" with keys or tokens of `ramparts identity`; each request is authorised
(action invoke on endpoint:MODEL), rate limited, guarded (prompt injection, secrets and
personal data, tool arguments; answers for leaks, exfiltration links, unsafe HTML) and
recorded in the audit log before it is answered. Refusals use OpenAI's error shape with
a stable code (prompt_injection, rate_limited, kill_switch...).

  ramparts gateway --upstream http://127.0.0.1:8000/v1       # http://127.0.0.1:8080/v1
  ramparts gateway --config gateway.toml                     # routes, limits, guards
  ramparts gateway kill --model llama3 --reason "jailbreak wave"
  ramparts gateway resume --model llama3
  ramparts gateway status

With RAMPARTS_REDIS_URL set, rate limits and the kill switch are shared by every
replica through Redis; otherwise limits are per process and the kill switch lives in
the state database (replicas see a flip within a second).
"""


def add_parser(commands: Any) -> None:
    """Add ``gateway`` and its subcommands."""
    gateway: Parser = commands.add_parser(
        "gateway", help="the AI gateway in front of model endpoints", description=DESCRIPTION
    )
    gateway.add_argument("--upstream", metavar="URL", help="OpenAI-compatible base URL")
    gateway.add_argument("--config", type=Path, metavar="FILE", dest="gateway_config",
                         help="gateway.toml: routes, limits, guards")  # fmt: skip
    gateway.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    gateway.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    gateway.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS")
    gateway.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's key")
    add_policy_option(gateway)
    gateway.set_defaults(handler=run_gateway)
    sub = gateway.add_command_parsers()
    for verb, text in (("kill", "stop traffic now"), ("resume", "let traffic through again")):
        switch = sub.add_parser(verb, help=f"{text}: globally, for a model or an identity")
        target = switch.add_mutually_exclusive_group()
        target.add_argument("--model", metavar="MODEL")
        target.add_argument("--identity", metavar="NAME_OR_ID")
        if verb == "kill":
            switch.add_argument("--reason", default="", help="why (recorded and shown to clients)")
        switch.set_defaults(handler=run_switch, verb=verb)
    status = sub.add_parser("status", help="the engaged kill switches")
    status.set_defaults(handler=run_status)


def _admin(state: AppState) -> KillSwitchAdmin:
    settings = state.settings()
    if settings.redis_url is not None:
        from ramparts.gateway.killswitch import RedisKillSwitchAdmin  # noqa: PLC0415

        return RedisKillSwitchAdmin(settings.redis_url.get_secret_value())
    from ramparts.cli.identity_cmd import wiring  # noqa: PLC0415
    from ramparts.gateway.killswitch import SqlKillSwitchAdmin  # noqa: PLC0415

    return SqlKillSwitchAdmin(wiring(state).engine)


def _identity_id(state: AppState, name: str) -> str:
    """An identity's id from its name (ids are accepted as they are)."""
    from ramparts.cli.identity_cmd import wiring  # noqa: PLC0415
    from ramparts.policy.identity_types import IdentityError  # noqa: PLC0415

    try:
        return wiring(state).identities.get(name).id
    except IdentityError:
        return name


def run_switch(state: AppState, args: argparse.Namespace) -> int:
    """Engage or release a kill switch; audited."""
    from ramparts.cli.identity_cmd import wiring  # noqa: PLC0415
    from ramparts.core.interface import Event, Outcome  # noqa: PLC0415

    if args.model:
        scope, value = "model", args.model
    elif args.identity:
        scope, value = "identity", _identity_id(state, args.identity)
    else:
        scope, value = "global", None
    actor = f"cli:{_user()}"
    admin = _admin(state)
    if args.verb == "kill":
        kill = admin.engage(scope, value, reason=args.reason or "kill switch", actor=actor)
        line = f"kill switch engaged: {kill.scope} {kill.value}" + (
            f" ({kill.reason})" if kill.reason else ""
        )
    else:
        released = admin.release(scope, value, actor=actor)
        line = (f"kill switch released: {scope} {value or '*'}" if released
                else f"no kill switch was engaged for {scope} {value or '*'}")  # fmt: skip
    sink = wiring(state).sink
    sink.emit(Event(actor=actor, action=f"gateway.{args.verb}",
                    resource=f"{scope}:{value or '*'}", outcome=Outcome.SUCCESS,
                    time=wiring(state).clock.now(), reason=getattr(args, "reason", ""),
                    details={"scope": scope, "value": value or "*"}))  # fmt: skip
    echo(line)
    return 0


def run_status(state: AppState, args: argparse.Namespace) -> int:
    """List the engaged kill switches."""
    kills = _admin(state).engaged()
    if state.format == "json":
        rows = [{"scope": str(k.scope), "value": k.value, "reason": k.reason,
                 "actor": k.actor, "at": k.at.isoformat()} for k in kills]  # fmt: skip
        echo(json.dumps(rows, indent=2))
        return 0
    for kill in kills:
        echo(f"{kill.scope:<9} {kill.value:<24} since {kill.at:%Y-%m-%dT%H:%M:%SZ} "
             f"by {kill.actor}: {kill.reason}")  # fmt: skip
    if not kills:
        echo("no kill switch is engaged")
    return 0


def _user() -> str:
    import getpass  # noqa: PLC0415

    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _model_versions(state: AppState, policies: list[Path]) -> ModelVersions:
    """The registry of this state, read as the local admin, for ``registry = true`` routes."""
    from ramparts.cli.control import ControlPlane  # noqa: PLC0415
    from ramparts.registry.deployed import RegistryVersions  # noqa: PLC0415

    plane = ControlPlane(state, policies)
    return RegistryVersions(plane.registry, plane.local_admin())


def build_gateway(state: AppState, config: GatewayConfig, policies: list[Path]) -> Any:
    """The gateway's ASGI application over this process's settings: identities, audit log,
    Redis or not; the OAuth client-credentials endpoint in front unless turned off."""
    from ramparts.cli.identity_cmd import wiring  # noqa: PLC0415
    from ramparts.core.types import PrincipalKind  # noqa: PLC0415
    from ramparts.gateway.app import Gateway  # noqa: PLC0415
    from ramparts.gateway.auth import (  # noqa: PLC0415
        ApiKeys,
        BearerVerifier,
        ClientCredentialsEndpoint,
        OidcVerifier,
        RampartsTokens,
        chain,
        with_token_endpoint,
    )
    from ramparts.gateway.guards import LayerGuards, guard_chains  # noqa: PLC0415
    from ramparts.gateway.killswitch import KillSwitch  # noqa: PLC0415
    from ramparts.gateway.metrics import GatewayMetrics  # noqa: PLC0415
    from ramparts.gateway.ratelimit import RateLimiter  # noqa: PLC0415
    from ramparts.policy.engine import PolicyEngine  # noqa: PLC0415
    from ramparts.policy.roles import load_roles  # noqa: PLC0415

    parts = wiring(state)
    settings = parts.settings
    identities, tokens = parts.identities, parts.tokens
    log = cast("AuditLog", parts.sink)

    async def audit(event: Event) -> None:
        await log.append_async(event)

    limiter: RateLimiter
    kill_switch: KillSwitch
    if settings.redis_url is not None:
        from ramparts.gateway.killswitch import RedisKillSwitch  # noqa: PLC0415
        from ramparts.gateway.ratelimit import RedisRateLimiter  # noqa: PLC0415

        url = settings.redis_url.get_secret_value()
        limiter, kill_switch = RedisRateLimiter(url), RedisKillSwitch(url)
    else:
        from ramparts.gateway.killswitch import SqlKillSwitch  # noqa: PLC0415
        from ramparts.gateway.ratelimit import MemoryRateLimiter  # noqa: PLC0415

        limiter, kill_switch = MemoryRateLimiter(), SqlKillSwitch(parts.engine)
    roles = load_roles(policies)
    verifiers: list[BearerVerifier] = [
        ApiKeys(identities),
        RampartsTokens(tokens, issuer=settings.identity.issuer),
    ]
    for provider in config.oidc:
        unknown = sorted(set(provider.role_map.values()) - set(roles))
        if unknown:
            raise InputError(f"oidc {provider.issuer}: role_map names unknown role(s) "
                             f"{', '.join(unknown)}")  # fmt: skip
        verifiers.append(OidcVerifier(
            provider.issuer, provider.audience, clock=parts.clock,
            jwks_url=provider.jwks_url, algorithms=provider.algorithms,
            role_claim=provider.role_claim, role_map=provider.role_map,
            team_claim=provider.team_claim, team_map=provider.team_map,
            kind=PrincipalKind.SERVICE if provider.service else PrincipalKind.HUMAN,
        ))  # fmt: skip
    certificates = None
    if config.mtls is not None:
        from ramparts.gateway.auth import ClientCertificates  # noqa: PLC0415

        try:
            certificates = ClientCertificates(
                config.mtls.identities, identities=identities, clock=parts.clock,
                header=config.mtls.header, trusted_proxies=config.mtls.trusted_proxies,
            )  # fmt: skip
        except ConfigError as exc:
            raise InputError(f"[mtls]: {exc}") from exc
    inputs, outputs = guard_chains(config.guards, injection_classifier=config.injection_classifier)
    gateway = Gateway(
        config,
        authenticate=chain(*verifiers),
        policy=PolicyEngine(roles),
        limiter=limiter,
        kill_switch=kill_switch,
        guards=LayerGuards(inputs, outputs, allowed_hosts=config.link_allowlist),
        audit=audit,
        clock=parts.clock,
        metrics=GatewayMetrics(),
        versions=_model_versions(state, policies)
        if any(r.registry for r in config.routes)
        else None,
        identify=certificates.identify if certificates is not None else None,
        require_certificate=config.mtls is not None and config.mtls.required,
    )
    if not config.token_endpoint:
        return gateway
    endpoint = ClientCredentialsEndpoint(identities, tokens, audit=audit, clock=parts.clock)
    return with_token_endpoint(gateway, endpoint)


def run_gateway(state: AppState, args: argparse.Namespace) -> int:
    """Serve the gateway under uvicorn until interrupted."""
    from ramparts.cli.serving import check_tls, run_asgi  # noqa: PLC0415
    from ramparts.gateway.config import load_config  # noqa: PLC0415

    if args.upstream is None and args.gateway_config is None:
        raise InputError("give --upstream URL or --config gateway.toml")
    check_tls(args.tls_cert, args.tls_key)
    config = load_config(args.gateway_config, upstream=args.upstream, environ=state.environ)
    app = build_gateway(state, config, args.policy)
    run_asgi(app, host=args.host, port=args.port, cert=args.tls_cert, key=args.tls_key,
             clear="keys and prompts")  # fmt: skip
    return 0
