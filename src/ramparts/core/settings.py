"""The one settings model, and how it is loaded.

Precedence, highest first (pinned by ``tests/core/test_settings.py``):

1. explicit overrides (CLI flags, keyword arguments);
2. environment variables ``RAMPARTS_*`` (``__`` nests: ``RAMPARTS_SCAN__MAX_FILE_BYTES``);
3. ``ramparts.toml`` in the project directory;
4. the defaults below.

Library code never reads ``os.environ``: the caller passes the environment mapping to
:func:`load_settings` (the CLI passes ``os.environ``). Constructing :class:`Settings`
directly uses only its keyword arguments and defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from ramparts.core.types import Severity
from ramparts.errors import ConfigError, InputError

__all__ = [
    "CONFIG_FILE",
    "ENV_PREFIX",
    "ModelScanSettings",
    "ScanSettings",
    "Settings",
    "load_settings",
]

CONFIG_FILE = "ramparts.toml"
ENV_PREFIX = "RAMPARTS_"


class ModelScanSettings(BaseModel):
    """Choices of the model-file scanner (``[scan.models]`` in ramparts.toml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[str, ...] = Field(
        default=(), description="extra pickle globals to trust: 'pkg.Class' or 'pkg.*'"
    )
    unsafe_allow: tuple[str, ...] = Field(
        default=(), description="denylisted pickle globals to trust anyway (dangerous)"
    )


class ScanSettings(BaseModel):
    """Limits and choices of ``ramparts scan``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_file_bytes: int = Field(default=8 << 30, gt=0, description="larger files are skipped")
    max_archive_depth: int = Field(default=5, ge=0, description="nested archives beyond this")
    max_archive_members: int = Field(default=10_000, gt=0)
    max_expansion_ratio: float = Field(default=200.0, gt=1.0, description="zip-bomb guard")
    max_expanded_bytes: int = Field(default=16 << 30, gt=0)
    exclude: tuple[str, ...] = Field(default=(), description="gitignore-style patterns")
    respect_gitignore: bool = True
    workers: int | None = Field(default=None, gt=0, description="default: number of CPUs")
    models: ModelScanSettings = Field(default_factory=ModelScanSettings)


class Settings(BaseSettings):
    """Everything ramparts can be told, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    state_dir: Path = Field(
        default=Path(".ramparts"), description="embedded state: SQLite file, local keys"
    )
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file in state_dir"
    )
    redis_url: SecretStr | None = Field(default=None, description="shared limits and kill switch")
    fail_on: Severity = Field(default=Severity.HIGH, description="exit 1 at this severity")
    log_level: str = Field(default="warning")
    scan: ScanSettings = Field(default_factory=ScanSettings)

    @field_validator("fail_on", mode="before")
    @classmethod
    def _severity(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return Severity.parse(value)
        except InputError as exc:  # pydantic reports ValueError as a validation error
            raise ValueError(str(exc)) from None

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error", "critical"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only keyword arguments: :func:`load_settings` merges the other sources itself."""
        return (init_settings,)

    def sqlalchemy_url(self) -> str:
        """The database URL to connect to, defaulting to the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.state_dir / 'ramparts.db').as_posix()}"


class _MappingEnvSource(EnvSettingsSource):
    """Reads ``RAMPARTS_*`` variables from a given mapping instead of ``os.environ``."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        parsed: Mapping[str, str | None] = parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )
        return parsed


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _one_line(exc: ValidationError, origin: str) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        parts.append(f"{where}: {err['msg']}")
    return f"invalid settings ({origin}): " + "; ".join(parts)


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
    project = project_dir or Path()
    path = config_file or project / CONFIG_FILE
    from_file = _read_toml(path)
    if "state_dir" in from_file and not Path(str(from_file["state_dir"])).is_absolute():
        from_file["state_dir"] = str(path.parent / str(from_file["state_dir"]))
    try:
        from_env = _MappingEnvSource(Settings, environ or {})()
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid {ENV_PREFIX}* environment variable: {exc}") from exc
    merged = _deep_merge(_deep_merge(from_file, from_env), dict(overrides or {}))
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, f"{path.name}, environment or flags")) from exc
