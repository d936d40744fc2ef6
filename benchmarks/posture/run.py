"""Posture of a 5,000-file repository, beside Checkov on its AI checks.

    python benchmarks/posture/run.py [--files 5000] [--seed 7] [--runs 3] [--work DIR]
        [--skip-peer] [--ramparts PATH] [--checkov-version 3.2.533]

1. Builds a deterministic synthetic monorepo with ``make_repo.py`` into ``WORK/repo``
   (``--files`` files, mostly ordinary source, plus models, datasets, notebooks, SDK
   calls, workflows, Terraform, CloudFormation, Kubernetes, MCP, Dockerfiles).
2. Installs this checkout into ``benchmarks/.venv-ramparts`` (a regular install, as
   users get it; ``--ramparts PATH`` uses another executable) and, unless
   ``--skip-peer``, the pinned Checkov into ``WORK/.venv-checkov``. Checkov is never
   added to ramparts' own dependencies.
3. Runs ``ramparts -q posture REPO --no-record -f json -o OUT`` with a fresh
   ``RAMPARTS_STATE_DIR`` in ``WORK`` (nothing is stored): the first run is reported as
   the cold one, then ``--runs`` more give the medians. Wall and CPU seconds and peak
   RSS come from ``os.wait4`` of each process.
4. Runs Checkov the same way on the same tree, restricted to the frameworks that can
   hold AI infrastructure (terraform, kubernetes, cloudformation, dockerfile,
   github_actions) and to the checks of that version whose title names an AI service
   (SageMaker, Bedrock, Azure OpenAI and Cognitive Services, Azure Machine Learning,
   Vertex AI, Comprehend, Kendra, Dialogflow, Document AI), offline
   (``--skip-download``, ``BC_SKIP_MAPPING=TRUE``, no update check). A Checkov that
   does not install or fails is recorded in the table, not fatal.

Prints the machine, the tree's make-up, a Markdown table (paste it into
docs/benchmarks.md with the command line) and writes ``WORK/results.json``. The
issue's target: posture of 5,000 files in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(HERE))
import harness  # noqa: E402 - shared by the benchmark scripts
import make_repo  # noqa: E402 - the generator sits beside this script
from facts import machine  # noqa: E402
from harness import ensure_venv, table  # noqa: E402

TARGET_S = 10.0
CHECKOV_FRAMEWORKS = ("terraform", "kubernetes", "cloudformation", "dockerfile", "github_actions")
AI_CHECK_TITLE = re.compile(
    r"sagemaker|bedrock|cognitive services|openai|machine learning|vertex ai|comprehend"
    r"|kendra|dialogflow|document ai",
    re.IGNORECASE,
)
CHECKOV_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "True",
    "LOG_LEVEL": "WARNING",
}


def timed(
    cmd: list[str], *, cwd: Path, env: dict[str, str], stdout: Path, timeout: float
) -> dict[str, Any]:
    """One measured run: exit code, wall and CPU seconds, peak RSS (MiB), stderr tail."""
    m = harness.measure(cmd, timeout=timeout, cwd=cwd, env=env, stdout_path=stdout)
    # A command that could not start has no stderr: its error stands in.
    return {
        "exit": m["exit"],
        "seconds": m["seconds"],
        "cpu": m["cpu"],
        "rss_mib": m["rss_mib"],
        "stderr": str(m.get("stderr", m.get("error", ""))),
    }


def series(
    cmd: list[str],
    *,
    runs: int,
    ok: tuple[int, ...],
    cwd: Path,
    env: dict[str, str],
    stdout: Path,
    timeout: float,
    label: str,
) -> dict[str, Any]:
    """The first (cold) run, then ``runs`` more; stops at the first failing run."""
    all_runs: list[dict[str, Any]] = []
    for i in range(runs + 1):
        m = timed(cmd, cwd=cwd, env=env, stdout=stdout, timeout=timeout)
        all_runs.append(m)
        state = "cold" if i == 0 else f"run {i}"
        print(
            f"  {label} {state}: exit {m['exit']}, {m['seconds']:.2f} s wall, "
            f"{m['cpu']:.2f} s CPU, {m['rss_mib']:.0f} MiB",
            flush=True,
        )
        if m["exit"] not in ok:
            return {"ok": False, "runs": all_runs, "failure": m}
    warm = all_runs[1:] or all_runs
    return {
        "ok": True,
        "runs": all_runs,
        "cold_s": all_runs[0]["seconds"],
        "median_s": statistics.median(r["seconds"] for r in warm),
        "best_s": min(r["seconds"] for r in warm),
        "cpu_s": statistics.median(r["cpu"] for r in warm),
        "rss_mib": statistics.median(r["rss_mib"] for r in warm),
    }


def ramparts_found(report: Path) -> dict[str, Any]:
    """Score, failing controls and the inventory's counts from a posture JSON report."""
    data = json.loads(report.read_text())
    score = data["score"]
    failing = sorted(r["id"] for r in data["results"] if r["status"] == "FAIL")
    return {
        "score": score["value"],
        "passed": score["passed"],
        "failed": score["failed"],
        "manual": score["manual"],
        "not_applicable": score["not_applicable"],
        "failing": failing,
        "controls": len(data["results"]),
        "files_seen": data["inventory"]["files_seen"],
        "assets": data["inventory"]["counts"],
        "providers": data["inventory"]["providers"],
    }


def install_checkov(work: Path, version: str) -> tuple[Path | None, str]:
    """Checkov in its own virtualenv under ``work``: its bin folder, or None and why."""
    try:
        bin_dir = ensure_venv(work / ".venv-checkov", [f"checkov=={version}"])
    except (subprocess.CalledProcessError, OSError) as exc:
        return None, f"install failed: {exc}"
    return bin_dir, version


def ai_checks(checkov: Path, cwd: Path) -> list[str]:
    """Ids of the checks, in the chosen frameworks, whose title names an AI service."""
    proc = subprocess.run(
        [str(checkov), "--list", "--framework", *CHECKOV_FRAMEWORKS],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **CHECKOV_ENV},
        timeout=600,
        check=False,
    )
    ids: set[str] = set()
    for line in proc.stdout.splitlines():
        cells = [c.strip() for c in line.split("|")]
        # | n | Id | Type | Entity | Policy | IaC | Resource Link |
        if len(cells) >= 7 and cells[2].startswith("CKV") and AI_CHECK_TITLE.search(cells[5]):
            ids.add(cells[2])
    return sorted(ids)


def checkov_found(output: Path) -> dict[str, Any]:
    """Passed and failed checks, per framework, from Checkov's JSON output."""
    text = output.read_text()
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start < 0:
        return {"passed": 0, "failed": 0, "by_framework": {}, "failed_checks": {}}
    data = json.loads(text[start:])
    reports = data if isinstance(data, list) else [data]
    by: dict[str, dict[str, int]] = {}
    failed_checks: dict[str, int] = {}
    for rep in reports:
        summary = rep.get("summary", {})
        by[rep.get("check_type", "?")] = {
            "passed": summary.get("passed", 0),
            "failed": summary.get("failed", 0),
            "resources": summary.get("resource_count", 0),
        }
        for check in rep.get("results", {}).get("failed_checks", []):
            failed_checks[check["check_id"]] = failed_checks.get(check["check_id"], 0) + 1
    return {
        "passed": sum(v["passed"] for v in by.values()),
        "failed": sum(v["failed"] for v in by.values()),
        "by_framework": by,
        "failed_checks": dict(sorted(failed_checks.items())),
    }


def _row(
    name: str, series_: dict[str, Any] | None, judged: str, found: str, runs: int
) -> list[str]:
    if series_ is None or not series_.get("ok"):
        return [name, "-", "-", "-", "-", "-", judged, found]
    return [
        name,
        f"{series_['cold_s']:.2f}",
        f"**{series_['median_s']:.2f}**"
        if name.startswith("ramparts")
        else f"{series_['median_s']:.2f}",
        f"{series_['best_s']:.2f}",
        f"{series_['cpu_s']:.2f}",
        f"{series_['rss_mib']:.0f}",
        judged,
        found,
    ]


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="files in the tree (default 5000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="measured runs after the cold one")
    parser.add_argument("--work", type=Path, default=HERE / "out", help="work folder")
    parser.add_argument("--skip-peer", action="store_true", help="do not install or run Checkov")
    parser.add_argument("--ramparts", type=Path, default=None, help="executable (default: install)")
    parser.add_argument("--checkov-version", default="3.2.533")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per run")
    args = parser.parse_args()
    if args.files < 1 or args.runs < 1:
        parser.error("--files and --runs must be positive")
    if args.ramparts is not None and not args.ramparts.is_file():
        parser.error(f"--ramparts {args.ramparts}: no such file")

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    repo = work / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    tree = make_repo.build(args.files, args.seed)
    make_repo.write(repo, tree)
    made = make_repo.composition(tree)
    print(f"tree: {made['files']} files, {int(made['bytes']) / 1e6:.1f} MB, {made['by_extension']}")

    ramparts = args.ramparts.resolve() if args.ramparts else harness.install_ramparts()
    version = subprocess.run(
        [str(ramparts), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    load_before = os.getloadavg()

    state = Path(tempfile.mkdtemp(prefix="state-", dir=work))
    out = work / "ramparts-posture.json"
    r_cmd = [str(ramparts), "-q", "posture", str(repo), "--no-record", "-f", "json", "-o", str(out)]
    print("ramparts:", " ".join(r_cmd), flush=True)
    r_series = series(
        r_cmd,
        runs=args.runs,
        ok=(0, 1),
        cwd=work,
        env={"RAMPARTS_STATE_DIR": str(state)},
        stdout=work / "ramparts.stdout",
        timeout=args.timeout,
        label="ramparts",
    )
    stored = sorted(p.name for p in state.iterdir())
    shutil.rmtree(state, ignore_errors=True)
    r_found = ramparts_found(out) if r_series["ok"] else None

    peer: dict[str, Any] = {"status": "skipped (--skip-peer)"}
    c_series: dict[str, Any] | None = None
    if not args.skip_peer:
        bin_dir, why = install_checkov(work, args.checkov_version)
        if bin_dir is None:
            peer = {"status": why}
        else:
            checkov = bin_dir / "checkov"
            ids = ai_checks(checkov, work)
            peer = {"status": "ran", "version": args.checkov_version, "checks": ids}
            if not ids:
                peer["status"] = "no AI checks found in `checkov --list`"
            else:
                c_out = work / "checkov.json"
                c_cmd = [
                    str(checkov),
                    "-d",
                    str(repo),
                    "--framework",
                    *CHECKOV_FRAMEWORKS,
                    "--check",
                    ",".join(ids),
                    "--skip-download",
                    "-o",
                    "json",
                ]
                print(f"checkov: checkov -d REPO --framework {' '.join(CHECKOV_FRAMEWORKS)} "
                      f"--check <{len(ids)} AI checks> --skip-download -o json", flush=True)  # fmt: skip
                c_series = series(
                    c_cmd,
                    runs=args.runs,
                    ok=(0, 1),
                    cwd=work,
                    env=CHECKOV_ENV,
                    stdout=c_out,
                    timeout=args.timeout,
                    label="checkov",
                )
                if c_series["ok"]:
                    peer["found"] = checkov_found(c_out)
                else:
                    failure = c_series["failure"]
                    peer["status"] = f"failed: exit {failure['exit']}: {failure['stderr'][-300:]}"
    load_after = os.getloadavg()

    print(f"\n{machine(work, packages=())}, ramparts {version.split()[-1] if version else '?'}")
    print(
        f"tree: {made['files']} files, {int(made['bytes']) / 1e6:.1f} MB "
        f"(median file {made['median_bytes']} B), seed {args.seed}; "
        f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    if r_found is not None:
        r_judged = (
            f"{r_found['files_seen']} files: every scanner, discovery, "
            f"{r_found['controls']} controls"
        )
        r_text = (
            f"score {r_found['score']}, {r_found['failed']} failing controls "
            f"({r_found['passed']} pass, {r_found['manual']} manual, "
            f"{r_found['not_applicable']} n/a)"
        )
    else:
        failure = r_series["failure"]
        r_judged, r_text = "-", f"failed: exit {failure['exit']}: {failure['stderr'][-200:]}"
    rows = [
        ["tool", "cold s", f"median s ({args.runs} runs)", "best s", "CPU s", "peak MiB", "what it judged", "what it found"],
        _row("ramparts posture", r_series, r_judged, r_text, args.runs),
    ]  # fmt: skip
    if c_series is not None and c_series.get("ok"):
        found = peer["found"]
        frameworks = ", ".join(f"{k} {v['resources']}" for k, v in found["by_framework"].items())
        rows.append(
            _row(
                f"Checkov {args.checkov_version}, {len(peer['checks'])} AI checks",
                c_series,
                f"IaC resources only ({frameworks or 'none'})",
                f"{found['failed']} failed, {found['passed']} passed checks",
                args.runs,
            )
        )
    else:
        rows.append(_row("Checkov", None, "-", str(peer["status"]), args.runs))
    print(table(rows))
    if r_series["ok"]:
        met = "met" if r_series["median_s"] < TARGET_S else "not met"
        print(f"\ntarget: posture of {made['files']} files in under {TARGET_S:.0f} s: {met} "
              f"(median {r_series['median_s']:.2f} s, cold {r_series['cold_s']:.2f} s)")  # fmt: skip
        print(f"failing controls: {', '.join(r_found['failing']) if r_found else '-'}")
    if peer.get("found"):
        print(f"Checkov failed checks: {peer['found']['failed_checks']}")
    print(f"state folder after the runs: {stored or 'empty'}")
    results = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "machine": machine(work, packages=()),
        "ramparts_version": version,
        "tree": made,
        "load": {"before": load_before, "after": load_after},
        "ramparts": {"command": r_cmd, "series": r_series, "found": r_found},
        "checkov": {**peer, "series": c_series},
    }
    (work / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
