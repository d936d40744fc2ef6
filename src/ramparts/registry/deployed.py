"""The registry answering the gateway: which version of a model a stage serves.

:class:`RegistryVersions` implements :class:`ramparts.core.interface.ModelVersions`
over a :class:`~ramparts.registry.service.Registry`; the composition root hands it to
the gateway, which may not import the registry. Answers are kept ``ttl`` seconds (one
by default, like the kill switch) so that a gateway asks the database about each
model at most once a second, and a promotion or rollback reaches it within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ramparts.core.interface import DeployedVersion
from ramparts.registry.interface import Caller, NotFoundError
from ramparts.registry.service import Registry

__all__ = ["RegistryVersions"]

_QUARANTINED = "quarantined"


class RegistryVersions:
    """The version of a model each stage serves, read as ``caller`` sees the registry."""

    def __init__(
        self,
        registry: Registry,
        caller: Caller,
        *,
        ttl: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._registry = registry
        self._caller = caller
        self._ttl = ttl
        self._monotonic = monotonic
        self._cache: dict[tuple[str, str], tuple[float, DeployedVersion | None]] = {}

    def deployed(self, name: str, stage: str) -> DeployedVersion | None:
        """The version of model ``name`` in ``stage``; ``None`` if none, or quarantined."""
        now = self._monotonic()
        hit = self._cache.get((name, stage))
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        try:
            versions = self._registry.versions(self._caller, name, "model")
        except NotFoundError:
            versions = []
        found = next(
            (
                DeployedVersion(name, v.version, v.digest, stage)
                for v in versions
                if stage in v.stages and v.state != _QUARANTINED
            ),
            None,
        )
        self._cache[name, stage] = (now, found)
        return found
