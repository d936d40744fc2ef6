"""The pickle policy: an allowlist decides, a denylist grades, users extend with care."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.errors import ConfigError
from ramparts.scan.models.pickle_policy import (
    ARG_CHECKS,
    DEFAULT_POLICY,
    PicklePolicy,
    UnsafePolicyWarning,
    Verdict,
    load_policy,
)
from ramparts.scan.models.pickle_vm import UNKNOWN, Ref, Truncated

# Globals named by files that torch, numpy, scikit-learn and joblib write (listed from
# files their writers produced; see the benchmark corpus generator).
REAL_WORLD_ALLOWED = [
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch.FloatStorage",
    "torch.BFloat16Storage",
    "torch.HalfStorage",
    "torch.QInt8Storage",
    "torch.Size",
    "torch.device",
    "torch.float32",
    "torch.per_tensor_affine",
    "torch.serialization._get_layout",
    "torch.jit._pickle.build_intlist",
    "torch.nn.modules.linear.Linear",
    "torch.nn.modules.container.Sequential",
    "__torch__.torch.nn.modules.linear.Linear",
    "collections.OrderedDict",
    "collections.defaultdict",
    "builtins.set",
    "__builtin__.set",
    "__builtin__.xrange",
    "copy_reg._reconstructor",
    "copyreg.__newobj__",
    "_codecs.encode",
    "datetime.datetime",
    "decimal.Decimal",
    "uuid.UUID",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy._core.multiarray.scalar",
    "numpy._core.numeric._frombuffer",
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.float64",
    "numpy.dtypes.Float64DType",
    "numpy.ma.core._mareconstruct",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.dummy.DummyClassifier",
]


def split(dotted: str) -> tuple[str, str]:
    module, _, name = dotted.rpartition(".")
    return module, name


@pytest.mark.parametrize("dotted", REAL_WORLD_ALLOWED)
def test_what_real_model_files_name_is_allowed(dotted: str) -> None:
    assert DEFAULT_POLICY.judge(*split(dotted)) is Verdict.ALLOWED


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("os", "system"),
        ("os.path", "join"),
        ("posix", "system"),
        ("nt", "system"),
        ("posixpath", "expanduser"),
        ("_posixsubprocess", "fork_exec"),
        ("builtins", "getattr"),
        ("builtins", "type"),
        ("__builtin__", "eval"),
        ("__builtins__", "exec"),
        ("io", "open"),
        ("_io", "open"),
        ("pathlib", "Path"),
        ("pathlib", "Path.write_text"),
        ("commands", "getoutput"),  # Python 2 name, renamed to subprocess by the unpickler
        ("copyreg", "add_extension"),
        ("numpy.testing._private.utils", "runstring"),
        ("numpy", "fromfile"),
        ("numpy", "memmap"),
        ("numpy.ctypeslib", "load_library"),
        ("torch.serialization", "load"),
        ("torch.storage", "_load_from_bytes"),
        ("torch", "from_file"),
        ("torch.jit", "load"),
        ("torch.hub", "load"),
        ("pickle", "loads"),
        ("_pickle", "Unpickler"),
        ("cPickle", "loads"),
        ("dill", "loads"),
        ("cloudpickle", "loads"),
        ("joblib", "load"),
        ("bdb", "Bdb"),
        ("timeit", "Timer"),
        ("cProfile", "run"),
        ("trace", "Trace"),
        ("idlelib.run", "main"),
        ("lib2to3.main", "main"),
        ("distutils.spawn", "spawn"),
        ("setuptools.sandbox", "run_setup"),
        ("site", "main"),
        ("pydoc", "locate"),
        ("functools", "reduce"),
        ("operator", "attrgetter"),
        ("sklearn.linear_model._base", "np.load"),
        ("collections", "OrderedDict.__init__.__globals__"),
        ("mypkg", "Thing.__subclasses__"),
        ("mypkg", "system"),
        ("mypkg.util", "Popen"),
    ],
)
def test_dangerous_names(module: str, name: str) -> None:
    assert DEFAULT_POLICY.judge(module, name) is Verdict.DANGEROUS


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("mypkg.models", "Net"),
        ("__main__", "MyModel"),
        ("functools", "partial"),  # graded by what it wraps
        ("sklearn.linear_model._base", "LinearRegression.fit"),  # patterns: no attribute walks
        ("sklearn.linear_model._base", "make_dataset"),  # patterns: classes only
        ("numpy.core.multiarray", "frombuffer"),
        ("transformers.models.bert", "BertModel"),
    ],
)
def test_unknown_names(module: str, name: str) -> None:
    assert DEFAULT_POLICY.judge(module, name) is Verdict.UNKNOWN


def test_user_allow_extends_but_never_overrides_the_denylist() -> None:
    policy = load_policy({"pickle": {"allow": ["mypkg.*", "other.Model", "os.*", "os.system"]}})
    assert policy.judge("mypkg", "Net") is Verdict.ALLOWED
    assert policy.judge("mypkg.sub.deep", "helper") is Verdict.ALLOWED
    assert policy.judge("mypkg", "Net.__init__") is Verdict.DANGEROUS
    assert policy.judge("mypkg", "Net.method") is Verdict.UNKNOWN
    assert policy.judge("other", "Model") is Verdict.ALLOWED
    assert policy.judge("other", "Other") is Verdict.UNKNOWN
    assert policy.judge("os", "system") is Verdict.DANGEROUS
    assert DEFAULT_POLICY.judge("mypkg", "Net") is Verdict.UNKNOWN  # the default is unchanged


def test_unsafe_allow_overrides_one_name_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[pickle]\nunsafe_allow = ["os.system"]\n', encoding="utf-8")
    with pytest.warns(UnsafePolicyWarning, match="os.system"):
        policy = load_policy(path)
    assert policy.judge("os", "system") is Verdict.ALLOWED
    assert policy.judge("os", "popen") is Verdict.DANGEROUS


def test_the_policy_as_plain_mapping_without_a_table() -> None:
    policy = PicklePolicy.from_mapping({"allow": ["mypkg.Net"]})
    assert policy.judge("mypkg", "Net") is Verdict.ALLOWED


@pytest.mark.parametrize(
    "data",
    [
        {"pickle": {"allow": "mypkg.*"}},
        {"pickle": {"allow": [1]}},
        {"pickle": {"alow": ["mypkg.*"]}},
        {"pickle": {"allow": ["*"]}},
        {"pickle": {"allow": ["*.*"]}},
        {"pickle": {"allow": ["mypkg"]}},
        {"pickle": {"allow": ["my pkg.X"]}},
        {"pickle": ["allow"]},
    ],
)
def test_bad_policies_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        PicklePolicy.from_mapping(data)


def test_unreadable_policy_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[pickle\nallow = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read pickle policy"):
        load_policy(path)
    with pytest.raises(ConfigError):
        load_policy(tmp_path / "missing.toml")


def test_codecs_encode_argument_check() -> None:
    check = ARG_CHECKS["_codecs.encode"]
    assert check(("\u00e9", "latin1"))
    assert check((Truncated("abc", 10_000), "latin1"))
    assert check((UNKNOWN, UNKNOWN))  # values the interpreter let go were plain data
    assert check(UNKNOWN)
    assert not check(("bf", "rot13"))
    assert not check(("x",))
    assert not check((Ref("os", "system", "GLOBAL", 0), "latin1"))
    assert DEFAULT_POLICY.arg_checks is ARG_CHECKS
