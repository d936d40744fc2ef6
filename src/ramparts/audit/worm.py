"""Write-once copies of signed checkpoints, outside the database.

A copy the database's owner cannot change keeps the proof of the log's history even
if the database and its host are taken over: ``ramparts audit verify`` checks every
copy against the log. Two targets:

- :class:`DirectoryWorm`: files in a folder (mode 0444, never replaced), for a WORM
  mount or an append-only share;
- :class:`S3ObjectLockWorm`: objects in an S3 bucket with Object Lock in
  ``COMPLIANCE`` mode and a retain-until date, which nobody, the root account included,
  can delete or overwrite before that date. Needs the ``s3`` extra (boto3).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ramparts.core.interface import Clock
from ramparts.errors import AuditError

__all__ = ["DirectoryWorm", "S3ObjectLockWorm", "WormTarget", "checkpoint_name"]

_EXISTS = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})


def checkpoint_name(size: int) -> str:
    """The name of the copy of the checkpoint at tree ``size`` (sorts by size)."""
    return f"checkpoint-{size:020d}.note"


@runtime_checkable
class WormTarget(Protocol):
    """Where checkpoint copies go; a copy, once written, is never replaced."""

    def put(self, name: str, note: str) -> None:
        """Write ``note`` as ``name``; an existing ``name`` is left as it is.

        Raises :class:`AuditError` when the copy cannot be written.
        """
        ...

    def notes(self) -> Iterator[str]:
        """Every copy's text, in name order."""
        ...


class DirectoryWorm:
    """Checkpoint copies as read-only files in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, note: str) -> None:
        """Create ``folder/name`` (mode 0444, fsynced); an existing file is kept."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(note)
                fh.flush()
                os.fsync(fh.fileno())
        except FileExistsError:
            return
        except OSError as exc:
            raise AuditError(f"cannot copy the checkpoint to {self.folder}: {exc}") from exc

    def notes(self) -> Iterator[str]:
        """The ``*.note`` files of ``folder`` (none when it does not exist)."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.note")):
            try:
                yield path.read_text(encoding="utf-8")
            except OSError as exc:
                raise AuditError(f"cannot read {path}: {exc.strerror or exc}") from exc


class S3ObjectLockWorm:
    """Checkpoint copies as S3 objects under Object Lock ``COMPLIANCE`` retention.

    Each ``PutObject`` carries ``ObjectLockMode=COMPLIANCE``, a retain-until date
    ``retention_days`` ahead, the ``Content-MD5`` Object Lock requires, and
    ``If-None-Match: *`` so that an existing copy is never replaced. The bucket must be
    created with Object Lock enabled. ``client`` is a boto3 ``s3`` client (by default one
    from the default credential chain, ``endpoint_url`` and ``region``).
    """

    def __init__(
        self,
        bucket: str,
        *,
        retention_days: int,
        clock: Clock,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        if not bucket:
            raise AuditError("the write-once S3 target needs a bucket")
        if retention_days < 1:
            raise AuditError("Object Lock retention must be at least one day")
        self.bucket = bucket
        self.prefix = prefix
        self._retention = timedelta(days=retention_days)
        self._clock = clock
        if client is None:
            try:
                import boto3  # noqa: PLC0415 - the optional s3 extra
            except ImportError as exc:
                raise AuditError(
                    "S3 Object Lock copies need the s3 extra: pip install 'ramparts[s3]'"
                ) from exc
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self._client = client

    def _error(self, what: str, exc: Exception) -> AuditError:
        return AuditError(f"{what} in s3://{self.bucket}/{self.prefix}: {exc}")

    def put(self, name: str, note: str) -> None:
        """Upload ``note`` under Object Lock; an existing object is kept."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        body = note.encode("utf-8")
        until: datetime = self._clock.now() + self._retention
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + name,
                Body=body,
                ContentType="text/plain; charset=utf-8",
                ContentMD5=base64.b64encode(hashlib.md5(body).digest()).decode("ascii"),  # noqa: S324 - S3's integrity header, not a security hash
                ObjectLockMode="COMPLIANCE",
                ObjectLockRetainUntilDate=until,
                IfNoneMatch="*",
            )
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _EXISTS:
                return
            raise self._error(f"cannot write the checkpoint copy {name}", exc) from exc
        except BotoCoreError as exc:
            raise self._error(f"cannot write the checkpoint copy {name}", exc) from exc

    def notes(self) -> Iterator[str]:
        """Every ``*.note`` object under the prefix, in key order."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            keys = sorted(
                item["Key"]
                for page in pages
                for item in page.get("Contents", ())
                if item["Key"].endswith(".note")
            )
            for key in keys:
                body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
                yield body.read().decode("utf-8")
        except (ClientError, BotoCoreError) as exc:
            raise self._error("cannot read the checkpoint copies", exc) from exc
