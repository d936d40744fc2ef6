"""Wiring of the control plane: the registry service and who is calling it.

Both faces use it: ``ramparts registry``/``lineage`` in local mode build the registry
here and act as the caller their credentials prove, and ``ramparts serve`` builds the
same registry once and authenticates each request with :func:`authenticate`.

Credentials: a JWT of ``ramparts identity token`` or an API key (``rmp_...``); a TOTP
code given with the request (``--totp`` or ``X-Ramparts-TOTP``) is checked against the
principal's enrolled factor and, when it holds, marks the request as backed by a second
factor. Without a token, a local command acts as the local admin: whoever can write
the state directory already controls everything in it, so its requests count as
second-factor-backed; deletion still asks for a code of the local admin's factor
(``ramparts identity mfa --local``).
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ramparts.cli.identity_cmd import wiring
from ramparts.cli.state import AppState

if TYPE_CHECKING:
    from ramparts.privacy.keystore import KeyStore
    from ramparts.registry.artifacts import ArtifactStore
    from ramparts.registry.interface import Caller
    from ramparts.registry.service import Registry

__all__ = ["LOCAL_ADMIN_ROLES", "ControlPlane"]

LOCAL_ADMIN_ROLES = ("admin",)


class ControlPlane:
    """The registry and the identity services, made once per process on first use."""

    def __init__(self, state: AppState, policies: Sequence[Path] = ()) -> None:
        self.state = state
        self.identity = wiring(state)
        self._policies = policies

    @cached_property
    def registry(self) -> Registry:
        """The registry over the state database, artifact store and audit log."""
        from ramparts.policy.engine import PolicyEngine  # noqa: PLC0415
        from ramparts.policy.roles import load_roles  # noqa: PLC0415
        from ramparts.registry.gates import GatePolicy  # noqa: PLC0415
        from ramparts.registry.service import Registry  # noqa: PLC0415

        settings = self.identity.settings
        config = settings.registry
        return Registry(
            self.identity.engine,
            self._artifacts(),
            PolicyEngine(load_roles(self._policies)),
            clock=self.identity.clock,
            sink=self.identity.sink,
            stage_gates=config.gates,
            gate_policy=GatePolicy(
                trusted_keys=config.trusted_keys,
                provenance_builder=config.provenance_builder,
                provenance_repository=config.provenance_repository,
                scan_threshold=config.scan_threshold,
            ),
            scan_settings=settings.scan,
            idle_days=config.idle_days,
        )

    def _keystore(self) -> KeyStore:
        """Local key files, or key files wrapped by a customer master key (``registry.kms``)."""
        from ramparts.privacy.keystore import LocalKeyStore  # noqa: PLC0415

        settings = self.identity.settings
        config = settings.registry
        root = settings.state_dir / "keys"
        if config.kms is None:
            return LocalKeyStore(root)
        from ramparts.privacy import kms  # noqa: PLC0415

        provider, _, key = config.kms.partition(":")
        wrapper: kms.KeyWrapper
        if provider == "aws-kms":
            wrapper = kms.AwsKmsWrapper(key, region=config.s3_region)
        elif provider == "gcp-kms":
            wrapper = kms.GcpKmsWrapper(key)
        else:
            token = config.vault_token.get_secret_value() if config.vault_token else ""
            wrapper = kms.VaultTransitWrapper(config.vault_url or "", key, token=token)
        return kms.WrappedKeyStore(root / "wrapped", wrapper)

    def _artifacts(self) -> ArtifactStore:
        """A local folder, or an S3-compatible bucket (``registry.s3_bucket``)."""
        settings = self.identity.settings
        config = settings.registry
        keys = self._keystore()
        if config.s3_bucket is None:
            from ramparts.registry.artifacts import LocalArtifactStore  # noqa: PLC0415

            root = config.artifact_dir or settings.state_dir / "artifacts"
            return LocalArtifactStore(root, keys, config.kek_name)
        from ramparts.registry.s3store import S3ArtifactStore  # noqa: PLC0415

        return S3ArtifactStore(
            config.s3_bucket,
            prefix=config.s3_prefix,
            keystore=keys,
            kek_name=config.kek_name,
            endpoint_url=config.s3_endpoint_url,
            region=config.s3_region,
        )

    def close(self) -> None:
        """Release database connections."""
        self.identity.close()

    def authenticate(
        self, token: str, *, totp: str | None = None, source_ip: str | None = None,
        request_id: str = "",
    ) -> Caller:  # fmt: skip
        """The caller ``token`` (a JWT or an API key) proves, with its second factor."""
        from ramparts.policy.apikeys import KEY_PREFIX  # noqa: PLC0415
        from ramparts.policy.identity_types import AuthenticationError  # noqa: PLC0415
        from ramparts.registry.interface import AuthError, Caller  # noqa: PLC0415

        try:
            if token.startswith(KEY_PREFIX):
                principal = self.identity.identities.authenticate(token)
                mfa = False
            else:
                verified = self.identity.tokens.verify(token)
                principal, mfa = verified.principal, verified.mfa
        except AuthenticationError as exc:
            raise AuthError(f"not authenticated: {exc}") from exc
        fresh = self._check_totp(principal.id, totp)
        return Caller(principal, mfa=mfa or fresh, fresh_totp=fresh, source_ip=source_ip,
                      request_id=request_id)  # fmt: skip

    def local_admin(self, *, totp: str | None = None) -> Caller:
        """The local admin: whoever runs the command on this state directory."""
        from ramparts.core.types import Principal  # noqa: PLC0415
        from ramparts.policy.identity_types import LOCAL_ADMIN_ID  # noqa: PLC0415
        from ramparts.registry.interface import Caller  # noqa: PLC0415

        try:
            user = getpass.getuser()
        except (OSError, KeyError):  # no user name in a bare container
            user = "unknown"
        principal = Principal(LOCAL_ADMIN_ID, f"local-admin ({user})", roles=LOCAL_ADMIN_ROLES)
        fresh = self._check_totp(principal.id, totp)
        return Caller(principal, mfa=True, fresh_totp=fresh)

    def _check_totp(self, principal_id: str, code: str | None) -> bool:
        if not code:
            return False
        from ramparts.policy.mfa import MfaError  # noqa: PLC0415
        from ramparts.registry.interface import AuthError  # noqa: PLC0415

        try:
            self.identity.second_factors.verify(principal_id, code)
        except MfaError as exc:
            raise AuthError(f"second factor refused: {exc}") from exc
        return True
