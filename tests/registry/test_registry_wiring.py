"""Settings pick the artifact store and the key store the control plane uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.cli.control import ControlPlane
from ramparts.cli.state import AppState
from ramparts.errors import ConfigError
from ramparts.privacy.keystore import LocalKeyStore
from ramparts.registry.artifacts import LocalArtifactStore


def _plane(tmp_path: Path, **environ: str) -> ControlPlane:
    return ControlPlane(AppState(environ={"RAMPARTS_STATE_DIR": str(tmp_path), **environ}))


def test_local_defaults(tmp_path: Path) -> None:
    plane = _plane(tmp_path)
    assert isinstance(plane._artifacts(), LocalArtifactStore)
    assert isinstance(plane._keystore(), LocalKeyStore)


def test_s3_and_vault_when_configured(tmp_path: Path) -> None:
    pytest.importorskip("boto3")
    from ramparts.privacy.kms import VaultTransitWrapper, WrappedKeyStore  # noqa: PLC0415
    from ramparts.registry.s3store import S3ArtifactStore  # noqa: PLC0415

    plane = _plane(
        tmp_path,
        RAMPARTS_REGISTRY__S3_BUCKET="models",
        RAMPARTS_REGISTRY__S3_REGION="eu-west-1",
        RAMPARTS_REGISTRY__KMS="vault-transit:registry",
        RAMPARTS_REGISTRY__VAULT_URL="http://127.0.0.1:8200",
        RAMPARTS_REGISTRY__VAULT_TOKEN="hvs.test",
    )
    store = plane._artifacts()
    assert isinstance(store, S3ArtifactStore)
    keys = plane._keystore()
    assert isinstance(keys, WrappedKeyStore)
    assert isinstance(keys.wrapper, VaultTransitWrapper)
    assert "hvs.test" not in repr(keys.wrapper)


@pytest.mark.parametrize(
    ("kms", "message"),
    [("kms:abc", "must be aws-kms"), ("vault-transit:k", "needs vault_url and vault_token")],
)
def test_bad_kms_settings_are_refused(tmp_path: Path, kms: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AppState(environ={"RAMPARTS_REGISTRY__KMS": kms}).settings()
