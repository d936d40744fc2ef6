"""Helpers shared by the benchmark scripts: virtualenvs, timed runs, Markdown tables.

Scripts import it after putting this folder on ``sys.path``; it uses the standard
library only, so it runs under any interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def measure(cmd: list[str], *, timeout: float = 900, cwd: Path | None = None) -> dict[str, object]:
    """Run ``cmd``: exit code, wall and CPU seconds, peak RSS (MiB) of that process, stdout.

    ``os.wait4`` gives the child's own resource usage. stderr goes to a file, not a
    pipe, so a chatty tool cannot block on a full pipe.
    """
    env = {**os.environ, "NO_COLOR": "1"}
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}.out"
    err_path = out_path.with_suffix(".err")
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - start
    stdout = out_path.read_bytes().decode("utf-8", "replace")
    stderr = err_path.read_bytes()[-400:].decode("utf-8", "replace")
    out_path.unlink()
    err_path.unlink()
    timed_out = seconds >= timeout
    return {
        "exit": "timeout" if timed_out else os.waitstatus_to_exitcode(status),
        "seconds": round(seconds, 4),
        "cpu": round(usage.ru_utime + usage.ru_stime, 3),
        "rss_mib": round(usage.ru_maxrss / 1024, 1),
        "stdout": stdout,
        "stderr": stderr,
    }


def table(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header."""
    head, *body = rows
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return "\n".join(lines)
