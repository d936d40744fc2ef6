"""The one settings model, and how it is loaded.

Precedence, highest first (pinned by ``tests/core/test_settings.py``):

1. explicit overrides (CLI flags, keyword arguments);
2. environment variables ``RAMPARTS_*`` (``__`` nests: ``RAMPARTS_SCAN__MAX_FILE_BYTES``;
   lists and tables are given as JSON: ``RAMPARTS_SCAN__EXCLUDE='["data/"]'``);
3. ``ramparts.toml`` in the project directory (or the file named by ``--config``);
4. the defaults below.

The settings are frozen dataclasses, validated by pydantic (types, bounds, unknown
keys) whenever a source supplies values. pydantic is imported only then, and
pydantic-settings not at all: together they cost about 0.2 s of start-up, more than a
whole scan of a small model file, and a command run with defaults needs neither.
Library code never reads ``os.environ``: the caller passes the environment mapping to
:func:`load_settings` (the CLI passes ``os.environ``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ramparts.core.records import field, fields, is_record, record
from ramparts.core.types import Severity
from ramparts.errors import ConfigError, InputError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, ClassVar, Literal

    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "MIN_RETENTION_DAYS",
    "AuditSettings",
    "DepsScanSettings",
    "IdentitySettings",
    "ModelScanSettings",
    "PostureSettings",
    "RegistrySettings",
    "ScanSettings",
    "Secret",
    "Settings",
    "load_settings",
    "settings_to_dict",
]

CONFIG_FILE = "ramparts.toml"
MIN_RETENTION_DAYS = 183
"""The shortest audit retention ramparts accepts: six months."""
ENV_PREFIX = "RAMPARTS_"
_FORBID: dict[str, Any] = {"extra": "forbid"}


class Secret(str):
    """A string that never shows itself in ``repr`` or ``str`` (database URLs, tokens).

    Use :meth:`get_secret_value` where the real value is needed.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('**********')"

    def __str__(self) -> str:
        return "**********"

    def get_secret_value(self) -> str:
        """The secret itself."""
        return str.__str__(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Validate as a string, then wrap (called by pydantic, only while validating)."""
        from pydantic_core import core_schema  # noqa: PLC0415 - validation only

        return core_schema.no_info_after_validator_function(
            lambda v: v if isinstance(v, cls) else cls(v), core_schema.str_schema()
        )


def _positive(owner: object, *names: str) -> None:
    for name in names:
        value = getattr(owner, name)
        if value is not None and value <= 0:
            raise ValueError(f"{name} must be greater than 0, got {value}")


@record
class ModelScanSettings:
    """Choices of the model-file scanner (``[scan.models]`` in ramparts.toml).

    ``allow``: extra pickle globals to trust (``pkg.Class`` or ``pkg.*``);
    ``unsafe_allow``: denylisted globals to trust anyway (dangerous).
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    allow: tuple[str, ...] = ()
    unsafe_allow: tuple[str, ...] = ()


@record
class DepsScanSettings:
    """Choices of the dependency scanner (``[scan.deps]`` in ramparts.toml).

    ``ramparts scan PATH`` never uses the network: it audits pinned dependencies only
    against ``osv_export``. ``ramparts scan deps PATH`` asks ``service`` online unless
    ``osv_export`` is set or ``offline`` is true.
    """

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    osv_export: Path | None = None
    """A local OSV export: a folder of OSV JSON files, a zip of them (OSV's PyPI
    ``all.zip``) or one JSON file. When set, no network is used."""
    service: Literal["osv", "pypi"] = "osv"
    """The online vulnerability service of ``ramparts scan deps``."""
    offline: bool = False
    """Never ask an online service, even in ``ramparts scan deps``."""
    cache_dir: Path | None = None
    """HTTP cache of the online service; the CLI's default is ``state_dir/cache/pip-audit``."""
    timeout: int = 15
    """Seconds to wait for the online service."""

    def __post_init__(self) -> None:
        _positive(self, "timeout")


@record
class ScanSettings:
    """Limits and choices of ``ramparts scan``."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    max_file_bytes: int = 8 << 30
    """Larger files are skipped (with the reason)."""
    max_archive_depth: int = 5
    max_archive_members: int = 10_000
    max_expansion_ratio: float = 200.0
    """Zip- and decompression-bomb guard."""
    max_expanded_bytes: int = 16 << 30
    exclude: tuple[str, ...] = ()
    """gitignore-style patterns to skip."""
    respect_gitignore: bool = True
    workers: int | None = None
    """Default: the number of CPUs."""
    models: ModelScanSettings = field(default_factory=ModelScanSettings)
    deps: DepsScanSettings = field(default_factory=DepsScanSettings)

    def __post_init__(self) -> None:
        _positive(self, "max_file_bytes", "max_archive_members", "max_expanded_bytes", "workers")
        if self.max_archive_depth < 0:
            raise ValueError(f"max_archive_depth must be >= 0, got {self.max_archive_depth}")
        if self.max_expansion_ratio <= 1.0:
            raise ValueError(f"max_expansion_ratio must be > 1, got {self.max_expansion_ratio}")


@record
class AuditSettings:
    """The audit log (``[audit]`` in ramparts.toml)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    origin: str = "ramparts/audit"
    """The log's name in its signed checkpoints (C2SP origin line and signer name)."""
    checkpoint_every: int = 1000
    """Sign a checkpoint after this many new entries."""
    signing_key: Path | None = None
    """Ed25519 PEM key that signs checkpoints; default ``state_dir/keys/audit-checkpoint.pem``
    (created on first use, mode 0600)."""
    worm_dir: Path | None = None
    """A write-once folder (e.g. a WORM mount) where every checkpoint is also written."""
    worm_s3_bucket: str | None = None
    """An S3 bucket with Object Lock enabled: every checkpoint is also written there in
    COMPLIANCE mode, retained ``retention_days`` (needs the ``s3`` extra)."""
    worm_s3_prefix: str = "ramparts-audit/"
    """Key prefix of the checkpoint copies in ``worm_s3_bucket``."""
    worm_s3_endpoint_url: str | None = None
    """An S3-compatible endpoint with Object Lock (MinIO, Ceph...); default AWS."""
    worm_s3_region: str | None = None
    """The bucket's region; default from the AWS configuration."""
    retention_days: int = 183
    """Entries are kept at least this long; fewer than 183 days (the six months the EU AI
    Act asks logs of high-risk systems to be kept) is refused."""

    def __post_init__(self) -> None:
        _positive(self, "checkpoint_every", "retention_days")
        if self.worm_dir is not None and self.worm_s3_bucket is not None:
            raise ValueError(
                "audit.worm_dir and audit.worm_s3_bucket: choose one write-once target"
            )
        if self.retention_days < MIN_RETENTION_DAYS:
            raise ValueError(
                f"audit.retention_days must be at least {MIN_RETENTION_DAYS} (six months), "
                f"got {self.retention_days}"
            )


@record
class IdentitySettings:
    """Identities, API keys and short-lived tokens (``[identity]`` in ramparts.toml)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    issuer: str = "ramparts"
    """The ``iss`` of every token issued, and the only one verification accepts."""
    audience: str = "ramparts"
    """The ``aud`` of every token issued, and the only one verification accepts."""
    token_lifetime_minutes: int = 15
    """How long a token lives; at most 1440 (a day)."""
    token_algorithm: Literal["EdDSA", "ES256"] = "EdDSA"  # noqa: S105 - an algorithm name
    """The algorithm of new token signing keys (Ed25519, or ECDSA P-256)."""
    leeway_seconds: int = 30
    """Clock skew tolerated on ``exp``, ``nbf`` and ``iat``; at most 300."""
    key_rotation_grace_hours: float = 24.0
    """How long ``rotate`` keeps the previous API keys valid."""
    signing_key_max_age_days: int = 30
    """A token signing key older than this is replaced when the next token is issued."""

    def __post_init__(self) -> None:
        _positive(self, "token_lifetime_minutes", "signing_key_max_age_days")
        if not self.issuer or not self.audience:
            raise ValueError("identity.issuer and identity.audience must not be empty")
        if self.token_lifetime_minutes > 1440:
            raise ValueError(
                f"token_lifetime_minutes must be at most 1440, got {self.token_lifetime_minutes}"
            )
        if not 0 <= self.leeway_seconds <= 300:
            raise ValueError(f"leeway_seconds must be 0 to 300, got {self.leeway_seconds}")
        if self.key_rotation_grace_hours < 0:
            raise ValueError(
                f"key_rotation_grace_hours must be >= 0, got {self.key_rotation_grace_hours}"
            )


_GATES = ("signature", "provenance", "scan", "bom", "approval")


@record
class RegistrySettings:
    """The model and dataset registry (``[registry]`` in ramparts.toml)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    artifact_dir: Path | None = None
    """Where encrypted artifacts are kept; default ``state_dir/artifacts``."""
    kek_name: str = "registry"
    """The key-store key that wraps each artifact's data key."""
    trusted_keys: tuple[Path, ...] = ()
    """Public keys (PEM) whose signatures and provenance the gates accept."""
    provenance_builder: str | None = None
    """The builder id provenance must name for the provenance gate to pass."""
    provenance_repository: str | None = None
    """The source repository provenance must name for the provenance gate to pass."""
    scan_threshold: Severity = Severity.HIGH
    """The scan gate fails on a finding at or above this severity."""
    dev_gates: tuple[str, ...] = ()
    """Gates a version must pass to enter ``dev``."""
    staging_gates: tuple[str, ...] = ("scan",)
    """Gates a version must pass to enter ``staging``."""
    prod_gates: tuple[str, ...] = _GATES
    """Gates a version must pass to enter ``prod``: all of them by default."""
    idle_days: int = 90
    """A version no stage has held for this many days is reported idle."""
    kms: str | None = None
    """Wrap the key-encryption keys with a customer master key: ``aws-kms:KEY_ID``,
    ``gcp-kms:projects/P/locations/L/keyRings/R/cryptoKeys/K`` or ``vault-transit:KEY``
    (default: local key files)."""
    vault_url: str | None = None
    """HashiCorp Vault's address, for ``kms = "vault-transit:KEY"``."""
    vault_token: Secret | None = None
    """The Vault token (``RAMPARTS_REGISTRY__VAULT_TOKEN``)."""
    s3_bucket: str | None = None
    """Keep artifacts in this S3-compatible bucket instead of ``artifact_dir``."""
    s3_prefix: str = ""
    """Object key prefix inside the bucket."""
    s3_endpoint_url: str | None = None
    """An S3-compatible endpoint (MinIO, Ceph...); default AWS."""
    s3_region: str | None = None
    """The bucket's (and the AWS KMS key's) region."""

    def __post_init__(self) -> None:
        _positive(self, "idle_days")
        if self.kms is not None:
            provider, _, key = self.kms.partition(":")
            if provider not in ("aws-kms", "gcp-kms", "vault-transit") or not key:
                raise ValueError(
                    f"registry.kms must be aws-kms:KEY_ID, gcp-kms:KEY_NAME or "
                    f"vault-transit:KEY, got {self.kms!r}"
                )
            if provider == "vault-transit" and not (self.vault_url and self.vault_token):
                raise ValueError("registry.kms = vault-transit needs vault_url and vault_token")
        for stage in ("dev", "staging", "prod"):
            unknown = set(getattr(self, f"{stage}_gates")) - set(_GATES)
            if unknown:
                raise ValueError(
                    f"registry.{stage}_gates: unknown gate(s) {', '.join(sorted(unknown))} "
                    f"(one of {', '.join(_GATES)})"
                )

    def gates(self, stage: str) -> tuple[str, ...]:
        """The gates of ``stage``."""
        gates: tuple[str, ...] = getattr(self, f"{stage}_gates")
        return gates


@record
class PostureSettings:
    """Discovery and posture (``[posture]`` in ramparts.toml)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    approved_providers: tuple[str, ...] = ()
    """AI providers the organisation has approved (``openai``, ``anthropic``,
    ``aws-bedrock``...); an SDK call or endpoint of any other provider is shadow AI.
    Empty: no provider is approved, so every external AI use is reported."""
    gateway_config: Path | None = None
    """The gateway's ``gateway.toml`` to judge; default ``gateway.toml`` under the
    posture root when present."""
    fail_under: float | None = None
    """``ramparts posture`` exits 1 when the score is below this (0-100)."""

    def __post_init__(self) -> None:
        if self.fail_under is not None and not 0 <= self.fail_under <= 100:
            raise ValueError(f"posture.fail_under must be 0 to 100, got {self.fail_under}")
        for provider in self.approved_providers:
            if not provider or provider != provider.strip().lower():
                raise ValueError(
                    f"posture.approved_providers: {provider!r} must be a lower-case name"
                )


@record
class Settings:
    """Everything ramparts can be told, validated once at start-up."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID

    state_dir: Path = Path(".ramparts")
    """Embedded state: the SQLite file, local keys."""
    database_url: Secret | None = None
    """SQLAlchemy URL; default is a SQLite file in ``state_dir``."""
    redis_url: Secret | None = None
    """Shared limits and kill switch for gateway replicas."""
    fail_on: Severity = Severity.HIGH
    """Exit 1 on findings at or above this severity."""
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "warning"
    scan: ScanSettings = field(default_factory=ScanSettings)
    audit: AuditSettings = field(default_factory=AuditSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    posture: PostureSettings = field(default_factory=PostureSettings)

    def sqlalchemy_url(self) -> str:
        """The database URL to connect to, defaulting to the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.state_dir / 'ramparts.db').as_posix()}"


def settings_to_dict(settings: Settings, *, mask_secrets: bool = True) -> dict[str, Any]:
    """The settings as JSON-ready data (secrets masked unless asked otherwise)."""

    def convert(value: Any) -> Any:
        if isinstance(value, Secret):
            return "**********" if mask_secrets else value.get_secret_value()
        if isinstance(value, Severity):
            return value.value
        if isinstance(value, Path):
            return value.as_posix()
        if isinstance(value, tuple):
            return [convert(v) for v in value]
        if is_record(value) and not isinstance(value, type):
            return {f.name: convert(getattr(value, f.name)) for f in fields(value)}
        return value

    result: dict[str, Any] = convert(settings)
    return result


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    import tomllib  # noqa: PLC0415 (start-up time: most runs have no settings file)

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """``RAMPARTS_*`` variables as nested data; unknown top-level names are ignored.

    Other tools' variables share the prefix (``RAMPARTS_TEST_POSTGRES_URL`` in tests),
    so only names of settings fields are read, as pydantic-settings would.
    """
    known = {f.name for f in fields(Settings)}
    data: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.upper().startswith(ENV_PREFIX) or raw == "":
            continue
        path = key[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in known:
            continue
        value: Any = raw
        if raw[:1] in "[{":
            import json  # noqa: PLC0415 - start-up time: few environments hold JSON values

            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(f"{key}: not valid JSON: {exc}") from exc
        node = data
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {part} is not a table")
            node = child
        node[path[-1]] = value
    return data


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    fail_on = data.get("fail_on")
    if isinstance(fail_on, str):
        try:
            data["fail_on"] = Severity.parse(fail_on)
        except InputError as exc:
            raise ConfigError(f"invalid settings: fail_on: {exc}") from None
    level = data.get("log_level")
    if isinstance(level, str):
        data["log_level"] = level.lower()
    return data


def _typing_names() -> None:
    """Put the typing names that the settings' annotations use where pydantic looks.

    pydantic resolves the (string) annotations in this module's namespace; the module
    imports ``typing`` only for type checkers, since a run without a settings source
    (no file, no variable, no flag) never validates.
    """
    import typing  # noqa: PLC0415 - validation only

    namespace = globals()
    for name in ("Any", "ClassVar", "Literal"):
        namespace.setdefault(name, getattr(typing, name))


def _validate(data: dict[str, Any], origin: str) -> Settings:
    from pydantic import TypeAdapter, ValidationError  # noqa: PLC0415 - only when needed

    _typing_names()

    try:
        settings: Settings = TypeAdapter(Settings).validate_python(data)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            parts.append(f"{where}: {err['msg']}")
        raise ConfigError(f"invalid settings ({origin}): " + "; ".join(parts)) from None
    return settings


def load_settings(
    *,
    project_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build :class:`Settings` from overrides, the environment, ``ramparts.toml`` and defaults.

    ``config_file`` defaults to ``ramparts.toml`` in ``project_dir`` (default: the current
    directory). A relative ``state_dir`` from the file is taken relative to the file's
    directory, so a project's state stays with the project. Errors raise
    :class:`ConfigError` with one readable line.
    """
    path = config_file or (project_dir or Path()) / CONFIG_FILE
    from_file = _read_toml(path)
    if "state_dir" in from_file and not Path(str(from_file["state_dir"])).is_absolute():
        from_file["state_dir"] = str(path.parent / str(from_file["state_dir"]))
    merged = _deep_merge(_deep_merge(from_file, _from_environ(environ or {})), overrides or {})
    if not merged:
        return Settings()
    return _validate(_normalise(merged), f"{path.name}, environment or flags")
