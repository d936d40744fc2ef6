"""Model-file scanners side by side: ramparts, picklescan, modelscan, fickling, ModelAudit.

    python benchmarks/model_scan/run.py [--big] [--tools ramparts,picklescan,...]

1. Creates two virtualenvs beside this script if missing: ``.venv-corpus`` (torch
   2.13.0 CPU, numpy, scikit-learn, joblib, safetensors, keras, h5py, onnx, gguf) to
   build the corpus, and ``.venv-peers`` (picklescan, modelscan, fickling, modelaudit).
   Peers are never added to ramparts' own dependencies.
2. Builds the labelled corpus with ``make_corpus.py`` (``--big`` adds a 1 GiB
   ``torch.save`` checkpoint and a pickle of 3 million small objects).
3. Runs every tool on every file, one process per file, and records the exit code,
   wall seconds and peak memory of each run (``os.wait4``). The order of the tools
   turns from one file to the next, so that none always runs first. A big file is read
   once before it is measured (no tool pays the cold page cache), and each tool that
   scans it in under 10 s measures it ``--big-rounds`` times in turn (median; the
   speed-up is also given per round, against the fastest peer), and directory mode
   ``--rounds`` times: single runs of a short command swing with the machine.

"Flagged" means exit code 1, the code each tool uses for "issues found". Results go
to ``out/results.json`` and a Markdown summary is printed (paste it into
docs/benchmarks.md with the command line). Malicious samples are never loaded: the
peers are static scanners too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))
import harness  # noqa: E402 - shared by the benchmark scripts
from harness import ensure_venv, table  # noqa: E402

CORPUS_VENV = BENCH / ".venv-corpus"
PEERS_VENV = BENCH / ".venv-peers"
CORPUS_PACKAGES = [
    "torch==2.13.0",
    "numpy",
    "scikit-learn",
    "joblib",
    "safetensors",
    "keras",
    "h5py",
    "onnx",
    "gguf",
]
PEER_PACKAGES = ["picklescan", "modelscan", "fickling", "modelaudit"]
TOOLS = ("ramparts", "picklescan", "modelscan", "fickling", "modelaudit")


def command(tool: str, path: Path, peers: Path, ramparts: Path) -> list[str]:
    return {
        # Each tool as a user types it, printing its default report (ramparts' table
        # report is plain text in a pipe; `-f json` costs the json module's import).
        "ramparts": [str(ramparts), "scan", "models", str(path)],
        "picklescan": [str(peers / "picklescan"), "--path", str(path)],
        "modelscan": [str(peers / "modelscan"), "-p", str(path)],
        "fickling": [str(peers / "fickling"), "--check-safety", str(path)],
        "modelaudit": [str(peers / "modelaudit"), "scan", "--no-cache", str(path)],
    }[tool]


def measure(cmd: list[str], timeout: float) -> dict[str, object]:
    """Run ``cmd`` in a scratch folder (fickling writes its results file to its cwd)."""
    with tempfile.TemporaryDirectory() as cwd:
        m = harness.measure(
            cmd, timeout=timeout, cwd=Path(cwd), env={"PROMPTFOO_DISABLE_TELEMETRY": "1"}
        )
    return {k: m[k] for k in ("exit", "seconds", "rss_mib", "stderr")}


def rotated(tools: list[str], turn: int) -> list[str]:
    """``tools`` starting at another one each turn."""
    k = turn % len(tools)
    return [*tools[k:], *tools[:k]]


def warm(path: Path) -> None:
    """Read ``path`` once, so that the first tool measured does not pay the disk."""
    with path.open("rb") as f:
        while f.read(1 << 24):
            pass


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run of median wall time, with the largest peak memory of all runs."""
    ordered = sorted(runs, key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
    middle = dict(ordered[len(ordered) // 2])
    middle["rss_mib"] = max(float(r["rss_mib"]) for r in runs)  # type: ignore[arg-type]
    middle["runs"] = [r["seconds"] for r in runs]
    return middle


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help="include the 1 GiB and 3M-object files")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each folder (median)")
    parser.add_argument(
        "--big-rounds",
        type=int,
        default=21,
        help="runs of each big file by each tool that scans it in under 10 s (median)",
    )
    parser.add_argument(
        "--ramparts",
        type=Path,
        default=None,
        help="ramparts executable (default: a regular, non-editable install of this checkout)",
    )
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    corpus_bin = ensure_venv(CORPUS_VENV, CORPUS_PACKAGES)
    peers = ensure_venv(PEERS_VENV, PEER_PACKAGES)
    if args.ramparts is None:
        # Installed as users install it (pip compiles bytecode), like the peers.
        args.ramparts = harness.install_ramparts()
    corpus = args.out / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus / "malicious", ignore_errors=True)
        shutil.rmtree(corpus / "benign", ignore_errors=True)
    build = [str(corpus_bin / "python"), str(HERE / "make_corpus.py"), str(corpus)]
    subprocess.run([*build, "--big"] if args.big else build, check=True)
    labels = json.loads((corpus / "labels.json").read_text())

    results: dict[str, dict[str, dict[str, object]]] = {t: {} for t in tools}
    turn = 0
    for group in ("malicious", "benign", "big"):
        for name in labels.get(group, {}):
            path = corpus / group / name
            key = f"{group}/{name}"
            if group == "big":
                warm(path)
            timeout = 900 if group == "big" else 120
            for tool in rotated(tools, turn):
                results[tool][key] = measure(command(tool, path, peers, args.ramparts), timeout)
                print(f"{tool:11} {key}: {results[tool][key]['exit']}", file=sys.stderr)
            turn += 1
            # A big file is measured again by each tool that took under 10 s on it.
            again = (
                [t for t in tools if float(results[t][key]["seconds"]) < 10]
                if group == "big"
                else []
            )
            if again:
                rounds = {t: [results[t][key]] for t in again}
                for _ in range(args.big_rounds - 1):
                    for tool in rotated(again, turn):
                        rounds[tool].append(
                            measure(command(tool, path, peers, args.ramparts), timeout)
                        )
                    turn += 1
                for tool in again:
                    results[tool][key] = median_run(rounds[tool])
    # Directory mode: one process over the whole corpus, as a CI step would run it
    # (fickling has no directory mode). Start-up is paid once instead of per file.
    files = len(labels["malicious"]) + len(labels["benign"])
    folder_tools = [t for t in tools if t != "fickling"]
    totals: dict[str, list[float]] = {t: [] for t in folder_tools}
    exits: dict[str, list[object]] = {}
    for _ in range(args.rounds):
        for tool in rotated(folder_tools, turn):
            runs = [
                measure(command(tool, corpus / g, peers, args.ramparts), 900)
                for g in ("malicious", "benign")
            ]
            totals[tool].append(sum(float(r["seconds"]) for r in runs))
            exits[tool] = [r["exit"] for r in runs]
        turn += 1
    directory: dict[str, dict[str, object]] = {}
    for tool in folder_tools:
        seconds = statistics.median(totals[tool])
        directory[tool] = {
            "seconds": round(seconds, 3),
            "per_file": round(seconds / files, 4),
            "exits": exits[tool],
            "runs": [round(x, 3) for x in totals[tool]],
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(
        json.dumps({"labels": labels, "results": results, "directory": directory}, indent=1)
    )

    mal = list(labels["malicious"])
    ben = list(labels["benign"])
    summary = [
        ["tool", "malicious flagged", "benign flagged", "benign errors", "median s/file", "max MiB"]
    ]
    for tool in tools:
        r = results[tool]
        flagged = sum(1 for n in mal if r[f"malicious/{n}"]["exit"] == 1)
        fp = sum(1 for n in ben if r[f"benign/{n}"]["exit"] == 1)
        err = sum(1 for n in ben if r[f"benign/{n}"]["exit"] not in (0, 1, 3))
        secs = [float(r[k]["seconds"]) for k in r if not k.startswith("big/")]
        rss = max(float(r[k]["rss_mib"]) for k in r if not k.startswith("big/"))
        summary.append(
            [
                tool,
                f"{flagged}/{len(mal)} ({100 * flagged // len(mal)}%)",
                f"{fp}/{len(ben)}",
                str(err),
                f"{statistics.median(secs):.3f}",
                f"{rss:.0f}",
            ]
        )
    print("## Detection\n\n" + table(summary))

    dirs = [["tool", "whole corpus, s", "s per file", "exit (malicious dir, benign dir)"]]
    for tool, d in directory.items():
        dirs.append([tool, str(d["seconds"]), str(d["per_file"]), str(d["exits"])])
    print(f"\n## Directory mode ({files} files, one process per folder)\n\n" + table(dirs))

    rows = [["sample", "technique", *tools]]
    for n in mal:
        marks = ["D" if results[t][f"malicious/{n}"]["exit"] == 1 else "." for t in tools]
        rows.append([n.split("_")[0], labels["malicious"][n], *marks])
    print("\n## Per technique (D flagged, . missed)\n\n" + table(rows))

    fps = [["benign file", *tools]]
    for n in ben:
        marks = [str(results[t][f"benign/{n}"]["exit"]) for t in tools]
        if any(m != "0" for m in marks):
            fps.append([n, *marks])
    print("\n## Benign files with a non-zero exit (exit codes)\n\n" + table(fps))

    if labels.get("big"):
        big = [["file", "size MB", *[f"{t} s / MiB / exit" for t in tools]]]
        for n in labels["big"]:
            size = (corpus / "big" / n).stat().st_size / 1e6
            cells = []
            for t in tools:
                r = results[t][f"big/{n}"]
                cells.append(f"{r['seconds']} / {r['rss_mib']:.0f} / {r['exit']}")
            big.append([n, f"{size:.0f}", *cells])
        print("\n## Throughput\n\n" + table(big))
        if "ramparts" in tools:
            print("\n## Speed-up over the fastest peer on big files\n")
            for n in labels["big"]:
                print(speedup(n, {t: results[t][f"big/{n}"] for t in tools}))
    return 0


def speedup(name: str, runs: dict[str, dict[str, object]]) -> str:
    """A line comparing ramparts with the fastest peer that scanned ``name`` cleanly.

    Rounds were measured in turns, so round i of each tool ran at about the same time;
    the median of the per-round ratios is the figure least moved by the machine's
    speed changing during the run. The medians and the fastest runs are shown too.
    """
    ours = runs["ramparts"]
    peers = {t: r for t, r in runs.items() if t != "ramparts" and r["exit"] in (0, 1)}
    if not peers or ours["exit"] not in (0, 1):
        return f"- {name}: no peer scanned it (exit codes {[r['exit'] for r in runs.values()]})"
    tool, peer = min(peers.items(), key=lambda kv: float(kv[1]["seconds"]))  # type: ignore[arg-type]
    mine: list[float] = list(ours.get("runs", [ours["seconds"]]))  # type: ignore[call-overload]
    theirs: list[float] = list(peer.get("runs", [peer["seconds"]]))  # type: ignore[call-overload]
    line = (
        f"- {name}: ramparts {ours['seconds']} s, {tool} {peer['seconds']} s (medians): "
        f"{float(peer['seconds']) / float(ours['seconds']):.2f}x"  # type: ignore[arg-type]
    )
    if len(mine) == len(theirs) > 1:
        paired = statistics.median(b / a for a, b in zip(mine, theirs, strict=True))
        line += (
            f"; per round in turns, {len(mine)} rounds: median {paired:.2f}x; "
            f"fastest runs {min(mine)} s and {min(theirs)} s: {min(theirs) / min(mine):.2f}x"
        )
    return line


if __name__ == "__main__":
    sys.exit(main())
