"""Python source read as a syntax tree (``ast.parse``), never imported or run.

One pass over the repository's ``.py`` files finds what the posture controls ask of
code. A syntax tree, unlike a text search, is not fooled by a pattern written inside
a string or a comment (a test that writes ``pickle.load(`` into a fixture is not a
call). Import aliases are followed (``import pickle as pk``, ``from joblib import
load``); calls through other indirections are not seen. Only files that contain one of
the words the checks need are parsed, so a large repository costs little.

- unsafe loading: ``pickle``/``cPickle``/``_pickle``/``dill``/``cloudpickle``
  ``load``/``loads``/``Unpickler``, ``joblib.load``, ``pandas.read_pickle``,
  ``torch.load`` without ``weights_only=True``, ``numpy.load(allow_pickle=True)``,
  ``yaml.load``/``load_all`` without a safe loader, ``yaml.unsafe_load``, Keras
  ``load_model(safe_mode=False)``, and any call passing ``trust_remote_code=True``;
- hub downloads not pinned to a commit: ``from_pretrained``, ``hf_hub_download``,
  ``snapshot_download`` and ``load_dataset`` called with a literal ``org/name`` id and
  no ``revision`` that is a 40-hex commit SHA;
- TLS: ``verify=False`` (and ``verify_ssl``/``ssl_verify``/``verify_certs``),
  ``ssl.CERT_NONE``, ``check_hostname = False``, ``ssl._create_unverified_context``;
  protocol constants below TLS 1.2 (``ssl.PROTOCOL_TLSv1``, ``TLSVersion.TLSv1_1``...);
- plain ``http://`` URLs in string constants of settings modules (``settings.py``,
  ``config.py``, ``*_settings.py``, ``*_config.py``), docstrings excepted.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from ramparts.core.records import field, record
from ramparts.core.types import Location
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles

__all__ = [
    "PythonEvidence",
    "is_settings_module",
    "plain_urls",
    "read_python",
    "url_is_plain_remote",
]

# A file is parsed only when its text holds one of these words: most code files never
# are. Plain substring tests: a regular expression with this many branches is ten
# times slower on a large repository.
_KEYWORDS = (
    "pickle",
    "dill.",
    "from dill import",
    "joblib",
    "torch.load",
    "from torch import",
    "import torch",  # import torch as t; t.load(...)
    "yaml.load",
    "yaml.unsafe_load",
    "from yaml import",
    "import yaml",
    "safe_mode",
    "trust_remote_code",
    "verify=False",
    "verify = False",
    "ssl=False",
    "ssl = False",
    "certs=False",
    "certs = False",
    "CERT_NONE",
    "check_hostname",
    "_create_unverified_context",
    "PROTOCOL_TLSv1",
    "PROTOCOL_SSLv",
    "TLSVersion.",
    "from ssl import",
    "from_pretrained",
    "hf_hub_download",
    "snapshot_download",
    "load_dataset",
)
_PICKLERS = ("pickle", "cPickle", "_pickle", "dill", "cloudpickle")
_UNSAFE_CALLS = frozenset(
    {f"{m}.{f}" for m in _PICKLERS for f in ("load", "loads", "Unpickler")}
    | {"joblib.load", "sklearn.externals.joblib.load", "pandas.read_pickle", "yaml.unsafe_load"}
    | {"yaml.unsafe_load_all"}
)
_SAFE_LOADERS = ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader")
_VERIFY_KEYWORDS = frozenset({"verify", "verify_ssl", "ssl_verify", "verify_certs"})
_WEAK_PROTOCOLS = frozenset(
    {"PROTOCOL_TLSv1", "PROTOCOL_TLSv1_1", "PROTOCOL_SSLv2", "PROTOCOL_SSLv3"}
)
_WEAK_VERSIONS = frozenset({"TLSv1", "TLSv1_1", "SSLv3"})
_HUB_CALLS = ("from_pretrained", "hf_hub_download", "snapshot_download", "load_dataset")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_URL = re.compile(r"http://(\[[^\]]*\]|[A-Za-z0-9$][^\s/\"'<>:?#\\`)]*)", re.IGNORECASE)
_LOOPBACK = re.compile(r"^(?:localhost|.*\.localhost|127(?:\.\d+){3}|0\.0\.0\.0|\[::1?\])$")
_IDENTIFIER_HOSTS = (
    "json-schema.org",
    "www.w3.org",
    "w3.org",
    "schemas.xmlsoap.org",
    "schemas.microsoft.com",
    "schemas.android.com",
    "purl.org",
    "xmlns.com",
    "maven.apache.org",
    "ns.adobe.com",
)


def url_is_plain_remote(host: str) -> bool:
    """Whether an ``http://`` URL's host is neither loopback nor a namespace identifier
    (``json-schema.org``, ``www.w3.org``... name formats, nothing is fetched)."""
    host = host.lower().rstrip(".")
    return not (_LOOPBACK.match(host) or host in _IDENTIFIER_HOSTS or host.startswith("$"))


def plain_urls(text: str) -> list[tuple[int, str]]:
    """``(offset, url-host)`` of each plain remote ``http://`` URL in ``text``."""
    return [
        (m.start(), m.group(1))
        for m in _URL.finditer(text)
        if m.group(1) and url_is_plain_remote(m.group(1))
    ]


def is_settings_module(file: RepoFile) -> bool:
    """Whether a ``.py`` file is named like a settings module (tests are not)."""
    stem = file.name.removesuffix(".py")
    if stem.startswith("test_"):
        return False
    return stem in ("settings", "config", "configuration") or stem.endswith(
        ("_settings", "_config")
    )


@record(frozen=False)
class PythonEvidence:
    """What the pass found, as hits per concern, and the files it could not parse."""

    unsafe_loads: list[Hit] = field(default_factory=list)
    hub_unpinned: list[Hit] = field(default_factory=list)
    tls_verify_off: list[Hit] = field(default_factory=list)
    weak_tls: list[Hit] = field(default_factory=list)
    plain_http: list[Hit] = field(default_factory=list)
    files: int = 0
    unparsed: list[str] = field(default_factory=list)


def read_python(repo: RepoFiles) -> PythonEvidence:
    """Parse every relevant ``.py`` file of ``repo`` once and collect the evidence."""
    found = PythonEvidence()
    for file in repo.select(".py"):
        found.files += 1
        text = repo.text(file)
        if not text:
            continue
        settings = is_settings_module(file)
        if not (any(word in text for word in _KEYWORDS) or (settings and "http://" in text)):
            continue
        try:
            tree = ast.parse(text, filename=file.rel)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            repo.unparsed[file.rel] = f"invalid Python: {str(exc).splitlines()[0][:120]}"
            found.unparsed.append(file.rel)
            continue
        _Visitor(file.rel, found, settings).visit_tree(tree)
    return found


class _Visitor:
    """Walks one module's tree, resolving names through the module's imports."""

    def __init__(self, rel: str, found: PythonEvidence, settings: bool) -> None:
        self.rel = rel
        self.found = found
        self.settings = settings
        self.aliases: dict[str, str] = {}

    def hit(self, bucket: list[Hit], node: ast.AST, what: str) -> None:
        line = getattr(node, "lineno", None)
        bucket.append(Hit(f"{self.rel}:{line} {what}", Location(self.rel, line)))

    def visit_tree(self, tree: ast.Module) -> None:
        docstrings: set[int] = set()
        nodes = list(ast.walk(tree))
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0]
                    )
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                docstrings.add(id(node.value))
        handlers: dict[type[ast.AST], Callable[[ast.AST], None]] = {
            ast.Call: self._call,  # type: ignore[dict-item]
            ast.Attribute: self._attribute,  # type: ignore[dict-item]
            ast.Name: self._name,  # type: ignore[dict-item]
            ast.Assign: self._assign,  # type: ignore[dict-item]
        }
        for node in nodes:
            handler = handlers.get(type(node))
            if handler is not None:
                handler(node)
            elif (
                self.settings
                and isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
            ):
                for _, host in plain_urls(node.value):
                    self.hit(self.found.plain_http, node, f"http://{host}")

    def dotted(self, node: ast.AST) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ".".join(reversed(parts))
        parts.append(self.aliases.get(node.id, node.id))
        return ".".join(reversed(parts))

    def _call(self, node: ast.Call) -> None:
        name = self.dotted(node.func)
        keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
        if _is_const(keywords.get("trust_remote_code"), value=True):
            self.hit(self.found.unsafe_loads, node, "trust_remote_code=True")
        for key in _VERIFY_KEYWORDS & keywords.keys():
            if _is_const(keywords[key], value=False):
                self.hit(self.found.tls_verify_off, node, f"{key}=False")
        if name.endswith("_create_unverified_context"):
            self.hit(self.found.tls_verify_off, node, "ssl._create_unverified_context()")
        unsafe = self._unsafe_load(name, node, keywords)
        if unsafe:
            self.hit(self.found.unsafe_loads, node, unsafe)
        if name.rsplit(".", 1)[-1] in _HUB_CALLS:
            self._hub(name, node, keywords)

    def _unsafe_load(self, name: str, node: ast.Call, keywords: dict[str, ast.expr]) -> str:
        if name in _UNSAFE_CALLS:
            return name
        if name == "torch.load" and not _is_const(keywords.get("weights_only"), value=True):
            return "torch.load without weights_only=True"
        if name == "numpy.load" and _is_const(keywords.get("allow_pickle"), value=True):
            return "numpy.load(allow_pickle=True)"
        if name in ("yaml.load", "yaml.load_all"):
            loader = keywords.get("Loader") or (node.args[1] if len(node.args) > 1 else None)
            if loader is None or not self.dotted(loader).endswith(_SAFE_LOADERS):
                return f"{name} without a safe loader"
        if name.endswith("load_model") and _is_const(keywords.get("safe_mode"), value=False):
            return "load_model(safe_mode=False)"
        return ""

    def _hub(self, name: str, node: ast.Call, keywords: dict[str, ast.expr]) -> None:
        first = node.args[0] if node.args else None
        for key in ("pretrained_model_name_or_path", "repo_id", "path"):
            first = first or keywords.get(key)
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            return
        if not _HUB_ID.match(first.value):
            return
        revision = keywords.get("revision")
        if revision is not None and not isinstance(revision, ast.Constant):
            return  # a revision computed at run time: cannot judge, assume it pins
        if (
            revision is not None
            and isinstance(revision.value, str)
            and _COMMIT.match(revision.value)
        ):
            return
        short = name.rsplit(".", 1)[-1]
        self.hit(self.found.hub_unpinned, node, f"{short}({first.value!r})")

    def _attribute(self, node: ast.Attribute) -> None:
        if node.attr == "CERT_NONE":
            self.hit(self.found.tls_verify_off, node, "ssl.CERT_NONE")
        elif node.attr in _WEAK_PROTOCOLS or (
            node.attr in _WEAK_VERSIONS and self.dotted(node).endswith(f"TLSVersion.{node.attr}")
        ):
            self.hit(self.found.weak_tls, node, self.dotted(node))

    def _name(self, node: ast.Name) -> None:
        target = self.aliases.get(node.id, "")
        if target == "ssl.CERT_NONE":
            self.hit(self.found.tls_verify_off, node, "ssl.CERT_NONE")
        elif target.startswith("ssl.") and target.rsplit(".", 1)[-1] in _WEAK_PROTOCOLS:
            self.hit(self.found.weak_tls, node, target)

    def _assign(self, node: ast.Assign) -> None:
        if _is_const(node.value, value=False) and any(
            isinstance(t, ast.Attribute) and t.attr == "check_hostname" for t in node.targets
        ):
            self.hit(self.found.tls_verify_off, node, "check_hostname = False")


def _is_const(node: ast.expr | None, *, value: bool) -> bool:
    return isinstance(node, ast.Constant) and node.value is value
