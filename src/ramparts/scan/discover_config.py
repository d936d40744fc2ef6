"""MCP server configurations and AI agent configuration files.

**MCP**: ``mcp.json`` (``.cursor/``, ``.vscode/``), ``.mcp.json``, ``mcp_config.json``
and ``claude_desktop_config.json``, under ``mcpServers``, ``servers`` (VS Code) or
``mcp.servers``; comments and trailing commas (JSONC) are tolerated. One asset per
server, with its transport, command, package or image, and URL (user info, query and
fragment removed). Environment variables and headers are listed by name only: their
values are secrets or user data and never leave the file.

**Agents**: ``AGENTS.md``, ``CLAUDE.md``, ``GEMINI.md``, ``.github/copilot-instructions.md``,
``.github/instructions/*.instructions.md``, ``.cursorrules``, ``.cursor/rules/*.mdc``,
``.windsurfrules``, ``.claude/agents/*.md``, LangGraph ``langgraph.json`` (with
``graphs``) and CrewAI ``agents.yaml``/``tasks.yaml`` (entries with ``role`` and
``goal``, or ``description`` and ``expected_output``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ramparts.scan.discover_assets import AiAsset, LinePlacer

__all__ = ["agent_config", "is_agent_config", "is_mcp_config", "mcp_servers"]

_MCP_NAMES = frozenset({"mcp.json", ".mcp.json", "mcp_config.json", "claude_desktop_config.json"})
_RUNNERS = frozenset({"npx", "uvx", "bunx", "pnpx", "pipx", "deno"})
_VALUE_FLAGS = frozenset(
    {"-e", "--env", "-v", "--volume", "--name", "-p", "--publish", "--network", "-w", "--workdir"}
)
_AGENT_FILES = {
    "AGENTS.md": "agents.md",
    "CLAUDE.md": "claude-code",
    "GEMINI.md": "gemini-cli",
    ".cursorrules": "cursor",
    ".windsurfrules": "windsurf",
}
_TOP_KEY = re.compile(r"^([A-Za-z_][\w-]*):[ \t]*(?:#.*)?$", re.M)
_JSONC_NOISE = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/|,(?=\s*[}\]])', re.S)


def is_mcp_config(rel: str) -> bool:
    """Whether a file's name marks it as an MCP client configuration."""
    return rel.rsplit("/", 1)[-1] in _MCP_NAMES


# (folder that must hold the file, suffix of its name, framework)
_AGENT_FOLDERS = (
    ("/.github/instructions/", ".instructions.md", "github-copilot"),
    ("/.cursor/rules/", ".mdc", "cursor"),
    ("/.claude/agents/", ".md", "claude-code"),
)
_AGENT_NAMES = {
    **_AGENT_FILES,
    "langgraph.json": "langgraph",
    "agents.yaml": "crewai",
    "agents.yml": "crewai",
    "tasks.yaml": "crewai",
    "tasks.yml": "crewai",
}


def _agent_framework(rel: str) -> str | None:
    name = rel.rsplit("/", 1)[-1]
    if name in _AGENT_NAMES:
        return _AGENT_NAMES[name]
    path = "/" + rel
    if path.endswith("/.github/copilot-instructions.md"):
        return "github-copilot"
    folder = path[: len(path) - len(name)]
    return next(
        (fw for where, end, fw in _AGENT_FOLDERS if folder.endswith(where) and name.endswith(end)),
        None,
    )


def is_agent_config(rel: str) -> bool:
    """Whether a file's name may make it an agent configuration (its content decides)."""
    return _agent_framework(rel) is not None


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    # JSONC: drop comments and trailing commas, keeping strings as they are.
    cleaned = _JSONC_NOISE.sub(lambda m: m.group() if m.group().startswith('"') else "", text)
    try:
        return json.loads(cleaned)
    except ValueError:
        return None


def _servers(doc: Any) -> dict[str, Any]:
    if not isinstance(doc, dict):
        return {}
    for holder in (doc, doc.get("mcp")):
        if not isinstance(holder, dict):
            continue
        for key in ("mcpServers", "servers"):
            servers = holder.get(key)
            if isinstance(servers, dict):
                return servers
    return {}


def _package(command: str, args: list[str]) -> str | None:
    base = command.replace("\\", "/").rsplit("/", 1)[-1]
    if base in _RUNNERS:
        return next((a for a in args if not a.startswith("-") and a != "run"), None)
    if base in ("docker", "podman") and "run" in args:
        rest = args[args.index("run") + 1 :]
        skip = False
        for arg in rest:
            if skip:
                skip = False
            elif arg in _VALUE_FLAGS:
                skip = True
            elif not arg.startswith("-"):
                return arg
    return None


def _clean_url(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if not parts.scheme or not host:
        return None
    return f"{parts.scheme}://{host}{port}{parts.path}", host


def mcp_servers(rel: str, text: str) -> Iterator[AiAsset] | None:
    """One asset per server of an MCP configuration; ``None`` if it is not valid JSON."""
    doc = _loads(text)
    if doc is None:
        return None
    return _mcp_assets(rel, text, _servers(doc))


def _mcp_assets(rel: str, text: str, servers: dict[str, Any]) -> Iterator[AiAsset]:
    place = LinePlacer(rel, text)
    for name, server in servers.items():
        if not isinstance(server, dict) or not name:
            continue
        props: dict[str, str] = {}
        provider: str | None = None
        command = server.get("command")
        raw_args = server.get("args")
        args = [a for a in raw_args if isinstance(a, str)] if isinstance(raw_args, list) else []
        url = server.get("url") or server.get("serverUrl")
        transport = server.get("type") or server.get("transport")
        if isinstance(command, str) and command:
            props["command"] = command
            package = _package(command, args)
            if package:
                props["package"] = package
        cleaned = _clean_url(url) if isinstance(url, str) else None
        if cleaned is not None:
            props["url"], host = cleaned
            provider = host
        props["transport"] = (
            transport if isinstance(transport, str) else ("http" if cleaned else "stdio")
        )
        for key in ("env", "headers"):
            values = server.get(key)
            if isinstance(values, dict) and values:
                props[key] = ",".join(sorted(str(k) for k in values))
        target = props.get("url") or " ".join(
            filter(None, (props.get("command"), props.get("package")))
        )
        detail = f"MCP server ({props['transport']}: {target})" if target else "MCP server"
        offset = text.find(json.dumps(name))
        yield AiAsset("mcp-server", name, place(max(offset, 0)), provider, detail, props)


def agent_config(rel: str, text: str) -> AiAsset | None:
    """The agent configuration ``rel`` holds, if its name and content make it one."""
    framework = _agent_framework(rel)
    if framework is None or not text.strip():
        return None
    props = {"framework": framework}
    name = rel.rsplit("/", 1)[-1]
    detail = f"{framework} agent instructions"
    if framework == "langgraph":
        doc = _loads(text)
        graphs = doc.get("graphs") if isinstance(doc, dict) else None
        if not isinstance(graphs, dict) or not graphs:
            return None
        props["graphs"] = ",".join(sorted(str(g) for g in graphs))
        detail = "LangGraph application configuration"
    elif framework == "crewai":
        tasks = name.startswith("tasks")
        needed = ("description:", "expected_output:") if tasks else ("role:", "goal:")
        if not all(key in text for key in needed):
            return None
        props["tasks" if tasks else "agents"] = ",".join(_TOP_KEY.findall(text))
        detail = "CrewAI " + ("task definitions" if tasks else "agent definitions")
    return AiAsset("agent-config", rel, LinePlacer(rel, text)(0), None, detail, props)
