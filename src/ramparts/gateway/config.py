"""The gateway's configuration: routes to upstreams, limits, guards (``gateway.toml``).

::

    [gateway]
    max_body_bytes = 1048576        # larger requests get 413
    requests_per_minute = 60        # per identity; burst = requests_burst
    requests_burst = 20
    tokens_per_minute = 100000      # per identity, prompt estimate then reported usage
    model_requests_per_minute = 600 # per model, all identities together
    limiter_unavailable = "closed"  # Redis down: "closed" (503) or "open" (served, audited)
    link_allowlist = ["docs.example.com"]
    injection_classifier = false    # true: the trained classifier beside the rules

    [[routes]]
    name = "local"
    prefix = "/v1"                  # what clients call
    upstream = "http://127.0.0.1:8000/v1"   # what the gateway calls (OpenAI base URL)
    models = ["*"]                  # models this route serves
    environment = "prod"            # the policy resource's environment
    upstream_key_env = "OPENAI_API_KEY"     # the upstream's credential, from the environment
    timeout = 120
    team = "fraud"                  # only identities of this team (or of none) see it

    [guards]                        # name = "block" | "redact" | "flag" | "off"
    injection = "block"

    [[oidc]]                        # tokens of an external identity provider
    issuer = "https://keycloak.example/realms/acme"
    audience = "ramparts-gateway"
    role_map = {"ml-app" = "model-consumer"}   # only mapped roles are granted

Unknown keys are errors, as everywhere in ramparts.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ramparts.core.records import field, record
from ramparts.gateway.interface import GatewayError

__all__ = [
    "GatewayConfig",
    "MtlsConfig",
    "OidcProvider",
    "Route",
    "load_config",
]


@record
class Route:
    """Requests under ``prefix`` go to ``upstream``, for the models listed."""

    name: str
    upstream: str
    prefix: str = "/v1"
    models: tuple[str, ...] = ("*",)
    environment: str = "prod"
    upstream_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    team: str | None = None
    """The team that owns the route's models: identities of other teams are told the
    model does not exist (identities without a team are organisation-wide)."""
    registry: bool = False
    """Serve only models the registry has deployed in the stage named ``environment``
    (dev, staging, prod); each call records the version and its digest."""
    kind: str = "openai"
    """``openai``: the OpenAI-compatible operations; ``json``: any JSON model endpoint
    (every path under ``prefix``), guarded on the string values ``input_fields`` and
    ``output_fields`` point at."""
    model: str | None = None
    """For a ``json`` route: the model's name in policy, limits, kill switch and audit
    (default: the route's name)."""
    input_fields: tuple[str, ...] = ("",)
    """JSON pointers (RFC 6901) of the request texts a ``json`` route guards; every string
    under each one counts (``""``: the whole body)."""
    output_fields: tuple[str, ...] = ("",)
    """JSON pointers of the answer texts a ``json`` route guards (``""``: all of it)."""

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise GatewayError(f"route {self.name!r}: upstream must be an http(s) URL")
        if not self.prefix.startswith("/") or self.prefix.endswith("/"):
            raise GatewayError(f"route {self.name!r}: prefix must start and not end with '/'")
        if not self.models:
            raise GatewayError(f"route {self.name!r}: models must list at least one (or '*')")
        if self.kind not in ("openai", "json"):
            raise GatewayError(f"route {self.name!r}: kind must be 'openai' or 'json'")
        for pointer in (*self.input_fields, *self.output_fields):
            if pointer and not pointer.startswith("/"):
                raise GatewayError(
                    f'route {self.name!r}: {pointer!r} is not a JSON pointer ("" or /a/b)'
                )
        if self.registry and self.environment not in ("dev", "staging", "prod"):
            raise GatewayError(
                f"route {self.name!r}: registry = true needs environment dev, staging or prod"
            )
        if not 0 < self.timeout <= 3600:
            raise GatewayError(f"route {self.name!r}: timeout must be in (0, 3600] seconds")

    @property
    def model_name(self) -> str:
        """The model a ``json`` route serves: ``model``, or the route's name."""
        return self.model or self.name

    def serves(self, model: str) -> bool:
        """Whether this route may carry requests for ``model``."""
        return "*" in self.models or model in self.models

    def target(self, path: str) -> str:
        """The upstream URL for a client ``path`` under this route's prefix."""
        return self.upstream.rstrip("/") + path[len(self.prefix) :]


@record
class OidcProvider:
    """An external identity provider whose tokens the gateway accepts."""

    issuer: str
    audience: str
    jwks_url: str | None = None
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    """Never ``none`` or an HMAC algorithm (refused by the verifier)."""
    role_claim: str = "roles"
    role_map: Mapping[str, str] = field(default_factory=dict)
    team_claim: str | None = None
    team_map: Mapping[str, str] | None = None
    service: bool = False
    """Whether its subjects are workloads (e.g. CI jobs) rather than people."""


@record
class MtlsConfig:
    """Client-certificate identities (``[mtls]``): which certificate is which identity.

    ``identities`` maps a certificate's URI SAN (a SPIFFE id) or its subject DN in RFC
    4514 form to a ramparts identity name. The certificate comes from the server's TLS
    extension or, behind a TLS-terminating proxy, from ``header`` when the request comes
    from one of ``trusted_proxies``. With ``required``, a request without a certificate
    is refused even if it carries a bearer credential.
    """

    identities: Mapping[str, str]
    header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    required: bool = False

    def __post_init__(self) -> None:
        if not self.identities:
            raise GatewayError("[mtls] needs identities: certificate name -> identity name")
        if (self.header is None) != (not self.trusted_proxies):
            raise GatewayError("[mtls] header and trusted_proxies go together")


@record
class GatewayConfig:
    """Everything the gateway is told besides its services."""

    routes: tuple[Route, ...]
    max_body_bytes: int = 1 << 20
    requests_per_minute: float = 60.0
    requests_burst: int = 20
    tokens_per_minute: float = 100_000.0
    model_requests_per_minute: float = 600.0
    limiter_unavailable: str = "closed"
    link_allowlist: tuple[str, ...] = ()
    guards: Mapping[str, str] = field(default_factory=dict)
    oidc: tuple[OidcProvider, ...] = ()
    token_endpoint: bool = True
    """Serve the OAuth 2.0 client-credentials endpoint at ``/oauth/token``."""
    mtls: MtlsConfig | None = None
    """Client-certificate identities; ``None``: bearer credentials only."""
    injection_classifier: bool = False
    """Run the trained prompt-injection classifier beside the rules (tier 2)."""

    def __post_init__(self) -> None:
        if not isinstance(self.injection_classifier, bool):
            raise GatewayError("injection_classifier must be true or false")
        if not self.routes:
            raise GatewayError("the gateway needs at least one route")
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise GatewayError("route names must be unique")
        if self.limiter_unavailable not in ("closed", "open"):
            raise GatewayError("limiter_unavailable must be 'closed' or 'open'")
        if self.max_body_bytes < 1024:
            raise GatewayError("max_body_bytes must be at least 1024")
        for name in ("requests_per_minute", "tokens_per_minute", "model_requests_per_minute"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise GatewayError(f"{name} must be a positive number")
        if self.requests_burst < 1:
            raise GatewayError("requests_burst must be at least 1")

    def route_for(self, path: str) -> Route | None:
        """The route whose prefix is the longest match of ``path``."""
        best: Route | None = None
        for route in self.routes:
            if (path == route.prefix or path.startswith(route.prefix + "/")) and (
                best is None or len(route.prefix) > len(best.prefix)
            ):
                best = route
        return best


_GATEWAY_KEYS = frozenset({
    "max_body_bytes", "requests_per_minute", "requests_burst", "tokens_per_minute",
    "model_requests_per_minute", "limiter_unavailable", "link_allowlist", "token_endpoint",
    "injection_classifier",
})  # fmt: skip
_OIDC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
_OIDC_KEYS = frozenset({
    "issuer", "audience", "jwks_url", "algorithms", "role_claim", "role_map", "team_claim",
    "team_map", "service",
})  # fmt: skip
_ROUTE_KEYS = frozenset({
    "name", "prefix", "upstream", "models", "environment", "upstream_key_env", "timeout",
    "team", "registry", "kind", "model", "input_fields", "output_fields",
})  # fmt: skip


_MTLS_KEYS = frozenset({"identities", "header", "trusted_proxies", "required"})


def _mtls(data: Any, path: Path) -> MtlsConfig:
    if not isinstance(data, Mapping):
        raise GatewayError(f"{path}: [mtls] must be a table")
    unknown = set(data) - _MTLS_KEYS
    if unknown:
        raise GatewayError(f"{path}: unknown [mtls] key(s) {', '.join(sorted(unknown))}")
    identities = data.get("identities", {})
    if not isinstance(identities, Mapping) or not all(
        isinstance(v, str) for v in identities.values()
    ):
        raise GatewayError(f"{path}: [mtls.identities] maps certificate names to identities")
    proxies = data.get("trusted_proxies", [])
    if not isinstance(proxies, list):
        raise GatewayError(f"{path}: [mtls] trusted_proxies must be a list")
    header = data.get("header")
    return MtlsConfig(
        identities=dict(identities),
        header=str(header) if header is not None else None,
        trusted_proxies=tuple(str(p) for p in proxies),
        required=_boolean(data.get("required", False), "[mtls] required"),
    )


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise GatewayError(f"{where} must be true or false")
    return value


def _route(data: Any, index: int, environ: Mapping[str, str]) -> Route:
    if not isinstance(data, Mapping):
        raise GatewayError(f"routes[{index}] must be a table")
    unknown = set(data) - _ROUTE_KEYS
    if unknown:
        raise GatewayError(f"routes[{index}]: unknown key(s) {', '.join(sorted(unknown))}")
    key = None
    if "upstream_key_env" in data:
        variable = str(data["upstream_key_env"])
        key = environ.get(variable)
        if not key:
            raise GatewayError(f"routes[{index}]: environment variable {variable} is not set")
    try:
        return Route(
            name=str(data.get("name", f"route-{index}")),
            upstream=str(data["upstream"]),
            prefix=str(data.get("prefix", "/v1")),
            models=tuple(str(m) for m in data.get("models", ["*"])),
            environment=str(data.get("environment", "prod")),
            upstream_key=key,
            timeout=float(data.get("timeout", 120.0)),
            team=str(data["team"]) if "team" in data else None,
            registry=_boolean(data.get("registry", False), f"routes[{index}].registry"),
            kind=str(data.get("kind", "openai")),
            model=str(data["model"]) if "model" in data else None,
            input_fields=tuple(str(p) for p in data.get("input_fields", [""])),
            output_fields=tuple(str(p) for p in data.get("output_fields", [""])),
        )
    except KeyError as exc:
        raise GatewayError(f"routes[{index}] needs {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        raise GatewayError(f"routes[{index}]: {exc}") from exc


def _oidc(data: Any, index: int) -> OidcProvider:
    if not isinstance(data, Mapping):
        raise GatewayError(f"oidc[{index}] must be a table")
    unknown = set(data) - _OIDC_KEYS
    if unknown:
        raise GatewayError(f"oidc[{index}]: unknown key(s) {', '.join(sorted(unknown))}")
    try:
        return OidcProvider(
            issuer=str(data["issuer"]),
            audience=str(data["audience"]),
            jwks_url=str(data["jwks_url"]) if "jwks_url" in data else None,
            algorithms=tuple(str(a) for a in data.get("algorithms", _OIDC_ALGORITHMS)),
            role_claim=str(data.get("role_claim", "roles")),
            role_map={str(k): str(v) for k, v in dict(data.get("role_map", {})).items()},
            team_claim=str(data["team_claim"]) if "team_claim" in data else None,
            team_map=(
                {str(k): str(v) for k, v in dict(data["team_map"]).items()}
                if "team_map" in data
                else None
            ),
            service=bool(data.get("service", False)),
        )
    except KeyError as exc:
        raise GatewayError(f"oidc[{index}] needs {exc.args[0]}") from exc
    except (TypeError, ValueError) as exc:
        raise GatewayError(f"oidc[{index}]: {exc}") from exc


def load_config(
    path: Path | None, *, upstream: str | None = None, environ: Mapping[str, str] | None = None
) -> GatewayConfig:
    """The configuration in ``path``, or the one-route default for ``upstream``."""
    environ = {} if environ is None else environ
    if path is None:
        if upstream is None:
            raise GatewayError("give --upstream URL or --config gateway.toml")
        return GatewayConfig(routes=(Route(name="default", upstream=upstream),))
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GatewayError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise GatewayError(f"{path} is not valid TOML: {exc}") from exc
    unknown = set(document) - {"gateway", "routes", "guards", "oidc", "mtls"}
    if unknown:
        raise GatewayError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}")
    options = dict(document.get("gateway", {}))
    bad = set(options) - _GATEWAY_KEYS
    if bad:
        raise GatewayError(f"{path}: unknown [gateway] key(s) {', '.join(sorted(bad))}")
    listed = document.get("routes", [])
    if not isinstance(listed, list):
        raise GatewayError(f"{path}: routes must be an array of tables ([[routes]])")
    if not isinstance(options, Mapping):
        raise GatewayError(f"{path}: [gateway] must be a table")
    routes = tuple(_route(r, i, environ) for i, r in enumerate(listed))
    if upstream is not None:
        routes = (Route(name="default", upstream=upstream), *routes)
    providers = document.get("oidc", [])
    if not isinstance(providers, list):
        raise GatewayError(f"{path}: oidc must be an array of tables ([[oidc]])")
    oidc = tuple(_oidc(p, i) for i, p in enumerate(providers))
    guards = document.get("guards", {})
    if not isinstance(guards, Mapping) or not all(isinstance(v, str) for v in guards.values()):
        raise GatewayError(f"{path}: [guards] maps guard names to block, redact, flag or off")
    try:
        return GatewayConfig(
            routes=routes,
            guards=dict(guards),
            oidc=oidc,
            mtls=_mtls(document["mtls"], path) if "mtls" in document else None,
            link_allowlist=tuple(str(h) for h in options.pop("link_allowlist", [])),
            **options,
        )
    except TypeError as exc:
        raise GatewayError(f"{path}: {exc}") from exc
