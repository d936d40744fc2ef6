"""The history of posture runs: each run's score and every control's status."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType

import sqlalchemy as sa

from ramparts.core.records import record
from ramparts.store.engine import begin_write, redact_url, store_error
from ramparts.store.interface import StoreError
from ramparts.store.schema import posture_runs

__all__ = ["PostureRun", "PostureRunStore"]


@record
class PostureRun:
    """One recorded posture run."""

    id: str
    target: str
    started_at: datetime
    tool_version: str
    score: float | None
    statuses: Mapping[str, str]


class PostureRunStore:
    """Records posture runs in the SQL database and reads the latest one back.

    The schema must be migrated (:func:`ramparts.store.upgrade`) before use.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def record(
        self,
        *,
        target: str,
        started_at: datetime,
        tool_version: str,
        score: float | None,
        statuses: Mapping[str, str],
    ) -> PostureRun:
        """Store one run; returns once the row is committed."""
        run = PostureRun(
            id=str(uuid.uuid4()),
            target=target,
            started_at=started_at.astimezone(UTC),
            tool_version=tool_version,
            score=score,
            statuses=MappingProxyType(dict(statuses)),
        )
        values = {
            "id": run.id,
            "target": run.target,
            "started_at": run.started_at,
            "tool_version": run.tool_version,
            "score": run.score,
            "statuses": json.dumps(dict(run.statuses), sort_keys=True),
        }
        try:
            with begin_write(self._engine) as conn:
                conn.execute(posture_runs.insert().values(**values))
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "recording a posture run", exc) from exc
        return run

    def latest(self, target: str) -> PostureRun | None:
        """The newest run of ``target``, or ``None`` when none was recorded."""
        query = (
            sa.select(posture_runs)
            .where(posture_runs.c.target == target)
            .order_by(posture_runs.c.started_at.desc(), posture_runs.c.id)
            .limit(1)
        )
        try:
            with self._engine.connect() as conn:
                row = conn.execute(query).mappings().first()
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "reading posture runs", exc) from exc
        if row is None:
            return None
        try:
            statuses = json.loads(row["statuses"])
        except ValueError:
            statuses = None
        if not isinstance(statuses, dict):
            # Only a hand-edited or corrupted row gets here: report it, do not guess.
            raise StoreError(
                f"a posture run row in {redact_url(self._engine.url)} has invalid statuses"
            )
        started = row["started_at"]
        return PostureRun(
            id=row["id"],
            target=row["target"],
            started_at=started.replace(tzinfo=UTC) if started.tzinfo is None else started,
            tool_version=row["tool_version"],
            score=row["score"],
            statuses=MappingProxyType({str(k): str(v) for k, v in statuses.items()}),
        )
