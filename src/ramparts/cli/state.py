"""The state shared by every command: global options and lazily loaded settings."""

from __future__ import annotations

from pathlib import Path

from ramparts.core.records import field, record
from ramparts.core.settings import Settings, load_settings
from ramparts.core.types import Severity

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FORMATS", "SEVERITIES", "AppState"]

FORMATS = ("table", "json", "sarif")
SEVERITIES = tuple(s.value for s in Severity)


@record(frozen=False, slots=False)
class AppState:
    """Global options, and settings loaded once on first use."""

    format: str = "table"
    output: Path | None = None
    fail_on: Severity | None = None
    quiet: bool = False
    verbose: bool = False
    debug: bool = False
    config: Path | None = None
    environ: dict[str, str] = field(default_factory=dict)
    _settings: Settings | None = None

    def settings(self, **overrides: Any) -> Settings:
        """Settings from flags, ``RAMPARTS_*`` variables, ``ramparts.toml`` and defaults."""
        if self._settings is None or overrides:
            flags: dict[str, Any] = dict(overrides)
            if self.fail_on is not None:
                flags["fail_on"] = self.fail_on
            settings = load_settings(environ=self.environ, overrides=flags, config_file=self.config)
            if overrides:
                return settings
            level = "debug" if self.debug else settings.log_level
            if level != "warning":  # structlog costs start-up time; the default needs none
                from ramparts.cli.logs import configure_logging  # noqa: PLC0415

                configure_logging(level)
            self._settings = settings
        return self._settings
