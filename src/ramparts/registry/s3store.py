"""Version artifacts in S3 or S3-compatible storage, encrypted before they leave the machine.

The same :class:`~ramparts.registry.artifacts.ArtifactStore` protocol as the local folder:
``put`` packs the source into a deterministic tar, encrypts it here with
:mod:`ramparts.privacy.envelope` into a temporary file, and uploads the ciphertext as
``<prefix><blob>.rmpa`` with boto3's ``upload_file`` (multipart for large files). The
bucket only ever holds ciphertext; data keys are wrapped by the store's key-encryption
key, which stays with the key store.

An artifact is never overwritten: ``put`` asks ``HeadObject`` first, and where the client
knows conditional writes (botocore 1.35 or newer), every ``PutObject`` and
``CompleteMultipartUpload`` of this store's keys also carries ``If-None-Match: *``, so a
concurrent writer of the same blob loses with :class:`ConflictError` instead of
replacing it. Stores that reject conditional writes take ``conditional_writes=False``.

``fetch`` downloads to a temporary file, decrypts it (every chunk's tag checked; nothing
is unpacked before the whole stream verified) and unpacks with the tar ``data`` filter.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from ramparts.privacy.keystore import KeyStore
from ramparts.registry.artifacts import SUFFIX, check_blob, seal, unseal
from ramparts.registry.interface import ConflictError, NotFoundError, RegistryError

__all__ = ["S3ArtifactStore"]

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_EXISTS = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})
_CONDITIONAL_OPS = ("PutObject", "CompleteMultipartUpload")


class S3ArtifactStore:
    """Encrypted blobs in ``bucket`` under ``prefix``, data keys wrapped by ``kek_name``.

    ``client`` is a boto3 ``s3`` client; by default one is built from the default
    credential chain with ``endpoint_url`` (MinIO, Ceph, R2...) and ``region``.
    ``transfer_config`` is a ``boto3.s3.transfer.TransferConfig`` for part sizes and
    threads; ``tmp_dir`` is where the tar and its ciphertext are staged (the system's
    temporary folder by default: it needs twice the artifact's size). Needs the ``s3``
    (or ``aws``) extra.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        keystore: KeyStore,
        kek_name: str,
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        transfer_config: Any = None,
        tmp_dir: Path | None = None,
        conditional_writes: bool = True,
    ) -> None:
        if not bucket or "/" in bucket:
            raise RegistryError(f"invalid bucket name {bucket!r}")
        try:
            import boto3  # noqa: PLC0415 - an optional extra
            from boto3.exceptions import Boto3Error  # noqa: PLC0415
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        except ImportError as exc:
            raise RegistryError("S3 storage needs boto3: pip install 'ramparts[s3]'") from exc
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError, Boto3Error)
        if client is None:
            try:
                client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
            except BotoCoreError as exc:
                raise RegistryError(f"cannot set up S3 storage: {exc}") from exc
        self._client = client
        self._bucket = bucket
        self._prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
        self._keystore = keystore
        self._kek = kek_name
        self._config = transfer_config
        self._tmp = tmp_dir
        if conditional_writes and _knows_if_none_match(client):
            for op in _CONDITIONAL_OPS:
                client.meta.events.register(
                    f"provide-client-params.s3.{op}",
                    self._if_none_match,
                    unique_id=f"ramparts-s3store-{op}-{id(self)}",
                )

    def key(self, blob: str) -> str:
        """The object key of ``blob``."""
        return f"{self._prefix}{check_blob(blob)}{SUFFIX}"

    def put(self, blob: str, source: Path) -> int:
        """Pack, encrypt here, and upload ``source`` as ``blob``; return the packed size."""
        key = self.key(blob)
        if self._exists(blob, key):
            raise ConflictError(f"artifact {blob} exists already")
        # The key must exist before a blob depends on it.
        self._keystore.get(self._kek, create=True)
        with tempfile.TemporaryDirectory(dir=self._tmp, prefix=".ramparts-s3-") as tmp:
            sealed = Path(tmp) / f"{blob}{SUFFIX}"
            size = seal(source, sealed, self._keystore, self._kek, Path(tmp))
            try:
                self._client.upload_file(
                    Filename=str(sealed), Bucket=self._bucket, Key=key, Config=self._config
                )
            except self._errors as exc:
                if _code(exc) in _EXISTS:
                    raise ConflictError(f"artifact {blob} exists already") from exc
                raise self._error(f"cannot upload artifact {blob}", key, exc) from exc
        return size

    def fetch(self, blob: str, target: Path) -> None:
        """Download and decrypt ``blob`` (every tag checked), then unpack it into ``target``."""
        key = self.key(blob)
        if target.exists():
            raise ConflictError(f"{target} exists already; give a new folder")
        with tempfile.TemporaryDirectory(dir=self._tmp, prefix=".ramparts-s3-") as tmp:
            sealed = Path(tmp) / f"artifact{SUFFIX}"
            try:
                self._client.download_file(
                    Bucket=self._bucket, Key=key, Filename=str(sealed), Config=self._config
                )
            except self._errors as exc:
                if _code(exc) in _MISSING:
                    raise NotFoundError(f"artifact {blob} is not in the store") from exc
                raise self._error(f"cannot download artifact {blob}", key, exc) from exc
            unseal(sealed, target, self._keystore, Path(tmp), blob)

    def delete(self, blob: str) -> None:
        """Remove ``blob``'s object (in a versioned bucket, older versions stay: see docs)."""
        key = self.key(blob)
        try:
            self._client.delete_object(Bucket=self._bucket, Key=key)
        except self._errors as exc:
            if _code(exc) not in _MISSING:
                raise self._error(f"cannot delete artifact {blob}", key, exc) from exc

    def rewrap(self, blob: str, kek_name: str) -> None:
        """Not offered: an object cannot be changed in place (see docs/encryption.md)."""
        raise RegistryError(
            f"cannot rewrap artifact {blob} in S3 in place: rotate the customer master key "
            "instead (WrappedKeyStore.rotate_wrapping), which touches no artifact"
        )

    def _exists(self, blob: str, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except self._errors as exc:
            if _code(exc) in _MISSING:
                return False
            raise self._error(f"cannot check artifact {blob}", key, exc) from exc
        return True

    def _if_none_match(self, params: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        """botocore hook: this store's uploads never replace an object."""
        key = params.get("Key")
        if (
            params.get("Bucket") == self._bucket
            and isinstance(key, str)
            and key.startswith(self._prefix)
            and key.endswith(SUFFIX)
        ):
            return {**params, "IfNoneMatch": "*"}
        return None

    def _error(self, what: str, key: str, exc: Exception) -> RegistryError:
        detail = " ".join(str(_root(exc)).split())
        return RegistryError(f"{what} (s3://{self._bucket}/{key}): {detail}")


def _knows_if_none_match(client: Any) -> bool:
    """Whether ``client`` is a botocore S3 client whose model has conditional writes."""
    meta = getattr(client, "meta", None)
    model = getattr(meta, "service_model", None)
    if model is None or not hasattr(meta, "events"):
        return False
    try:
        return all(
            "IfNoneMatch" in model.operation_model(op).input_shape.members
            for op in _CONDITIONAL_OPS
        )
    except (AttributeError, LookupError):
        return False


def _root(exc: BaseException) -> BaseException:
    """The botocore error under boto3's wrappers (``S3UploadFailedError`` hides it)."""
    seen = exc
    while not hasattr(seen, "response"):
        nested = seen.__cause__ or seen.__context__
        if nested is None:
            return exc
        seen = nested
    return seen


def _code(exc: BaseException) -> str:
    """The S3 error code (``NoSuchKey``, ``PreconditionFailed``, or an HTTP status)."""
    response = getattr(_root(exc), "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))
