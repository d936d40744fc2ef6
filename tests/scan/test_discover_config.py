"""MCP server configurations and agent configuration files: positives and near misses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.scan.discover import AiAsset, discover

SECRET = "s3cr3t-value-never-copied"


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _kind(root: Path, kind: str) -> list[AiAsset]:
    return [a for a in discover(root).assets if a.kind == kind]


@pytest.mark.parametrize(
    "rel", [".cursor/mcp.json", ".vscode/mcp.json", ".mcp.json", "claude_desktop_config.json"]
)
def test_mcp_servers_one_asset_each_without_secret_values(tmp_path: Path, rel: str) -> None:
    key = "servers" if rel.startswith(".vscode") else "mcpServers"
    doc = {
        key: {
            "github": {
                "command": "docker",
                "args": [
                    "run",
                    "-i",
                    "--rm",
                    "-e",
                    "GITHUB_TOKEN",
                    "ghcr.io/github/github-mcp-server",
                ],
                "env": {"GITHUB_TOKEN": SECRET},
            },
            "remote": {
                "type": "http",
                "url": "https://user:pw@mcp.example.com:8443/mcp?token=abc#x",
                "headers": {"Authorization": "Bearer " + SECRET},
            },
        }
    }
    _write(tmp_path, rel, json.dumps(doc, indent=2))
    servers = {a.name: a for a in _kind(tmp_path, "mcp-server")}
    assert set(servers) == {"github", "remote"}
    github, remote = servers["github"], servers["remote"]
    assert github.provider is None
    assert github.properties == {
        "command": "docker",
        "package": "ghcr.io/github/github-mcp-server",
        "transport": "stdio",
        "env": "GITHUB_TOKEN",
    }
    assert remote.provider == "mcp.example.com"
    assert remote.properties["url"] == "https://mcp.example.com:8443/mcp"
    assert remote.properties["headers"] == "Authorization"
    everything = json.dumps([dict(a.properties) for a in servers.values()]) + str(servers)
    assert SECRET not in everything
    assert "pw" not in remote.properties["url"]
    assert "token=abc" not in everything
    assert github.location.line == 3


def test_mcp_config_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    text = '{\n  // local tools\n  "servers": {\n    "fs": {"command": "npx", "args": ["-y", "pkg"],},\n  },\n}\n'
    _write(tmp_path, ".vscode/mcp.json", text)
    [server] = _kind(tmp_path, "mcp-server")
    assert (server.name, server.properties["package"]) == ("fs", "pkg")


def test_broken_mcp_config_is_a_skip(tmp_path: Path) -> None:
    _write(tmp_path, ".cursor/mcp.json", "{ not json")
    inventory = discover(tmp_path)
    assert inventory.of_kind("mcp-server") == ()
    assert [s.path for s in inventory.skips] == [".cursor/mcp.json"]


def test_mcp_near_misses(tmp_path: Path) -> None:
    doc = json.dumps({"mcpServers": {"fs": {"command": "npx"}}})
    _write(tmp_path, "config/mcp-notes.json", doc)  # not an MCP client file name
    _write(tmp_path, "mcp.json", json.dumps({"name": "not a client config"}))
    assert _kind(tmp_path, "mcp-server") == []


@pytest.mark.parametrize(
    ("rel", "text", "framework"),
    [
        ("AGENTS.md", "# Agents\nRun tests before committing.\n", "agents.md"),
        ("CLAUDE.md", "Use uv.\n", "claude-code"),
        (".github/copilot-instructions.md", "Prefer pytest.\n", "github-copilot"),
        (".github/instructions/py.instructions.md", "Typed code.\n", "github-copilot"),
        (".cursor/rules/style.mdc", "---\ndescription: style\n---\n", "cursor"),
        (".cursorrules", "be terse\n", "cursor"),
        ("agent/langgraph.json", '{"graphs": {"agent": "./graph.py:graph"}}', "langgraph"),
        (
            "src/crew/config/agents.yaml",
            "researcher:\n  role: Researcher\n  goal: Find facts\n  backstory: x\n",
            "crewai",
        ),
    ],
)
def test_agent_configs(tmp_path: Path, rel: str, text: str, framework: str) -> None:
    _write(tmp_path, rel, text)
    [config] = _kind(tmp_path, "agent-config")
    assert (config.name, config.properties["framework"]) == (rel, framework)
    assert config.provider is None


def test_crewai_agents_are_named(tmp_path: Path) -> None:
    text = "researcher:\n  role: R\n  goal: G\nwriter:\n  role: W\n  goal: G\n"
    _write(tmp_path, "config/agents.yaml", text)
    [config] = _kind(tmp_path, "agent-config")
    assert config.properties["agents"] == "researcher,writer"


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("docs/agents.md", "# agents in our product\n"),  # not the AGENTS.md convention
        ("AGENTS.md", "   \n"),  # empty
        ("langgraph.json", '{"dependencies": ["."]}'),  # no graphs
        ("config/agents.yaml", "agents:\n  - name: build-agent\n    pool: linux\n"),  # CI agents
        (".github/instructions/readme.md", "not an instructions file\n"),
    ],
)
def test_agent_config_near_misses(tmp_path: Path, rel: str, text: str) -> None:
    _write(tmp_path, rel, text)
    assert _kind(tmp_path, "agent-config") == []
