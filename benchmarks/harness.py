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


def measure(
    cmd: list[str],
    *,
    timeout: float = 900,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdout_path: Path | None = None,
) -> dict[str, object]:
    """Run ``cmd``: exit code, wall and CPU seconds, peak RSS (MiB) of that process.

    ``os.wait4`` gives the child's own resource usage. Output goes to files, not pipes,
    so a chatty tool cannot block on a full pipe: stdout to ``stdout_path`` when given
    (else it is returned as ``stdout``), the tail of stderr is returned as ``stderr``.
    """
    scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-{os.getpid()}"
    out_path = stdout_path or scratch.with_suffix(".out")
    err_path = out_path.with_name(out_path.name + ".stderr")
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, cwd=cwd, env=full_env, stdout=out, stderr=err)
        except OSError as exc:
            return {
                "exit": "not-run",
                "error": str(exc),
                "seconds": 0.0,
                "cpu": 0.0,
                "rss_mib": 0.0,
            }
        deadline = start + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                timed_out = True
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - start
    result: dict[str, object] = {
        "exit": "timeout" if timed_out else os.waitstatus_to_exitcode(status),
        "seconds": round(seconds, 4),
        "cpu": round(usage.ru_utime + usage.ru_stime, 3),
        "rss_mib": round(usage.ru_maxrss / 1024, 1),
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
