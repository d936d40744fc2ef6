"""Audit events in OCSF (1.3) and as RFC 5424 syslog messages, for SIEMs.

Each event becomes an OCSF API Activity (class 6003) record, or an Authentication
(class 3002) record when its action is about logging on or tokens (``auth.*``,
``identity.login``, ``identity.token``). The activity is read from the action's verb
(create, read, update, delete; other otherwise). The original event travels in
``unmapped`` so nothing is lost, and ``metadata.uid`` is the log index, which ties a
SIEM record back to its Merkle proof.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime
from typing import Any

__all__ = ["OCSF_VERSION", "syslog_line", "to_ocsf"]

OCSF_VERSION = "1.3.0"
_API_ACTIVITY = 6003
_AUTHENTICATION = 3002
_VERBS = {
    "create": 1,
    "append": 1,
    "register": 1,
    "read": 2,
    "get": 2,
    "invoke": 2,
    "list": 2,
    "update": 3,
    "promote": 3,
    "approve": 3,
    "rollback": 3,
    "delete": 4,
    "erase": 4,
    "revoke": 4,
}
_AUTH_ACTIVITIES = {"logon": 1, "login": 1, "logoff": 2, "logout": 2, "token": 1}
_STATUS = {"success": (1, "Success"), "failure": (2, "Failure"), "denied": (2, "Failure")}


def _is_auth(action: str) -> bool:
    return action.startswith("auth.") or action in ("identity.login", "identity.token")


def to_ocsf(index: int, event: dict[str, Any]) -> dict[str, Any]:
    """The OCSF record of log entry ``index`` (``event`` as stored)."""
    action = str(event.get("action", ""))
    verb = action.rsplit(".", 1)[-1].lower()
    auth = _is_auth(action)
    class_uid = _AUTHENTICATION if auth else _API_ACTIVITY
    activity = (_AUTH_ACTIVITIES if auth else _VERBS).get(verb, 99)
    status_id, status = _STATUS.get(str(event.get("outcome")), (0, "Unknown"))
    when = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    record: dict[str, Any] = {
        "class_uid": class_uid,
        "category_uid": 3 if auth else 6,
        "activity_id": activity,
        "type_uid": class_uid * 100 + activity,
        "time": int(when.timestamp() * 1000),
        "severity_id": 1,
        "status_id": status_id,
        "status": status,
        "status_detail": event.get("reason") or None,
        "actor": {"user": {"name": event.get("actor")}},
        "metadata": {
            "version": OCSF_VERSION,
            "uid": str(index),
            "correlation_uid": event.get("request_id") or None,
            "product": {"name": "ramparts", "vendor_name": "ramparts"},
            "log_name": "audit",
        },
        "unmapped": event,
    }
    if auth:
        record["user"] = {"name": event.get("actor")}
        record["service"] = {"name": event.get("resource")}
    else:
        record["api"] = {"operation": action}
        record["resources"] = [{"name": event.get("resource")}]
    return {k: v for k, v in record.items() if v is not None}


def syslog_line(index: int, event: dict[str, Any], *, app: str = "ramparts") -> bytes:
    """One RFC 5424 message: facility ``security/authorization`` (10), severity notice,
    structured data ``[ramparts@32473 index=".." action=".." outcome=".."]`` and the
    event as JSON in the message."""
    severity = 5 if event.get("outcome") == "success" else 4
    pri = 10 * 8 + severity
    host = socket.gethostname() or "-"

    def sd(value: object) -> str:
        text = str(value)
        return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")

    params = " ".join(
        f'{k}="{sd(event.get(k, ""))}"' for k in ("action", "actor", "resource", "outcome")
    )
    data = f'[ramparts@32473 index="{index}" {params}]'
    message = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    line = f"<{pri}>1 {event.get('time', '-')} {host} {app} - audit {data} \ufeff{message}"
    return line.encode("utf-8")
