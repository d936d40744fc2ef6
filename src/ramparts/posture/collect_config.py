"""Evidence from configuration files: plain HTTP, disabled TLS checks, weak TLS versions.

These are line-by-line text checks, documented here so a reviewer can reproduce them;
they do not evaluate a configuration language. Whole-line comments (``#``, ``;``,
``//``) are skipped. Python files are judged from their syntax tree instead
(:mod:`ramparts.posture.python_code`), so a pattern quoted in a string is not a hit.

- ``config.plain_http_endpoints``: ``http://`` URLs whose host is not loopback
  (``localhost``, ``127.x``, ``[::1]``, ``0.0.0.0``) nor a namespace identifier
  (``json-schema.org``, ``www.w3.org``...), in YAML, JSON, TOML, INI/CFG/CONF,
  ``.properties``, ``.env`` examples and Python settings modules. Lock files are skipped.
- ``config.tls_verify_disabled``: ``ssl_verify: false`` and its spellings,
  ``insecure_skip_verify: true``, ``NODE_TLS_REJECT_UNAUTHORIZED=0``,
  ``CURLOPT_SSL_VERIFYPEER, 0``, ``rejectUnauthorized: false``, ``strict-ssl=false``,
  ``PYTHONHTTPSVERIFY=0``, ``GIT_SSL_NO_VERIFY``, ``curl -k/--insecure``,
  ``wget --no-check-certificate``, ``pip --trusted-host``, in configs, scripts,
  Dockerfiles, CI files and JavaScript/TypeScript/Go/Java/Ruby/PHP sources.
- ``config.weak_tls_versions``: minimums below TLS 1.2: nginx ``ssl_protocols`` or
  Apache ``SSLProtocol`` enabling SSLv3/TLSv1/TLSv1.1, ``min_tls_version``-style keys
  set to 1.0/1.1 (``minimum_tls_version = "1.0"``, ``min_tls_version: TLS1_1``,
  CloudFront ``TLSv1_2016``), ELB policies allowing TLS 1.0, Go ``tls.VersionTLS10``.
"""

from __future__ import annotations

import re

from ramparts.core.types import Location
from ramparts.posture.interface import Fact
from ramparts.posture.python_code import PythonEvidence, plain_urls
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles, hits_fact

__all__ = ["collect_config"]

_CONFIG_SUFFIXES = (
    ".yaml",
    ".yml",
    ".json",
    ".toml",
    ".ini",
    ".cfg",
    ".conf",
    ".properties",
)
_ENV_EXAMPLES = (".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults")
_CODE_SUFFIXES = (
    ".sh",
    ".bash",
    ".zsh",
    ".ps1",
    ".js",
    ".mjs",
    ".cjs",
    ".ts",
    ".go",
    ".java",
    ".kt",
    ".rb",
    ".php",
    ".tf",
    ".tfvars",
    ".dockerfile",
)
_CODE_NAMES = (
    "dockerfile",
    "containerfile",
    "makefile",
    "jenkinsfile",
    ".npmrc",
    ".curlrc",
    "pip.conf",
    "pip.ini",
    ".gitconfig",
)
_LOCKFILES = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "composer.lock", "pipfile.lock", "yarn.lock"}
)
_COMMENT = ("#", ";", "//")
# Keys whose URL names a format or namespace and is never fetched.
_IDENTIFIER_KEY = re.compile(r"[\"']?(?:\$schema|\$id|\$ref|xmlns(?::\w+)?)[\"']?\s*[:=]\s*[\"']?$")
_LINE_CHARS = 400
"""A line is judged on its first 400 characters: settings are short, minified data long."""
_PER_FILE = 50
"""URLs judged per file at most: a data file listing thousands says nothing more."""
_TLS_WORDS = ("verify", "ssl", "tls", "insecure", "trusted", "reject", "curl", "elbsecurity")

_FALSY = r"[\"']?\s*[:=]\s*[\"']?(?:false|0|no|off)\b"
_VERIFY_OFF = re.compile(
    "|".join(
        (
            r"\b(?:ssl[_-]?verify|verify[_-]?ssl|tls[_-]?verify|verify[_-]?certs?|sslverify)\b"
            + _FALSY,
            r"\binsecure[_-]?skip[_-]?(?:tls[_-]?)?verify\b[\"']?\s*[:=]\s*[\"']?true\b",
            r"\bNODE_TLS_REJECT_UNAUTHORIZED\b[\"']?\s*[:=]\s*[\"']?0\b",
            r"\bCURLOPT_SSL_VERIFY(?:PEER|HOST)\b\s*,\s*(?:0|false)\b",
            r"\brejectUnauthorized\b[\"']?\s*:\s*false\b",
            r"\bstrict-ssl\b\s*[:=]\s*false\b",
            r"\bPYTHONHTTPSVERIFY\b[\"']?\s*[:=]\s*[\"']?0\b",
            r"\bGIT_SSL_NO_VERIFY\b\s*[:=]\s*[\"']?(?:1|true)\b",
            r"\bhttp\.sslverify\s+false\b",
            r"\bcurl\b[^\n]*\s(?:-k|--insecure)(?=\s|$)",
            r"\bwget\b[^\n]*\s--no-check-certificate\b",
            r"\s--trusted-host[\s=]",
            r"\bverify\s*=\s*False\b",
        )
    ),
    re.IGNORECASE,
)
_WEAK_VERSION_VALUE = (
    r"(?:TLS_?v?1(?:[._]?[01])?|1\.[01]|SSL_?v?[23]|TLSv1(?:\.1)?_\d{4}|TLSv1(?:_1)?_method)"
    r"(?![\w.])"
)
_WEAK_TLS = re.compile(
    "|".join(
        (
            r"\bssl_protocols\b[^;\n]*\b(?:SSLv[23]|TLSv1(?:\.1)?)(?![.\d])",
            r"\bSSLProtocol\b[^\n]*(?<![-\w])\+?(?:SSLv3|TLSv1(?:\.1)?)(?![.\d])",
            r"\b(?:min(?:imum)?[_-]?(?:tls|ssl)[_-]?(?:protocol[_-]?)?version"
            r"|(?:tls|ssl)[_-]?min(?:imum)?[_-]?version|min(?:imum)?[_-]?protocol[_-]?version"
            r"|minVersion|secureProtocol)\b[\"']?\s*[:=]\s*[\"']?" + _WEAK_VERSION_VALUE,
            r"\bELBSecurityPolicy-(?:2015-05|2016-08|TLS-1-0-2015-04|TLS-1-1-2017-01)\b",
            r"\btls\.Version(?:TLS10|TLS11|SSL30)\b",
        )
    ),
    re.IGNORECASE,
)


def _env_example(file: RepoFile) -> bool:
    return file.name.endswith(_ENV_EXAMPLES)


def _candidate_lines(text: str) -> list[tuple[int, str]]:
    """``(number, line)`` of each non-comment line holding a TLS word.

    Found with plain substring searches first: running the patterns over every line
    of every file costs ten times more on a large repository.
    """
    lowered = text.lower()
    starts: set[int] = set()
    for word in _TLS_WORDS:
        index = lowered.find(word)
        while index >= 0:
            start = lowered.rfind("\n", 0, index) + 1
            starts.add(start)
            end = lowered.find("\n", index)
            index = -1 if end < 0 else lowered.find(word, end)
    found = []
    number, counted = 1, 0
    for start in sorted(starts):
        number += text.count("\n", counted, start)
        counted = start
        end = text.find("\n", start)
        line = text[start : end if end >= 0 else len(text)]
        if not line.lstrip().startswith(_COMMENT):
            found.append((number, line[:_LINE_CHARS]))
    return found


def _add(bucket: list[Hit], file: RepoFile, text: str, offset: int, what: str) -> None:
    """Record a match unless its line is a whole-line comment."""
    start = text.rfind("\n", 0, offset) + 1
    if text[start:offset].lstrip().startswith(_COMMENT):
        return
    number = text.count("\n", 0, offset) + 1
    bucket.append(Hit(f"{file.rel}:{number} {what}", Location(file.rel, number)))


def collect_config(repo: RepoFiles, python: PythonEvidence) -> tuple[Fact, ...]:
    """Every ``config.*`` fact, from config files and the Python pass ``python``."""
    configs = [
        f
        for f in repo.files
        if (f.name.endswith(_CONFIG_SUFFIXES) or _env_example(f)) and f.name not in _LOCKFILES
    ]
    others = [
        f
        for f in repo.files
        if f.name.endswith(_CODE_SUFFIXES)
        or f.name in _CODE_NAMES
        or f.name.startswith("dockerfile")
    ]
    config_rels = {f.rel for f in configs}
    plain: list[Hit] = list(python.plain_http)
    verify_off: list[Hit] = list(python.tls_verify_off)
    weak: list[Hit] = list(python.weak_tls)
    for file in [*configs, *others]:
        text = repo.text(file)
        if not text:
            continue
        if file.rel in config_rels and "http://" in text:
            for offset, host in plain_urls(text)[:_PER_FILE]:
                if not _IDENTIFIER_KEY.search(text, max(0, offset - 24), offset):
                    _add(plain, file, text, offset, f"http://{host}")
        for number, line in _candidate_lines(text):
            for pattern, bucket in ((_VERIFY_OFF, verify_off), (_WEAK_TLS, weak)):
                match = pattern.search(line)
                if match:
                    where = Location(file.rel, number)
                    bucket.append(Hit(f"{file.rel}:{number} {match.group(0).strip()}", where))
    judged = len(configs) + len(others) + python.files
    note = repo.unparsed_note(python.unparsed)
    return (
        hits_fact(
            "config.plain_http_endpoints",
            plain,
            none=f"no plain http:// URL to a non-loopback host in {judged} config/code file(s)",
            some="plain http:// URLs to non-loopback hosts",
            note=note,
        ),
        hits_fact(
            "config.tls_verify_disabled",
            verify_off,
            none=f"no setting or call disabling TLS certificate checks in {judged} file(s)",
            some="places that disable TLS certificate verification",
            note=note,
        ),
        hits_fact(
            "config.weak_tls_versions",
            weak,
            none=f"no TLS minimum below 1.2 set in {judged} file(s)",
            some="settings allowing TLS below 1.2",
            note=note,
        ),
    )
