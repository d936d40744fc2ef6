"""Which globals a pickle may name: an allowlist decides, a denylist grades.

A pickle can only run code through the callables it imports (``GLOBAL``, ``INST``,
``STACK_GLOBAL``, ``EXT``). A global is **allowed** when it is on the allowlist of
reconstruction functions and data classes (PyTorch tensor rebuilds, NumPy arrays,
collections, datetime, common scikit-learn/XGBoost/LightGBM estimators); anything else
is a finding that names it. The denylist only decides the severity: names known to run
commands, import or evaluate code, touch files or the network, or re-enter a loader are
**dangerous**, the rest **unknown**.

The denylist matches module roots (``os`` covers ``os.path``), exact modules inside
otherwise harmless packages (``numpy.testing``, ``torch.serialization``), final name
parts (``system``, ``load``, ``Popen``...) and dunder attribute walks
(``Foo.__init__.__globals__``), and it sees through the Python 2 names that the
unpickler renames (``__builtin__``, ``copy_reg``, ``commands``).

A user policy extends the allowlist with exact names (``pkg.Class``) and patterns
(``pkg.*``; a pattern never matches a dotted attribute walk). It cannot allow a
denylisted name, except through the deliberately named ``unsafe_allow``, which warns.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

from ramparts.core.records import field, record
from ramparts.errors import ConfigError
from ramparts.scan.models.pickle_vm import ArgCheck, is_node

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, Final

__all__ = [
    "ARG_CHECKS",
    "DEFAULT_POLICY",
    "PicklePolicy",
    "UnsafePolicyWarning",
    "Verdict",
    "load_policy",
]


class Verdict(enum.Enum):
    """How a named global is judged."""

    ALLOWED = "allowed"
    UNKNOWN = "unknown"
    DANGEROUS = "dangerous"

    @property
    def rank(self) -> int:
        """0 for allowed, 1 for unknown, 2 for dangerous."""
        return _RANK[self]


_RANK = {Verdict.ALLOWED: 0, Verdict.UNKNOWN: 1, Verdict.DANGEROUS: 2}


class UnsafePolicyWarning(UserWarning):
    """A policy trusts globals that the denylist knows to be dangerous."""


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
_TORCH_STORAGES = tuple(
    f"{kind}Storage"
    for kind in (
        "Float",
        "Double",
        "Half",
        "BFloat16",
        "Long",
        "Int",
        "Short",
        "Char",
        "Byte",
        "Bool",
        "ComplexFloat",
        "ComplexDouble",
        "QInt8",
        "QUInt8",
        "QInt32",
        "QUInt4x2",
        "QUInt2x4",
        "Untyped",
    )
)
_TORCH_DTYPES = (
    "float32",
    "float16",
    "bfloat16",
    "float64",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex32",
    "complex64",
    "complex128",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
)

# Reconstruction helpers and data classes: they rebuild values, they do no I/O, import
# nothing and run no code given to them. Curated: an entry here wins over the denylist,
# which lets safe helpers live in dangerous modules (torch.serialization._get_layout).
_BUILTIN_ALLOW: Final = _names(
    (
        "torch._utils",
        (
            "_rebuild_tensor",
            "_rebuild_tensor_v2",
            "_rebuild_tensor_v3",
            "_rebuild_parameter",
            "_rebuild_parameter_with_state",
            "_rebuild_sparse_tensor",
            "_rebuild_sparse_csr_tensor",
            "_rebuild_nested_tensor",
            "_rebuild_qtensor",
            "_rebuild_meta_tensor_no_storage",
            "_rebuild_wrapper_subclass",
            "_rebuild_device_tensor_from_numpy",
            "_rebuild_device_tensor_from_cpu_tensor",
        ),
    ),
    ("torch._tensor", ("_rebuild_from_type", "_rebuild_from_type_v2")),
    (
        "torch",
        (
            "Size",
            "device",
            "dtype",
            "layout",
            "memory_format",
            "Tensor",
            "per_tensor_affine",
            "per_channel_affine",
            "per_tensor_symmetric",
            "per_channel_symmetric",
            "contiguous_format",
            "channels_last",
            "channels_last_3d",
            "preserve_format",
            "strided",
            "sparse_coo",
            "sparse_csr",
            *_TORCH_DTYPES,
            *_TORCH_STORAGES,
        ),
    ),
    ("torch.storage", ("UntypedStorage", "TypedStorage")),  # not _load_from_bytes: a loader
    ("torch.nn.parameter", ("Parameter", "Buffer")),
    ("torch.serialization", ("_get_layout",)),
    (
        "torch.jit._pickle",  # TorchScript archives' constants.pkl and data.pkl
        (
            "build_intlist",
            "build_tensorlist",
            "build_doublelist",
            "build_boollist",
            "build_tensor_from_id",
            "restore_type_tag",
        ),
    ),
    ("collections", ("OrderedDict", "defaultdict", "deque", "Counter")),
    ("builtins", _SAFE_BUILTINS),
    ("__builtin__", (*_SAFE_BUILTINS, "xrange", "unicode", "long")),  # protocols 0-2 spelling
    ("copyreg", ("_reconstructor", "__newobj__", "__newobj_ex__")),
    ("copy_reg", ("_reconstructor",)),
    ("_codecs", ("encode",)),  # protocols 0-2 write bytes as encode(text, 'latin1'): checked
    ("datetime", ("datetime", "date", "time", "timedelta", "timezone")),
    ("decimal", ("Decimal",)),
    ("fractions", ("Fraction",)),
    ("uuid", ("UUID",)),
    ("pathlib", ("PurePath", "PurePosixPath", "PureWindowsPath")),
    (
        "numpy",
        (
            "ndarray",
            "dtype",
            "matrix",
            "generic",
            "bool_",
            "float16",
            "float32",
            "float64",
            "longdouble",
            "complex64",
            "complex128",
            "int8",
            "int16",
            "int32",
            "int64",
            "uint8",
            "uint16",
            "uint32",
            "uint64",
            "datetime64",
            "timedelta64",
            "str_",
            "bytes_",
            "void",
            "object_",
        ),
    ),
    ("numpy.core.multiarray", ("_reconstruct", "scalar")),
    ("numpy._core.multiarray", ("_reconstruct", "scalar")),
    ("numpy.core.numeric", ("_frombuffer",)),
    ("numpy._core.numeric", ("_frombuffer",)),
    ("numpy.ma", ("MaskedArray",)),
    ("numpy.ma.core", ("_mareconstruct", "MaskedArray")),
    ("numpy.random._pickle", ("__randomstate_ctor", "__bit_generator_ctor", "__generator_ctor")),
    ("numpy.random", ("RandomState", "Generator", "PCG64", "MT19937")),
    ("numpy.random._mt19937", ("MT19937",)),
    ("numpy.random._pcg64", ("PCG64", "PCG64DXSM")),
    ("numpy.random._philox", ("Philox",)),
    ("numpy.random._sfc64", ("SFC64",)),
    ("numpy.random.bit_generator", ("SeedSequence", "__pyx_unpickle_SeedSequence")),
    ("scipy.sparse._csr", ("csr_matrix", "csr_array")),
    ("scipy.sparse._csc", ("csc_matrix", "csc_array")),
    ("scipy.sparse._coo", ("coo_matrix", "coo_array")),
    ("scipy.sparse.csr", ("csr_matrix",)),
    ("scipy.sparse.csc", ("csc_matrix",)),
    ("pandas.core.frame", ("DataFrame",)),
    ("pandas.core.series", ("Series",)),
    ("pandas.core.indexes.base", ("_new_Index", "Index")),
    ("pandas.core.indexes.range", ("RangeIndex",)),
    ("pandas.core.internals.managers", ("BlockManager", "SingleBlockManager")),
    ("pandas.core.internals.blocks", ("new_block",)),
    ("pandas._libs.internals", ("_unpickle_block",)),
    ("joblib.numpy_pickle", ("NumpyArrayWrapper", "NDArrayWrapper", "ZNDArrayWrapper")),
    ("sklearn.utils._bunch", ("Bunch",)),
    ("sklearn.tree._tree", ("Tree",)),
    ("xgboost.core", ("Booster",)),
    ("xgboost.sklearn", ("XGBClassifier", "XGBRegressor", "XGBRanker")),
    ("lightgbm.basic", ("Booster",)),
    ("lightgbm.sklearn", ("LGBMClassifier", "LGBMRegressor", "LGBMRanker")),
)

# Modules of data-holding classes rebuilt through copyreg and __setstate__. A built-in
# pattern matches class names only (CapWords), never a function or a submodule.
_BUILTIN_PATTERNS: Final = (
    "sklearn.linear_model._*.*",
    "sklearn.ensemble._*.*",
    "sklearn.ensemble._hist_gradient_boosting.*.*",
    "sklearn.tree._classes.*",
    "sklearn.svm._classes.*",
    "sklearn.neighbors._*.*",
    "sklearn.naive_bayes.*",
    "sklearn.cluster._*.*",
    "sklearn.decomposition._*.*",
    "sklearn.preprocessing._*.*",
    "sklearn.feature_extraction.text.*",
    "sklearn.feature_extraction._dict_vectorizer.*",
    "sklearn.feature_selection._*.*",
    "sklearn.pipeline.*",
    "sklearn.compose._*.*",
    "sklearn.impute._*.*",
    "sklearn.dummy.*",
    "sklearn.neural_network._*.*",
    "sklearn.calibration.*",
    "sklearn.model_selection._search.*",
    "sklearn.multiclass.*",
    "sklearn._loss.*.*",
    "numpy.dtypes.*",
    "torch.nn.modules.*.*",
)
# Callables that only wrap another one: their verdict follows what they wrap.
_WRAPPERS: Final = frozenset({"functools.partial", "functools.partialmethod", "_functools.partial"})
# TorchScript classes are compiled from the archive's code/ (TorchScript, not Python);
# their load-time methods are reported by the TorchScript code check.
_TORCHSCRIPT_PATTERN: Final = "__torch__.*"


# Patterns are compiled on first use: start-up time is most of a small file's scan.
@functools.cache
def _capwords() -> re.Pattern[str]:
    return re.compile(r"^_?[A-Z][A-Za-z0-9_]*$")


# Modules that run commands, import or evaluate code, touch files or the network, or
# re-enter a loader. A root matches every submodule.
_DANGEROUS_ROOTS: Final = frozenset(
    {
        "os",
        "posix",
        "nt",
        "posixpath",
        "ntpath",
        "genericpath",
        "macpath",
        "subprocess",
        "_posixsubprocess",
        "commands",
        "popen2",
        "_winapi",
        "msvcrt",
        "winreg",
        "_winreg",
        "pty",
        "tty",
        "termios",
        "fcntl",
        "resource",
        "platform",
        "_osx_support",
        "_aix_support",
        "shutil",
        "sys",
        "runpy",
        "importlib",
        "imp",
        "_imp",
        "_frozen_importlib",
        "_frozen_importlib_external",
        "zipimport",
        "pkgutil",
        "pkg_resources",
        "marshal",
        "pickle",
        "_pickle",
        "cPickle",
        "pickletools",
        "dill",
        "cloudpickle",
        "joblib",
        "jsonpickle",
        "shelve",
        "dbm",
        "code",
        "codeop",
        "compileall",
        "py_compile",
        "zipapp",
        "pdb",
        "bdb",
        "trace",
        "timeit",
        "cProfile",
        "profile",
        "pydoc",
        "doctest",
        "unittest",
        "idlelib",
        "lib2to3",
        "distutils",
        "setuptools",
        "_distutils_hack",
        "site",
        "sitecustomize",
        "usercustomize",
        "ensurepip",
        "venv",
        "pip",
        "webbrowser",
        "antigravity",
        "socket",
        "_socket",
        "socketserver",
        "ssl",
        "_ssl",
        "select",
        "selectors",
        "http",
        "urllib",
        "urllib2",
        "urllib3",
        "requests",
        "httpx",
        "aiohttp",
        "ftplib",
        "smtplib",
        "smtpd",
        "poplib",
        "imaplib",
        "nntplib",
        "telnetlib",
        "xmlrpc",
        "xmlrpclib",
        "mailcap",
        "cgi",
        "cgitb",
        "multiprocessing",
        "_multiprocessing",
        "concurrent",
        "asyncio",
        "threading",
        "_thread",
        "thread",
        "signal",
        "atexit",
        "ctypes",
        "_ctypes",
        "cffi",
        "io",
        "_io",
        "_pyio",
        "tempfile",
        "glob",
        "fileinput",
        "linecache",
        "tarfile",
        "zipfile",
        "gzip",
        "bz2",
        "lzma",
        "sqlite3",
        "_sqlite3",
        "mmap",
        "types",
        "inspect",
        "gc",
        "weakref",
        "_weakref",
        "operator",
        "_operator",
        "functools",
        "_functools",
        "itertools",
        "builtins",
        "__builtin__",
        "__builtins__",
        "copyreg",
        "copy_reg",
        "pathlib",
        "keras",
        "tf_keras",
        "tensorflow",
        "mlflow",
        "jinja2",
        "yaml",
        "ruamel",
        "paramiko",
        "boto3",
        "botocore",
        "fsspec",
        "s3fs",
        "gcsfs",
        "smart_open",
        "IPython",
        "ipykernel",
        "jupyter_client",
    }
)
# Dangerous modules inside packages that are otherwise reconstruction-only.
_DANGEROUS_MODULES: Final = (
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "torch.hub",
    "torch.serialization",
    "torch.utils.collect_env",
    "torch.utils.cpp_extension",
    "torch.utils.data",
    "torch._C",
    "torch.jit",
    "torch.package",
    "torch._dynamo",
    "torch._inductor",
    "torch.distributed",
    "torch.multiprocessing",
    "torch._ops",
    "torch.ops",
    "torch.classes",
    "torch.library",
    "pandas.io",
    "pandas.core.computation",
    "logging.config",
    "logging.handlers",
    "scipy.io",
)
# Final name parts that run, load, write or reach out, in whatever module they live.
_DANGEROUS_NAMES: Final = frozenset(
    {
        "eval",
        "exec",
        "execfile",
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
        "help",
        "system",
        "popen",
        "Popen",
        "spawn",
        "spawnl",
        "spawnle",
        "spawnlp",
        "spawnlpe",
        "spawnv",
        "spawnve",
        "spawnvp",
        "spawnvpe",
        "execl",
        "execle",
        "execlp",
        "execlpe",
        "execv",
        "execve",
        "execvp",
        "execvpe",
        "fork",
        "forkpty",
        "kill",
        "killpg",
        "call",
        "check_call",
        "check_output",
        "getoutput",
        "getstatusoutput",
        "run",
        "run_path",
        "run_module",
        "runcode",
        "runsource",
        "runctx",
        "runeval",
        "runcall",
        "runstring",
        "load",
        "loads",
        "load_module",
        "import_module",
        "resolve_name",
        "attrgetter",
        "methodcaller",
        "itemgetter",
        "remove",
        "unlink",
        "rmdir",
        "rmtree",
        "removedirs",
        "rename",
        "renames",
        "chmod",
        "chown",
        "mkdir",
        "makedirs",
        "symlink",
        "truncate",
        "write",
        "writelines",
        "write_text",
        "write_bytes",
        "tofile",
        "fromfile",
        "loadtxt",
        "savetxt",
        "genfromtxt",
        "memmap",
        "load_library",
        "save",
        "savez",
        "savez_compressed",
        "dump",
        "read_pickle",
        "to_pickle",
        "from_file",
        "from_pretrained",
        "urlopen",
        "urlretrieve",
        "get_file",
        "FileHandler",
        "FunctionType",
        "CodeType",
        "LambdaType",
        "MethodType",
        "ModuleType",
        "_get_command_stdout",
        "_load_from_bytes",
        "_popen",
        "reduce",
        "finalize",
    }
)
_DANGEROUS_DUNDERS: Final = frozenset(
    {
        "__builtins__",
        "__globals__",
        "__code__",
        "__closure__",
        "__dict__",
        "__class__",
        "__subclasses__",
        "__bases__",
        "__base__",
        "__mro__",
        "__getattribute__",
        "__getattr__",
        "__setattr__",
        "__delattr__",
        "__loader__",
        "__spec__",
        "__func__",
        "__self__",
        "__call__",
        "__init_subclass__",
        "__reduce__",
        "__reduce_ex__",
        "__setstate__",
    }
)


def _is_dunder(part: str) -> bool:
    return len(part) > 4 and part.startswith("__") and part.endswith("__")


def _dangerous(module: str, name: str) -> bool:
    root = module.split(".", 1)[0]
    if root in _DANGEROUS_ROOTS:
        return True
    if any(module == m or module.startswith(m + ".") for m in _DANGEROUS_MODULES):
        return True
    parts = name.split(".")
    if parts[-1] in _DANGEROUS_NAMES or any(p in _DANGEROUS_DUNDERS for p in parts):
        return True
    # An attribute walk through a dunder (Cls.__init__.__globals__) reaches internals.
    return len(parts) > 1 and any(_is_dunder(p) for p in parts[1:])


def _renamed(module: str, name: str) -> tuple[str, str] | None:
    """The name the unpickler imports for a Python 2 spelling (protocols 0-2)."""
    import _compat_pickle  # noqa: PLC0415 (start-up time: its tables are large)

    mapped = _compat_pickle.NAME_MAPPING.get((module, name))
    if mapped is not None:
        return mapped
    new_module = _compat_pickle.IMPORT_MAPPING.get(module)
    return (new_module, name) if new_module is not None else None


def _check_codecs_encode(args: object) -> bool:
    """``_codecs.encode`` as protocols 0-2 write bytes: a constant text and 'latin1'."""
    if not isinstance(args, tuple):
        return not is_node(args)  # arguments let go by the interpreter were plain data
    if len(args) != 2 or any(is_node(a) for a in args):
        return False
    encoding = args[1]
    return not isinstance(encoding, str) or encoding in ("latin1", "latin-1", "iso-8859-1")


ARG_CHECKS: Final[Mapping[str, ArgCheck]] = {"_codecs.encode": _check_codecs_encode}
"""Allowed globals whose every call must pass a check of its (symbolic) arguments."""


@functools.cache
def _user_entry() -> re.Pattern[str]:
    return re.compile(r"^[A-Za-z_][\w]*(\.[\w*?\[\]]+)+$")


@record
class PicklePolicy:
    """The allowlist (exact names and glob patterns) plus the deliberately unsafe overrides.

    ``allow``/``allow_patterns`` extend the built-in allowlist; they never override the
    denylist. ``unsafe_allow`` does, name by name: building a policy with it warns.
    """

    allow: frozenset[str] = frozenset()
    allow_patterns: tuple[str, ...] = ()
    unsafe_allow: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for entry in (*self.allow, *self.allow_patterns, *self.unsafe_allow):
            if not _user_entry().match(entry):
                raise ConfigError(
                    f"pickle policy entry {entry!r} is not 'module.Name' or 'module.*'"
                )
        if self.unsafe_allow:
            warnings.warn(
                "pickle policy trusts denylisted globals: " + ", ".join(sorted(self.unsafe_allow)),
                UnsafePolicyWarning,
                stacklevel=3,
            )

    @property
    def arg_checks(self) -> Mapping[str, ArgCheck]:
        """Checks of call arguments for conditionally allowed globals (``_codecs.encode``)."""
        return ARG_CHECKS

    def judge(self, module: str, name: str) -> Verdict:
        """The verdict for ``module.name`` (and for the name Python 3 loads instead)."""
        verdict = self._judge(module, name)
        renamed = _renamed(module, name)
        if renamed is not None and renamed != (module, name):
            other = self._judge(*renamed)
            if other.rank > verdict.rank:
                return other
        return verdict

    def _judge(self, module: str, name: str) -> Verdict:  # noqa: PLR0911 - ordered rules
        dotted = f"{module}.{name}"
        if dotted in self.unsafe_allow or dotted in _BUILTIN_ALLOW:
            return Verdict.ALLOWED
        if dotted in _WRAPPERS:
            return Verdict.UNKNOWN  # dangerous when what it wraps is (judged by the scan)
        if _dangerous(module, name):
            return Verdict.DANGEROUS
        if dotted in self.allow:
            return Verdict.ALLOWED
        if "." in name:
            return Verdict.UNKNOWN  # patterns never match an attribute walk
        if _capwords().match(name) and any(
            fnmatch.fnmatchcase(dotted, p) for p in _BUILTIN_PATTERNS
        ):
            return Verdict.ALLOWED
        if fnmatch.fnmatchcase(dotted, _TORCHSCRIPT_PATTERN):
            return Verdict.ALLOWED
        if any(fnmatch.fnmatchcase(dotted, p) for p in self.allow_patterns):
            return Verdict.ALLOWED
        return Verdict.UNKNOWN

    def extended(self, allow: Iterable[str], unsafe_allow: Iterable[str] = ()) -> PicklePolicy:
        """A copy with more allowed names (``pkg.Class`` or ``pkg.*`` patterns)."""
        entries = [a.strip() for a in allow]
        exact = {a for a in entries if not any(c in a for c in "*?[")}
        patterns = tuple(a for a in entries if a not in exact)
        return PicklePolicy(
            allow=self.allow | exact,
            allow_patterns=self.allow_patterns + patterns,
            unsafe_allow=self.unsafe_allow | frozenset(a.strip() for a in unsafe_allow),
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PicklePolicy:
        """A policy from ``{"allow": [...], "unsafe_allow": [...]}``, or a ``pickle`` table."""
        table = data.get("pickle", data)
        if not isinstance(table, Mapping):
            raise ConfigError("pickle policy: the 'pickle' table must be a table")
        unknown = set(table) - {"allow", "unsafe_allow"}
        if unknown:
            raise ConfigError(f"pickle policy: unknown keys {sorted(unknown)}")
        allow = table.get("allow", [])
        unsafe = table.get("unsafe_allow", [])
        for key, value in (("allow", allow), ("unsafe_allow", unsafe)):
            if not (isinstance(value, list) and all(isinstance(a, str) for a in value)):
                raise ConfigError(f"pickle policy: '{key}' must be a list of strings")
        return DEFAULT_POLICY.extended(allow, unsafe)


DEFAULT_POLICY: Final = PicklePolicy()
"""The built-in policy: the curated allowlist, no user entries, no overrides."""


def load_policy(data: Mapping[str, Any] | Path) -> PicklePolicy:
    """A policy extending the default, from a mapping or a TOML file.

    The ``[pickle]`` table (or the top level) takes ``allow = ["pkg.Class", "pkg.*"]``
    and, for names the denylist would otherwise flag, ``unsafe_allow = [...]``.
    """
    if isinstance(data, Path):
        import tomllib  # noqa: PLC0415 (start-up time: a policy file is rare)

        try:
            data = tomllib.loads(data.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read pickle policy {data}: {exc}") from exc
    return PicklePolicy.from_mapping(data)
