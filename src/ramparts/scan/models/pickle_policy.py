"""Which globals a pickle may reference: an allowlist decides, a denylist grades.

A pickle can only run code through the callables it imports (GLOBAL, INST,
STACK_GLOBAL). A reference is **allowed** when it is on the allowlist of safe
reconstruction functions and classes (PyTorch tensor rebuilds, NumPy arrays,
collections, common estimators); anything else is a finding that names it. The
denylist only raises the severity of references known to run commands, import code
or touch files. A user policy may extend the allowlist, but cannot allow a denylisted
name except through the deliberately named ``unsafe_allow``.
"""

from __future__ import annotations

import enum
import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.errors import ConfigError

__all__ = ["DEFAULT_POLICY", "PicklePolicy", "Verdict", "load_policy"]


class Verdict(enum.Enum):
    """How a referenced global is judged."""

    ALLOWED = "allowed"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"


def _names(*groups: tuple[str, Iterable[str]]) -> frozenset[str]:
    return frozenset(f"{module}.{name}" for module, names in groups for name in names)


_SAFE_BUILTINS = (
    "set",
    "frozenset",
    "slice",
    "complex",
    "bytearray",
    "bytes",
    "range",
    "dict",
    "list",
    "tuple",
    "int",
    "float",
    "str",
    "bool",
    "object",
)

# Reconstruction helpers that only rebuild data: no I/O, no imports, no code.
_ALLOW = _names(
    (
        "torch._utils",
        (
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_sparse_tensor",
            "_rebuild_nested_tensor",
            "_rebuild_qtensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_wrapper_subclass",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_xla_tensor",
        ),
    ),
    ("torch._tensor", ("_rebuild_from_type", "_rebuild_from_type_v2")),
    (
        "torch",
        (
            "Size",
            "device",
            "dtype",
            "float32",
            "float16",
            "bfloat16",
            "float64",
            "int64",
            "int32",
            "int16",
            "int8",
            "uint8",
            "bool",
            "complex64",
            "complex128",
            "float8_e4m3fn",
            "float8_e5m2",
            "FloatStorage",
            "DoubleStorage",
            "HalfStorage",
            "BFloat16Storage",
            "LongStorage",
            "IntStorage",
            "ShortStorage",
            "CharStorage",
            "ByteStorage",
            "BoolStorage",
            "ComplexFloatStorage",
            "ComplexDoubleStorage",
            "QInt8Storage",
            "QUInt8Storage",
            "QInt32Storage",
            "UntypedStorage",
            "per_tensor_affine",
            "per_channel_affine",
            "contiguous_format",
            "channels_last",
            "strided",
            "sparse_coo",
        ),
    ),
    # not torch.storage._load_from_bytes: it calls torch.load on nested bytes
    ("torch.storage", ("UntypedStorage", "TypedStorage")),
    ("torch.nn.parameter", ("Parameter",)),
    (
        "torch.jit._pickle",
        (
            "build_intlist",
            "build_tensorlist",
            "build_doublelist",
            "build_boollist",
            "build_tensor_from_id",
            "restore_type_tag",
        ),
    ),
    ("torch.serialization", ("_get_layout",)),
    ("collections", ("OrderedDict", "defaultdict", "deque", "Counter")),
    ("builtins", _SAFE_BUILTINS),
    ("__builtin__", _SAFE_BUILTINS),  # protocols 0-2 spell builtins this way
    ("_codecs", ("encode",)),  # protocols 0-2 write bytes as _codecs.encode(text, 'latin1')
    ("copy_reg", ("_reconstructor",)),
    ("copyreg", ("_reconstructor", "__newobj__", "__newobj_ex__")),
    ("datetime", ("datetime", "date", "time", "timedelta", "timezone")),
    ("decimal", ("Decimal",)),
    ("fractions", ("Fraction",)),
    ("uuid", ("UUID",)),
    ("pathlib", ("PurePosixPath", "PureWindowsPath")),
    (
        "numpy",
        ("ndarray", "dtype", "float64", "float32", "int64", "int32", "bool_", "generic", "matrix"),
    ),
    ("numpy.core.multiarray", ("_reconstruct", "scalar")),
    ("numpy._core.multiarray", ("_reconstruct", "scalar")),
    ("numpy.core.numeric", ("_frombuffer",)),
    ("numpy._core.numeric", ("_frombuffer",)),
    ("numpy.ma.core", ("_mareconstruct", "MaskedArray")),
    ("numpy.random._pickle", ("__randomstate_ctor", "__bit_generator_ctor", "__generator_ctor")),
    ("numpy.random", ("RandomState", "Generator", "PCG64", "MT19937")),
    ("scipy.sparse._csr", ("csr_matrix",)),
    ("scipy.sparse._csc", ("csc_matrix",)),
    ("scipy.sparse._coo", ("coo_matrix",)),
    ("pandas.core.frame", ("DataFrame",)),
    ("pandas.core.series", ("Series",)),
    ("pandas.core.indexes.base", ("_new_Index", "Index")),
    ("pandas.core.internals.managers", ("BlockManager", "SingleBlockManager")),
    ("pandas._libs.internals", ("_unpickle_block",)),
    ("joblib.numpy_pickle", ("NumpyArrayWrapper", "NDArrayWrapper")),
    ("sklearn.utils._bunch", ("Bunch",)),
    ("sklearn.tree._tree", ("Tree",)),
    ("xgboost.core", ("Booster",)),
    ("xgboost.sklearn", ("XGBClassifier", "XGBRegressor", "XGBRanker")),
    ("lightgbm.basic", ("Booster",)),
    ("lightgbm.sklearn", ("LGBMClassifier", "LGBMRegressor", "LGBMRanker")),
)

# Estimator modules whose public classes are data holders rebuilt through
# copyreg._reconstructor and __setstate__ (never callables that act on the host).
_ALLOW_PATTERNS = (
    # TorchScript classes compiled from the archive's code/ (TorchScript, not Python);
    # their __setstate__ methods are reported by the TorchScript code check.
    "__torch__.*",
    "sklearn.linear_model._*.*",
    "sklearn.ensemble._*.*",
    "sklearn.tree._classes.*",
    "sklearn.svm._classes.*",
    "sklearn.neighbors._*.*",
    "sklearn.naive_bayes.*",
    "sklearn.cluster._*.*",
    "sklearn.decomposition._*.*",
    "sklearn.preprocessing._*.*",
    "sklearn.feature_extraction.text.*",
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.neural_network._multilayer_perceptron.*",
    "sklearn.calibration.*",
    "sklearn.model_selection._search.*",
    "sklearn._loss.loss.*",
    "sklearn._loss.link.*",
    "numpy.dtypes.*",
)

# Modules and names that run commands, import code, evaluate strings, open files,
# reach the network, or re-enter a loader. Matched on the module root and exact names.
_DANGEROUS_MODULES = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "subprocess",
        "_posixsubprocess",
        "_winapi",
        "pty",
        "shutil",
        "sys",
        "runpy",
        "importlib",
        "imp",
        "pkgutil",
        "zipimport",
        "marshal",
        "pickle",
        "_pickle",
        "cPickle",
        "dill",
        "cloudpickle",
        "joblib",
        "shelve",
        "code",
        "codeop",
        "pdb",
        "bdb",
        "trace",
        "timeit",
        "cProfile",
        "profile",
        "idlelib",
        "lib2to3",
        "distutils",
        "setuptools",
        "site",
        "ensurepip",
        "venv",
        "pip",
        "webbrowser",
        "socket",
        "_socket",
        "ssl",
        "http",
        "urllib",
        "urllib3",
        "requests",
        "httpx",
        "ftplib",
        "smtplib",
        "telnetlib",
        "xmlrpc",
        "multiprocessing",
        "concurrent",
        "asyncio",
        "threading",
        "_thread",
        "signal",
        "ctypes",
        "_ctypes",
        "cffi",
        "io",
        "_io",
        "tempfile",
        "glob",
        "fileinput",
        "linecache",
        "tarfile",
        "zipfile",
        "sqlite3",
        "types",
        "inspect",
        "gc",
        "weakref",
        "operator",
        "functools",
        "itertools",
        "builtins",
        "__builtin__",
        "__builtins__",
        "numpy.testing",
        "numpy.f2py",
        "numpy.distutils",
        "numpy.lib.npyio",
        "torch.hub",
        "torch.serialization",
        "torch.utils.collect_env",
        "torch.utils.cpp_extension",
        "torch._C",
        "torch.jit",
        "torch.package",
        "keras",
        "tensorflow",
        "mlflow",
        "pandas.io",
        "jinja2",
        "yaml",
        "aiohttp",
        "paramiko",
        "boto3",
    }
)
_DANGEROUS_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "system",
        "popen",
        "spawn",
        "execfile",
        "load",
        "loads",
        "run",
        "call",
        "check_output",
        "resolve_name",
        "import_module",
        "attrgetter",
        "methodcaller",
        "itemgetter",
        "partial",
        "FunctionType",
        "CodeType",
        "LambdaType",
    }
)


@dataclass(frozen=True, slots=True)
class PicklePolicy:
    """An allowlist (exact names and glob patterns) plus the deliberately unsafe overrides."""

    allow: frozenset[str] = _ALLOW
    allow_patterns: tuple[str, ...] = _ALLOW_PATTERNS
    unsafe_allow: frozenset[str] = field(default_factory=frozenset)

    def judge(self, module: str, name: str) -> Verdict:
        """The verdict for ``module.name`` (dangerous beats allowed, except unsafe_allow)."""
        dotted = f"{module}.{name}"
        if dotted in self.unsafe_allow or dotted in _ALLOW:
            # The built-in allowlist is curated: it may name safe helpers that live in
            # otherwise dangerous modules (torch.serialization._get_layout).
            return Verdict.ALLOWED
        if _dangerous(module, name):
            return Verdict.DANGEROUS
        if dotted in self.allow or any(fnmatch.fnmatchcase(dotted, p) for p in self.allow_patterns):
            return Verdict.ALLOWED
        return Verdict.UNKNOWN

    def extended(self, allow: Iterable[str], unsafe_allow: Iterable[str] = ()) -> PicklePolicy:
        """A copy with more allowed names (``pkg.Class`` or ``pkg.*`` patterns)."""
        exact = {a for a in allow if "*" not in a and "?" not in a}
        patterns = tuple(a for a in allow if a not in exact)
        return PicklePolicy(
            allow=self.allow | exact,
            allow_patterns=self.allow_patterns + patterns,
            unsafe_allow=self.unsafe_allow | frozenset(unsafe_allow),
        )


def _dangerous(module: str, name: str) -> bool:
    root = module.split(".", 1)[0]
    if module in _DANGEROUS_MODULES or root in _DANGEROUS_MODULES:
        return True
    if any(module.startswith(m + ".") or module == m for m in _DANGEROUS_MODULES if "." in m):
        return True
    leaf = name.rsplit(".", 1)[-1]
    return leaf in _DANGEROUS_NAMES


DEFAULT_POLICY = PicklePolicy()
"""The built-in policy: the allowlist above, no overrides."""


def load_policy(data: Mapping[str, Any] | Path) -> PicklePolicy:
    """A policy extending the default from a mapping or a TOML file.

    The ``[pickle]`` table takes ``allow = ["pkg.Class", "pkg.*"]`` and, for names the
    denylist would otherwise flag, ``unsafe_allow = [...]``.
    """
    if isinstance(data, Path):
        try:
            data = tomllib.loads(data.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read pickle policy {data}: {exc}") from exc
    table = data.get("pickle", data)
    allow = table.get("allow", [])
    unsafe = table.get("unsafe_allow", [])
    if not (isinstance(allow, list) and all(isinstance(a, str) for a in allow)):
        raise ConfigError("pickle policy: 'allow' must be a list of strings")
    if not (isinstance(unsafe, list) and all(isinstance(a, str) for a in unsafe)):
        raise ConfigError("pickle policy: 'unsafe_allow' must be a list of strings")
    return DEFAULT_POLICY.extended(allow, unsafe)
