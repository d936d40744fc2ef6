"""Prompt-injection detection, tier 2: a small linear classifier in pure Python.

:class:`InjectionClassifier` scores a view of a text (the guard hands it the ``text``
and ``decoded`` views of :func:`ramparts.guard.normalize.normalize`, so it reads through
the same evasions as the rules: zero-width and tag characters, homoglyphs, spaced-out
letters, base64 and hex payloads) with a logistic regression over binary features:

* the words of the lower-cased text (``\\w+`` runs) and each pair of adjacent words;
* the character n-grams of each word with a space on each side (``FeatureSpec.chars``;
  4 in the shipped model: ``" ign"``, ``"igno"``, ..., ``"ore "``), so that a misspelt,
  inflected or partly disguised word still shares most of its pieces with the word;
* optionally (``FeatureSpec.prefix``; off in the shipped model, where it cost more
  false positives on hard negatives than it gained), each word longer than a few
  letters cut to its first few (``ignor``), and each pair of adjacent words in that form.

Each feature the model knows is weighted by its inverse document frequency in the
training set and the vector is scaled to unit length over those features (TF-IDF with
binary term frequency); features the model does not know are ignored, as a TF-IDF
vectoriser ignores words outside its vocabulary. The score is
``sigmoid(intercept + sum(w * idf) / sqrt(sum(idf ** 2) + shrink))`` over the features
present: ``shrink`` (a constant of the model) keeps short texts, which carry little
evidence, nearer the intercept.
The ROT13 view is not scored: ordinary text read as ROT13 is gibberish that a
vocabulary model cannot judge (the rules still read it).

The model ships inside the package (``data/injection-classifier.json.gz``: gzip'd JSON
with the feature settings, the intercept, and per feature its weight times its idf,
and its idf); ``data/README.md`` is its data card: sources and licences, splits, the
training command, metrics and limits. The intercept is shifted at training time so
that a score of 0.75 (the default threshold of
:class:`ramparts.guard.injection.InjectionGuard`) is the operating point chosen on the
validation split. ``benchmarks/injection/train.py`` trains it, featurising with
:func:`features` from here, so training and inference featurise alike.

Scoring needs no third-party package: a 1 KB prompt costs a regular-expression pass,
a few hundred set insertions (each word's n-grams are cached), one set intersection
with the vocabulary and two integer sums.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import itertools
import json
import math
import re
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ramparts.core.records import record
from ramparts.guard.interface import GuardConfigError

__all__ = [
    "FORMAT",
    "MODEL_NAME",
    "ClassifierModel",
    "FeatureSpec",
    "InjectionClassifier",
    "default_classifier",
    "features",
    "load_model",
]

FORMAT = "ramparts.injection-classifier/1"
"""The ``format`` field of a model file this module reads."""
MODEL_NAME = "injection-classifier.json.gz"
"""The shipped model's file name under ``ramparts/guard/data/``."""

_WORD = re.compile(r"\w+")
_STEM = "~"  # prefix of cut-word features: never part of a \w+ word
_CHAR = "#"  # prefix of character n-gram features, likewise
_SCALE = 10**8
"""Weights and squared idfs are summed as integers in units of 1e-8 (the model file
stores four decimals)."""


@record
class FeatureSpec:
    """Which features a model uses: word n-gram orders (1 and/or 2), the length words
    are cut to for the cut-word unigrams and bigrams (0 for none), and the length of the
    character n-grams of words (3, 4 or 5; 0 for none)."""

    word_ngrams: tuple[int, ...] = (1, 2)
    prefix: int = 0
    chars: int = 0

    def __post_init__(self) -> None:
        if not self.word_ngrams or not set(self.word_ngrams) <= {1, 2}:
            raise GuardConfigError(f"word n-gram orders {self.word_ngrams} are not 1 and/or 2")
        if not 0 <= self.prefix <= 32:
            raise GuardConfigError(f"prefix length {self.prefix} is outside 0..32")
        if self.chars not in (0, 3, 4, 5):
            raise GuardConfigError(f"character n-gram length {self.chars} is not 0, 3, 4 or 5")


def features(text: str, spec: FeatureSpec) -> set[str]:
    """The distinct features of ``text`` (one view, already normalised)."""
    words = _WORD.findall(text.lower())
    found: set[str] = set()
    if 1 in spec.word_ngrams:
        found.update(words)
    if 2 in spec.word_ngrams:
        found.update(map(" ".join, itertools.pairwise(words)))
    if spec.prefix:
        # Only words longer than the cut make cut features (a short word's would
        # repeat its word feature); a pair counts if either of its words was cut.
        size = spec.prefix
        long = [len(word) > size for word in words]
        cut = [_STEM + word[:size] for word in words]
        found.update(c for c, is_long in zip(cut, long, strict=True) if is_long)
        found.update(
            f"{a} {b}"
            for a, b, la, lb in zip(cut, cut[1:], long, long[1:], strict=False)
            if la or lb
        )
    if spec.chars:
        n = spec.chars
        for word in set(words):
            found.update(_char_grams(word, n) if len(word) <= _CACHED_WORD else _grams(word, n))
    return found


_CACHED_WORD = 40
"""Longer words (a base64 blob, a hash) are cut into n-grams afresh each time: cached,
a stream of distinct long words would hold memory in proportion to their length."""


@functools.lru_cache(maxsize=1 << 16)
def _char_grams(word: str, n: int) -> tuple[str, ...]:
    """:func:`_grams`, cached: prompts repeat the same few thousand words, and cutting
    them costs more than looking them up."""
    return _grams(word, n)


def _grams(word: str, n: int) -> tuple[str, ...]:
    """The character ``n``-grams of ``word`` with a space on each side (marking where it
    starts and ends), as features."""
    padded = f" {word} "
    return tuple(_CHAR + padded[i : i + n] for i in range(len(padded) - n + 1))


@record
class ClassifierModel:
    """A trained model: feature settings, intercept, and per feature of its vocabulary
    the weight times the idf, and the idf."""

    spec: FeatureSpec
    intercept: float
    shrink: float
    """Added to the squared length before scaling: short texts, with little evidence,
    stay nearer the intercept."""
    weights: MappingProxyType[str, float]
    """Per feature, its logistic-regression weight times its idf."""
    idf: MappingProxyType[str, float]
    """Per feature, its inverse document frequency in the training set."""
    sha256: str
    """SHA-256 of the file the model was read from (the data card records it)."""
    metadata: MappingProxyType[str, Any]

    def __post_init__(self) -> None:
        if not math.isfinite(self.intercept):
            raise GuardConfigError("injection classifier: the intercept is not a finite number")
        if not (math.isfinite(self.shrink) and self.shrink >= 0):
            raise GuardConfigError("injection classifier: the shrinkage is not a number >= 0")
        if not self.weights:
            raise GuardConfigError("injection classifier: the model has no weights")
        if self.weights.keys() != self.idf.keys():
            raise GuardConfigError("injection classifier: weights and idf differ in features")
        if not all(math.isfinite(w) for w in self.weights.values()):
            raise GuardConfigError("injection classifier: a weight is not a finite number")
        if not all(math.isfinite(v) and v > 0 for v in self.idf.values()):
            raise GuardConfigError("injection classifier: an idf is not a positive number")

    @classmethod
    def from_bytes(cls, blob: bytes) -> ClassifierModel:
        """A model from the bytes of a model file (gzip'd JSON)."""
        digest = hashlib.sha256(blob).hexdigest()
        try:
            doc = json.loads(gzip.decompress(blob))
        except (OSError, EOFError, ValueError) as exc:
            raise GuardConfigError(f"injection classifier: unreadable model file: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise GuardConfigError(f"injection classifier: not a {FORMAT} model file")
        try:
            raw_spec = doc["features"]
            spec = FeatureSpec(
                word_ngrams=tuple(int(n) for n in raw_spec["word_ngrams"]),
                prefix=int(raw_spec["prefix"]),
                chars=int(raw_spec.get("chars", 0)),
            )
            intercept = float(doc["intercept"])
            shrink = float(doc.get("shrink", 0.0))
            vocabulary = [str(f) for f in doc["vocabulary"]]
            weights = dict(zip(vocabulary, map(float, doc["weights"]), strict=True))
            idf = dict(zip(vocabulary, map(float, doc["idf"]), strict=True))
            metadata = dict(doc.get("metadata", {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise GuardConfigError(f"injection classifier: malformed model file: {exc!r}") from exc
        if len(weights) != len(vocabulary):
            raise GuardConfigError("injection classifier: a feature is listed twice")
        return cls(
            spec,
            intercept,
            shrink,
            MappingProxyType(weights),
            MappingProxyType(idf),
            digest,
            MappingProxyType(metadata),
        )

    @classmethod
    def from_file(cls, path: Path) -> ClassifierModel:
        """A model from a model file."""
        try:
            blob = path.read_bytes()
        except OSError as exc:
            raise GuardConfigError(f"injection classifier: cannot read {path}: {exc}") from exc
        return cls.from_bytes(blob)


def load_model(path: Path | None = None) -> ClassifierModel:
    """The model at ``path``, or the one shipped in the package."""
    if path is not None:
        return ClassifierModel.from_file(path)
    blob = resources.files("ramparts.guard").joinpath("data", MODEL_NAME).read_bytes()
    return ClassifierModel.from_bytes(blob)


class InjectionClassifier:
    """Scores one view of a text with a :class:`ClassifierModel` (tier 2)."""

    name = "classifier"
    views = frozenset({"text", "decoded"})
    """The views of :func:`ramparts.guard.normalize.normalize` the guard hands it."""
    __slots__ = ("_intercept", "_model", "_shrink", "_squares", "_weights")

    def __init__(self, model: ClassifierModel) -> None:
        self._model = model
        self._intercept = model.intercept
        self._shrink = model.shrink
        # Plain dicts (a keys view intersects a set at C speed) of integers: fixed-point
        # sums are exact, so a score does not depend on the order of the set of features
        # (which string hashing changes from process to process), and they cost far less
        # than math.fsum.
        self._weights: dict[str, int] = {f: round(w * _SCALE) for f, w in model.weights.items()}
        self._squares: dict[str, int] = {f: round(v * v * _SCALE) for f, v in model.idf.items()}

    @property
    def model(self) -> ClassifierModel:
        """The model this classifier scores with."""
        return self._model

    def logit(self, text: str) -> float:
        """The decision value of ``text`` (positive leans towards injection)."""
        present = self._weights.keys() & features(text, self._model.spec)
        if not present:
            return self._intercept
        total = sum(map(self._weights.__getitem__, present)) / _SCALE
        length = math.sqrt(sum(map(self._squares.__getitem__, present)) / _SCALE + self._shrink)
        return self._intercept + total / length

    def score(self, text: str) -> float:
        """A score in [0, 1] for ``text`` (one view): 0.75 and above is an injection at
        the operating point chosen on validation."""
        z = self.logit(text)
        # Guard math.exp against overflow on extreme decision values.
        if z < -60.0:
            return 0.0
        if z > 60.0:
            return 1.0
        return 1.0 / (1.0 + math.exp(-z))


@functools.cache
def default_classifier() -> InjectionClassifier:
    """The classifier with the shipped model, loaded once per process."""
    return InjectionClassifier(load_model())
