"""Helpers shared by the benchmark scripts: virtualenvs, timed runs, Markdown tables.

Scripts import it after putting this folder on ``sys.path``; it uses the standard
library only, so it runs under any interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RAMPARTS_VENV = BENCH / ".venv-ramparts"


def ensure_venv(path: Path, packages: list[str]) -> Path:
    """A virtualenv at ``path`` with ``packages`` (installed once); returns its bin folder."""
    python = path / "bin" / "python"
    marker = path / ".installed"
    wanted = "\n".join(packages) + "\n"
    if not marker.exists() or marker.read_text() != wanted:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", "-U", "pip"], check=True)
        if packages:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
        marker.write_text(wanted)
    return path / "bin"


def install_ramparts() -> Path:
    """A regular (non-editable) install of this checkout, as users get it; its executable."""
    rbin = ensure_venv(RAMPARTS_VENV, [])
    pip = [str(rbin / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    subprocess.run([*pip, str(ROOT)], check=True)
    return rbin / "ramparts"


_LAUNCHER = """
import json, os, signal, sys, time
timeout, result, cmd = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
killed = []
def stop(*_):
    killed.append(1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:  # it ended as the timer fired
        killed.clear()
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, timeout)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
signal.setitimer(signal.ITIMER_REAL, 0)
with open(result, "w") as f:
    json.dump({"exit": "timeout" if killed else os.waitstatus_to_exitcode(status),
               "seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
               "rss_kib": usage.ru_maxrss}, f)
"""
"""Forks and measures the command from a small process of its own. Linux counts the
peak resident memory of the process that calls ``exec`` into the new program's peak,
so a command started straight from this (large) benchmark process would report the
benchmark's own peak as its floor: after a peer printed 72,000 findings, a 24 MiB run
read as 409 MiB."""


def measure(
    cmd: list[str],
    *,
    timeout: float = 900,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_path: Path | None = None,
) -> dict[str, object]:
    """Run ``cmd``: exit code, wall and CPU seconds, peak RSS (MiB) of that process.

    A launcher (``_LAUNCHER``) forks the command, times it and reads its own resource
    usage with ``os.wait4``; its start-up is not counted. Output goes to files, not
    pipes, so a chatty tool cannot block on a full pipe: stdout to ``stdout_path`` when
    given (else it is returned as ``stdout``), the tail of stderr is returned as
    ``stderr``.
    """
    if shutil.which(cmd[0]) is None:
        return {"exit": "not-run", "error": f"{cmd[0]}: not found", "seconds": 0.0,
                "cpu": 0.0, "rss_mib": 0.0}  # fmt: skip
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}"
    out_path = stdout_path or scratch.with_suffix(".out")
    err_path = out_path.with_name(out_path.name + ".stderr")
    result_path = scratch.with_suffix(".json")
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(timeout), str(result_path), *cmd]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        subprocess.run(launcher, cwd=cwd, env=full_env, stdout=out, stderr=err, check=True)
    run = json.loads(result_path.read_text())
    result_path.unlink()
    result: dict[str, object] = {
        "exit": run["exit"],
        "seconds": round(run["seconds"], 4),
        "cpu": round(run["cpu"], 3),
        "rss_mib": round(run["rss_kib"] / 1024, 1),
        "stderr": err_path.read_bytes()[-600:].decode("utf-8", "replace"),
    }
    err_path.unlink()
    if stdout_path is None:
        result["stdout"] = out_path.read_bytes().decode("utf-8", "replace")
        out_path.unlink()
    return result


def table(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header."""
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)
