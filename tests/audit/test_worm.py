"""Write-once checkpoint copies: a folder, and S3 Object Lock in COMPLIANCE mode."""

from __future__ import annotations

import base64
import hashlib
import io
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ramparts.audit.log import AuditLog
from ramparts.audit.note import NoteSigner
from ramparts.audit.worm import DirectoryWorm, S3ObjectLockWorm, WormTarget, checkpoint_name
from ramparts.core.clock import FrozenClock
from ramparts.core.interface import Event, Outcome
from ramparts.core.settings import load_settings
from ramparts.errors import AuditError, ConfigError
from ramparts.store import create_engine, upgrade

boto3 = pytest.importorskip("boto3", reason="the s3 extra (boto3) is absent")
from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
NOTE = "ramparts/audit\n3\nAAAA\n\n— ramparts/audit sig\n"


def test_a_folder_copy_is_read_only_and_never_replaced(tmp_path: Path) -> None:
    worm = DirectoryWorm(tmp_path / "worm")
    worm.put(checkpoint_name(3), NOTE)
    worm.put(checkpoint_name(3), "something else")
    worm.put(checkpoint_name(10), NOTE.replace("3", "10"))
    path = tmp_path / "worm" / checkpoint_name(3)
    assert path.read_text() == NOTE
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert list(worm.notes()) == [NOTE, NOTE.replace("3", "10")]
    assert list(DirectoryWorm(tmp_path / "absent").notes()) == []


def test_a_folder_that_cannot_be_written_is_an_audit_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AuditError, match="cannot copy the checkpoint"):
        DirectoryWorm(blocker / "worm").put(checkpoint_name(1), NOTE)


def _s3(retention_days: int = 183) -> tuple[S3ObjectLockWorm, Stubber]:
    client = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    worm = S3ObjectLockWorm(
        "audit-lock",
        prefix="acme/",
        retention_days=retention_days,
        clock=FrozenClock(NOW),
        client=client,
    )
    return worm, Stubber(client)


def test_s3_copies_are_locked_in_compliance_mode_until_the_retention_ends() -> None:
    worm, stub = _s3()
    body = NOTE.encode()
    stub.add_response(
        "put_object",
        {},
        {
            "Bucket": "audit-lock",
            "Key": "acme/" + checkpoint_name(3),
            "Body": body,
            "ContentType": "text/plain; charset=utf-8",
            "ContentMD5": base64.b64encode(hashlib.md5(body).digest()).decode(),  # noqa: S324
            "ObjectLockMode": "COMPLIANCE",
            "ObjectLockRetainUntilDate": NOW + timedelta(days=183),
            "IfNoneMatch": "*",
        },
    )
    with stub:
        worm.put(checkpoint_name(3), NOTE)
    stub.assert_no_pending_responses()


def test_an_existing_s3_copy_is_kept_and_other_failures_are_errors() -> None:
    worm, stub = _s3()
    stub.add_client_error(
        "put_object", service_error_code="PreconditionFailed", http_status_code=412
    )
    stub.add_client_error("put_object", service_error_code="AccessDenied", http_status_code=403)
    with stub:
        worm.put(checkpoint_name(3), NOTE)
        with pytest.raises(AuditError, match="s3://audit-lock/acme/"):
            worm.put(checkpoint_name(4), NOTE)


def test_s3_copies_are_read_back_in_key_order() -> None:
    worm, stub = _s3()
    names = [checkpoint_name(10), checkpoint_name(3)]
    stub.add_response(
        "list_objects_v2",
        {"Contents": [{"Key": "acme/" + n} for n in names] + [{"Key": "acme/readme.txt"}]},
        {"Bucket": "audit-lock", "Prefix": "acme/"},
    )
    for size in (3, 10):
        text = f"note {size}".encode()
        stub.add_response(
            "get_object",
            {"Body": StreamingBody(io.BytesIO(text), len(text))},
            {"Bucket": "audit-lock", "Key": "acme/" + checkpoint_name(size)},
        )
    with stub:
        assert list(worm.notes()) == ["note 3", "note 10"]


def test_the_log_copies_each_checkpoint_to_its_target(tmp_path: Path) -> None:
    class Recording(WormTarget):
        def __init__(self) -> None:
            self.copies: dict[str, str] = {}

        def put(self, name: str, note: str) -> None:
            self.copies.setdefault(name, note)

        def notes(self) -> Iterator[str]:
            return iter(self.copies.values())

    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    target = Recording()
    log = AuditLog(
        engine,
        NoteSigner("ramparts/audit", tmp_path / "cp.pem"),
        clock=FrozenClock(NOW),
        checkpoint_every=2,
        worm=target,
    )
    for n in range(4):
        log.append(
            Event(
                actor="ci",
                action="model.push",
                resource=f"model:m@{n}",
                outcome=Outcome.SUCCESS,
                time=NOW,
            )
        )
    assert sorted(target.copies) == [checkpoint_name(2), checkpoint_name(4)]
    assert [cp.note for cp in log.checkpoints()] == [
        target.copies[k] for k in sorted(target.copies)
    ]


def test_settings_refuse_two_write_once_targets(tmp_path: Path) -> None:
    environ = {"RAMPARTS_AUDIT__WORM_DIR": str(tmp_path), "RAMPARTS_AUDIT__WORM_S3_BUCKET": "b"}
    with pytest.raises(ConfigError, match="choose one write-once target"):
        load_settings(environ=environ, config_file=tmp_path / "none.toml")
