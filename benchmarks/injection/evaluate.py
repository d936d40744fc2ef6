"""Detectors side by side on the injection corpora: per-corpus TPR or FPR, p50 latency.

Detectors compared (``DETECTORS``):

* ``keywords``: a keyword baseline, a short list of phrases (:data:`KEYWORDS`), matched
  case-insensitively in the raw text ("DAN" as a whole word, in capitals);
* ``tfidf-lr``: TF-IDF (word 1-2-grams, sublinear tf) + logistic regression
  (scikit-learn), trained on the same training split as ours, on the raw text, its C
  and threshold chosen on the validation split the same way as ours;
* ``rules``: :class:`ramparts.guard.injection.RuleDetector` alone (tier 1);
* ``classifier``: :class:`ramparts.guard.classifier.InjectionClassifier` alone (tier 2);
* ``rules+classifier``: both in one :class:`InjectionGuard`, as shipped (the highest score).

The ramparts detectors run through :meth:`InjectionGuard.check` with the default
threshold, so they see the views of the guard's normalisation, as in production; the
normalisation cache is cleared before every call, so each timing includes it. Timings
are wall-clock, one call per text, in this process; p50 is the median over a corpus.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from corpora import CORPORA, Sample

from ramparts.guard.classifier import InjectionClassifier
from ramparts.guard.injection import InjectionGuard, RuleDetector
from ramparts.guard.interface import GuardContext, Role
from ramparts.guard.normalize import normalize

KEYWORDS = (
    "ignore previous instructions",
    "ignore all previous instructions",
    "ignore the previous instructions",
    "disregard previous instructions",
    "system prompt",
    "jailbreak",
    "do anything now",
    "developer mode",
)
_DAN = re.compile(r"\bDAN\b")
_USER = GuardContext(role=Role.USER)


@dataclass(frozen=True, slots=True)
class Detector:
    """A name and a yes/no decision on one text."""

    name: str
    flags: Callable[[str], bool]


def keyword_flags(text: str) -> bool:
    """The keyword baseline."""
    low = " ".join(text.lower().split())
    return any(k in low for k in KEYWORDS) or _DAN.search(text) is not None


def guard_flags(guard: InjectionGuard) -> Callable[[str], bool]:
    """A guard's decision, the normalisation cache cleared first (so it is timed too)."""

    def flags(text: str) -> bool:
        normalize.cache_clear()
        return guard.check(text, _USER) is not None

    return flags


def detectors(classifier: InjectionClassifier, tfidf: Callable[[str], bool]) -> list[Detector]:
    """Every detector of the comparison, in report order."""
    rules = RuleDetector()
    return [
        Detector("keywords", keyword_flags),
        Detector("tfidf-lr", tfidf),
        Detector("rules", guard_flags(InjectionGuard(detectors=[rules]))),
        Detector("classifier", guard_flags(InjectionGuard(detectors=[classifier]))),
        Detector("rules+classifier", guard_flags(InjectionGuard(detectors=[rules, classifier]))),
    ]


def evaluate(
    found: Sequence[Detector], samples: Sequence[Sample], splits: Sequence[str]
) -> dict[str, Any]:
    """Per corpus of ``splits``: rows, kind, and per detector the share flagged
    (TPR on attacks, FPR on benign) and the p50 milliseconds per text."""
    out: dict[str, Any] = {}
    for corpus in CORPORA:
        rows = [s for s in samples if s.corpus == corpus.name and s.split in splits]
        if not rows:
            continue
        label = 1 if corpus.kind == "attack" else 0
        rows = [s for s in rows if s.label == label]
        entry: dict[str, Any] = {
            "kind": corpus.kind,
            "held_out": corpus.held_out,
            "rows": len(rows),
            "detectors": {},
        }
        for det in found:
            hits, times = 0, []
            for s in rows:
                start = time.perf_counter()
                hit = det.flags(s.text)
                times.append(time.perf_counter() - start)
                hits += hit
            entry["detectors"][det.name] = {
                "flagged": hits,
                "rate": round(hits / len(rows), 4),
                "p50_ms": round(statistics.median(times) * 1000, 4),
            }
        out[corpus.name] = entry
    return out


def latency_1kb(
    found: Sequence[Detector], texts: Sequence[str], repeat: int = 5
) -> dict[str, dict[str, float]]:
    """p50 and p90 wall milliseconds, and p50 CPU (thread) milliseconds, per call on
    ``texts`` (about 1 KB each), each timed ``repeat`` times. CPU time is what a busy
    machine does not inflate."""
    out: dict[str, dict[str, float]] = {}
    for det in found:
        walls, cpus = [], []
        for _ in range(repeat):
            for text in texts:
                cpu, start = time.thread_time(), time.perf_counter()
                det.flags(text)
                walls.append(time.perf_counter() - start)
                cpus.append(time.thread_time() - cpu)
        walls.sort()
        out[det.name] = {
            "p50_ms": round(statistics.median(walls) * 1000, 4),
            "p90_ms": round(walls[int(len(walls) * 0.9)] * 1000, 4),
            "p50_cpu_ms": round(statistics.median(cpus) * 1000, 4),
        }
    return out


def table(report: dict[str, Any], names: Sequence[str]) -> str:
    """The per-corpus results as a Markdown table."""
    head = ["corpus", "split", "kind", "rows", *[f"{n}" for n in names]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for split, corpora in report.items():
        for name, entry in corpora.items():
            metric = "TPR" if entry["kind"] == "attack" else "FPR"
            cells = [
                f"{entry['detectors'][n]['rate'] * 100:.1f}%"
                for n in names
                if n in entry["detectors"]
            ]
            lines.append(
                f"| {name} | {split} | {metric} | {entry['rows']} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def latency_table(report: dict[str, Any], names: Sequence[str]) -> str:
    """p50 milliseconds per text, per corpus and detector, as a Markdown table."""
    head = ["corpus", "split", *names]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for split, corpora in report.items():
        for name, entry in corpora.items():
            cells = [f"{entry['detectors'][n]['p50_ms']:.3f}" for n in names]
            lines.append(f"| {name} | {split} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
