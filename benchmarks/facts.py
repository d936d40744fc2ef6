"""The machine a benchmark ran on, as one line for the record (shared by the scripts).

Standard library only; Linux files are read where they exist, anything missing is left out.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def _filesystem(path: Path) -> str:
    """The device and type of the filesystem holding ``path`` (longest mount prefix)."""
    try:
        mounts = [line.split()[:3] for line in Path("/proc/mounts").read_text().splitlines()]
    except OSError:
        return "unknown filesystem"
    resolved = str(path.resolve())
    best = ("", "", "")
    for device, point, kind in mounts:
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best[1]):
            best = (device, point, kind)
    return f"{best[2]} on {best[0]}" if best[0] else "unknown filesystem"


def machine(folder: Path, packages: tuple[str, ...] = ("cryptography",)) -> str:
    """CPU, cores, memory, kernel, the filesystem of ``folder``, Python and ``packages``."""
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return ", ".join(
        [
            _cpu_model(),
            f"{os.cpu_count()} cores",
            _memory_gib(),
            f"Linux {platform.release()}" if sys.platform == "linux" else platform.platform(),
            _filesystem(folder),
            f"Python {platform.python_version()}",
            *versions,
        ]
    )
