"""The discovery inventory as a table (rich) or JSON, with its shadow-AI findings.

JSON: ``{"inventory": Inventory.to_dict(), "shadow": [ShadowFinding.to_dict(), ...]}``.
The table has one row per asset (kind, name, provider, location, shadow reason) and a
summary line; skipped and unreadable files are listed under it.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ramparts.scan.discover_assets import ASSET_KINDS, AiAsset, Inventory, ShadowFinding

__all__ = [
    "inventory_document",
    "inventory_renderable",
    "render_inventory_json",
    "render_inventory_table",
]


def inventory_document(inventory: Inventory, shadow: Sequence[ShadowFinding]) -> dict[str, Any]:
    """The JSON-ready document: the inventory and the shadow-AI findings."""
    return {"inventory": inventory.to_dict(), "shadow": [s.to_dict() for s in shadow]}


def render_inventory_json(inventory: Inventory, shadow: Sequence[ShadowFinding]) -> str:
    """The inventory and shadow findings as indented JSON, newline-terminated."""
    return json.dumps(inventory_document(inventory, shadow), indent=2) + "\n"


def _summary(inventory: Inventory, shadow: Sequence[ShadowFinding]) -> str:
    counts = Counter(a.kind for a in inventory.assets)
    parts = [f"{counts[k]} {k}" for k in ASSET_KINDS if counts[k]]
    text = f"{len(inventory.assets)} AI asset(s)"
    if parts:
        text += " (" + ", ".join(parts) + ")"
    text += f" in {inventory.files_seen} file(s); {len(shadow)} shadow AI"
    if inventory.skips:
        text += f"; {len(inventory.skips)} skipped"
    if inventory.errors:
        text += f"; {len(inventory.errors)} error(s)"
    return text


def inventory_renderable(inventory: Inventory, shadow: Sequence[ShadowFinding]) -> Any:
    """A rich renderable: the asset table, skips and errors, and a summary line."""
    from rich.console import Group  # noqa: PLC0415 - rich only for tables
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    reasons: dict[AiAsset, str] = {s.asset: s.reason for s in shadow}
    parts: list[Any] = []
    if inventory.assets:
        table = Table(show_lines=False, header_style="bold")
        for column in ("kind", "name", "provider", "location"):
            table.add_column(column, no_wrap=column in ("kind", "provider"), overflow="fold")
        table.add_column("shadow", overflow="fold", ratio=1)
        for asset in inventory.assets:
            reason = reasons.get(asset, "")
            table.add_row(
                asset.kind,
                asset.name,
                asset.provider or "",
                str(asset.location),
                Text(reason, style="bold yellow") if reason else "",
            )
        parts.append(table)
    for skip in inventory.skips:
        parts.append(Text(f"skipped {skip.path}: {skip.reason}", style="dim"))
    for error in inventory.errors:
        parts.append(Text(f"error {error.path}: {error.message}", style="bold red"))
    parts.append(Text(_summary(inventory, shadow), style="bold"))
    return Group(*parts)


def render_inventory_table(inventory: Inventory, shadow: Sequence[ShadowFinding]) -> str:
    """The table as plain text (no colour), for files and pipes."""
    from rich.console import Console  # noqa: PLC0415

    buf = io.StringIO()
    console = Console(file=buf, width=160, color_system=None, force_terminal=False)
    console.print(inventory_renderable(inventory, shadow))
    return buf.getvalue()
