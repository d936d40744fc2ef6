"""Config and container evidence: plain HTTP, TLS checks and versions, Dockerfiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from posture_repo import collect

HTTP = "config.plain_http_endpoints"
VERIFY = "config.tls_verify_disabled"
WEAK = "config.weak_tls_versions"

# Each case: its id, the file written, its content, the fact read, and whether it is flagged.
CASES: list[tuple[str, str, str, str, bool]] = [
    (
        "yaml-http",
        "config/settings.yaml",
        "endpoint: http://inference.internal:8080/v1\n",
        HTTP,
        True,
    ),
    (
        "yaml-https",
        "config/settings.yaml",
        "endpoint: https://inference.internal/v1\n",
        HTTP,
        False,
    ),
    (
        "loopback",
        "config/settings.yaml",
        "a: http://localhost:8000\nb: http://127.0.0.1/x\nc: http://[::1]:3\n",
        HTTP,
        False,
    ),
    (
        "json-schema-id",
        "schema.json",
        '{"$schema": "http://json-schema.org/draft-07/schema#", "$id": "http://corp.example/s"}',
        HTTP,
        False,
    ),
    ("toml-http", "app.toml", "[upstream]\nurl = 'http://10.0.0.5:9000'\n", HTTP, True),
    (
        "comment-http",
        "app.ini",
        "; see http://old.example.com\nurl = https://new.example.com\n",
        HTTP,
        False,
    ),
    ("env-example-http", ".env.example", "API_BASE=http://api.corp\n", HTTP, True),
    (
        "py-settings-http",
        "app/settings.py",
        '"""Docs at http://docs.corp."""\nBASE_URL = "http://api.corp/v1"\n',
        HTTP,
        True,
    ),
    (
        "py-settings-docstring",
        "app/settings.py",
        '"""Docs at http://docs.corp."""\nBASE_URL = "https://api.corp/v1"\n',
        HTTP,
        False,
    ),
    ("py-non-settings", "app/client.py", 'URL = "http://api.corp/v1"\n', HTTP, False),
    (
        "requests-verify",
        "app/client.py",
        "import requests\nrequests.get(u, verify=False)\n",
        VERIFY,
        True,
    ),
    (
        "requests-verify-on",
        "app/client.py",
        "import requests\nrequests.get(u, verify=True)\n",
        VERIFY,
        False,
    ),
    (
        "py-cert-none",
        "app/tls.py",
        "import ssl\nctx = ssl.create_default_context()\nctx.check_hostname = False\nctx.verify_mode = ssl.CERT_NONE\n",
        VERIFY,
        True,
    ),
    ("py-string-only", "app/doc.py", "HELP = 'never pass verify=False'\n", VERIFY, False),
    ("yaml-ssl-verify", "config.yaml", "client:\n  ssl_verify: false\n", VERIFY, True),
    ("yaml-ssl-verify-on", "config.yaml", "client:\n  ssl_verify: true\n", VERIFY, False),
    (
        "kube-insecure",
        "kubeconfig.yaml",
        "clusters:\n- cluster:\n    insecure-skip-tls-verify: true\n",
        VERIFY,
        True,
    ),
    ("go-insecure", "main.go", "cfg := &tls.Config{InsecureSkipVerify: true}\n", VERIFY, True),
    (
        "node-env",
        "Dockerfile",
        "FROM node:20\nENV NODE_TLS_REJECT_UNAUTHORIZED=0\nUSER node\n",
        VERIFY,
        True,
    ),
    ("curl-k", "scripts/fetch.sh", "curl -k https://models.corp/m.bin -o m.bin\n", VERIFY, True),
    ("curl-fine", "scripts/fetch.sh", "curl -kind-of-flag-not --fail https://x\n", VERIFY, False),
    ("php-curlopt", "api.php", "curl_setopt($ch, CURLOPT_SSL_VERIFYPEER, 0);\n", VERIFY, True),
    ("nginx-weak", "nginx.conf", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n", WEAK, True),
    ("nginx-strong", "nginx.conf", "ssl_protocols TLSv1.2 TLSv1.3;\n", WEAK, False),
    ("apache-disabled", "site.conf", "SSLProtocol all -SSLv3 -TLSv1 -TLSv1.1\n", WEAK, False),
    (
        "tf-min-tls",
        "main.tf",
        'resource "azurerm_storage_account" "a" {\n  min_tls_version = "TLS1_1"\n}\n',
        WEAK,
        True,
    ),
    (
        "tf-min-tls-ok",
        "main.tf",
        'resource "azurerm_storage_account" "a" {\n  min_tls_version = "TLS1_2"\n}\n',
        WEAK,
        False,
    ),
    ("yaml-minimum", "svc.yaml", 'minimum_tls_version: "1.0"\n', WEAK, True),
    ("yaml-minimum-ok", "svc.yaml", 'minimum_tls_version: "1.2"\n', WEAK, False),
    ("cloudfront", "cdn.tf", 'minimum_protocol_version = "TLSv1_2016"\n', WEAK, True),
    ("cloudfront-ok", "cdn.tf", 'minimum_protocol_version = "TLSv1.2_2021"\n', WEAK, False),
    (
        "py-protocol",
        "app/tls.py",
        "import ssl\nctx = ssl.SSLContext(ssl.PROTOCOL_TLSv1)\n",
        WEAK,
        True,
    ),
    (
        "py-tlsversion",
        "app/tls.py",
        "from ssl import TLSVersion\nctx.minimum_version = TLSVersion.TLSv1_1\n",
        WEAK,
        True,
    ),
    (
        "py-tlsversion-ok",
        "app/tls.py",
        "import ssl\nctx.minimum_version = ssl.TLSVersion.TLSv1_2\n",
        WEAK,
        False,
    ),
]


@pytest.mark.parametrize(
    ("rel", "content", "fact", "flagged"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_config_fact(tmp_path: Path, rel: str, content: str, fact: str, flagged: bool) -> None:
    got = collect(tmp_path, {rel: content})[fact]
    assert bool(got.value) is flagged, got
    if flagged:
        assert isinstance(got.value, tuple)
        assert all(item.startswith(f"{rel}:") for item in got.value)
        assert got.locations[0].path == rel


def test_plain_http_line_number(tmp_path: Path) -> None:
    got = collect(tmp_path, {"c.yaml": "a: 1\n\nurl: http://api.corp\n"})[HTTP]
    assert got.value == ("c.yaml:3 http://api.corp",)


DOCKER = "Dockerfile"

DOCKER_CASES: list[tuple[str, str, str, bool]] = [
    ("no-user", "FROM python:3.12-slim\nRUN pip install x\n", "container.runs_as_root", True),
    ("user-root", "FROM python:3.12-slim\nUSER root\n", "container.runs_as_root", True),
    ("user-app", "FROM python:3.12-slim\nUSER 10001:10001\n", "container.runs_as_root", False),
    (
        "root-in-final-stage",
        "FROM python:3.12 AS build\nUSER app\nFROM python:3.12-slim\nCOPY --from=build /a /a\n",
        "container.runs_as_root",
        True,
    ),
    ("latest", "FROM python:latest\nUSER app\n", "container.unpinned_base_images", True),
    (
        "no-tag",
        "FROM --platform=linux/amd64 ubuntu\nUSER app\n",
        "container.unpinned_base_images",
        True,
    ),
    (
        "registry-port",
        "FROM registry:5000/team/img\nUSER app\n",
        "container.unpinned_base_images",
        True,
    ),
    (
        "tagged",
        "FROM registry:5000/team/img:1.4\nUSER app\n",
        "container.unpinned_base_images",
        False,
    ),
    (
        "digest",
        "FROM python@sha256:" + "a" * 64 + "\nUSER app\n",
        "container.unpinned_base_images",
        False,
    ),
    (
        "stage-and-scratch",
        "FROM golang:1.22 AS build\nFROM scratch\nCOPY --from=build /app /app\nFROM build\nUSER 1\n",
        "container.unpinned_base_images",
        False,
    ),
    (
        "arg-default",
        "ARG BASE=python:latest\nFROM ${BASE}\nUSER app\n",
        "container.unpinned_base_images",
        True,
    ),
    ("arg-unresolved", "ARG BASE\nFROM $BASE\nUSER app\n", "container.unpinned_base_images", False),
]


@pytest.mark.parametrize(
    ("content", "fact", "flagged"), [c[1:] for c in DOCKER_CASES], ids=[c[0] for c in DOCKER_CASES]
)
def test_dockerfile_fact(tmp_path: Path, content: str, fact: str, flagged: bool) -> None:
    facts = collect(tmp_path, {DOCKER: content})
    assert facts["container.present"].value is True
    assert facts["container.dockerfiles"].value == 1
    assert bool(facts[fact].value) is flagged, facts[fact]


def test_dockerfile_names(tmp_path: Path) -> None:
    facts = collect(
        tmp_path,
        {
            "docker/Dockerfile.gpu": "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n",
            "serve.Dockerfile": "FROM python:3.12\nUSER 1\n",
            "Containerfile": "FROM fedora:40\nUSER 1\n",
            "docs/dockerfile.md": "FROM nothing\n",
        },
    )
    assert facts["container.dockerfiles"].value == 3
    assert facts["container.runs_as_root"].value == ("docker/Dockerfile.gpu",)


def test_continuations_and_comments(tmp_path: Path) -> None:
    content = (
        "# syntax=docker/dockerfile:1\nFROM python:3.12 \\\n  AS base\n# USER root\nUSER app\n"
    )
    facts = collect(tmp_path, {DOCKER: content})
    assert facts["container.runs_as_root"].value == ()
    assert facts["container.unpinned_base_images"].value == ()
