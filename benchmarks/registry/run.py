"""Encryption at rest beside a plain file copy.

    python benchmarks/registry/run.py [--size-mib 1024] [--repeat 5] [--cold] [--dir DIR]

Writes a file of random bytes, then times, in rounds, on the same disk:

- a plain copy: ``shutil.copyfile`` then ``fsync`` (what ``cp`` and ``sync`` do);
- the same copy with writeback started early, as the envelope does (for reference);
- ``encrypt_file`` and ``decrypt_file`` (default 1 MiB chunks, AES-256-GCM), which write
  a temporary file, fsync it and rename it;
- a key rotation (``rewrap``).

Each round runs the operations in a rotated order. Before each one its previous output is
deleted, its input is read into the page cache (or, with ``--cold``, all caches are
dropped: root only) and ``sync`` empties the dirty pages of earlier steps, so every
operation starts from the same state and pays for writing its whole output to disk.
A first round warms the machine and is not counted. The figure of merit is the median,
over rounds, of each operation's time divided by the plain copy's in the same round:
the disk's speed here changes from minute to minute, a ratio within a round less so.
The issue's target: encryption and decryption within 20% of the plain copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from facts import machine  # noqa: E402
from harness import ROOT, table  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from ramparts.privacy import envelope  # noqa: E402
from ramparts.privacy.envelope import decrypt_file, encrypt_file, rewrap  # noqa: E402
from ramparts.privacy.keystore import LocalKeyStore  # noqa: E402

_BLOCK = 1 << 20


def synced_copy(src: Path, dst: Path) -> None:
    """``cp`` then ``sync``: the baseline."""
    shutil.copyfile(src, dst)
    with dst.open("rb+") as fh:
        os.fsync(fh.fileno())


def synced_copy_early_writeback(src: Path, dst: Path) -> None:
    """A copy that starts writeback every 8 MiB like the envelope, then fsyncs."""
    buf = bytearray(_BLOCK)
    view = memoryview(buf)
    with src.open("rb") as fin, dst.open("wb") as fout:
        kick = envelope._writeback(fout)
        done = kicked = 0
        while n := fin.readinto(buf):
            fout.write(view[:n])
            done += n
            if kick is not None and done - kicked >= envelope._WRITEBACK:
                kick(kicked, done - kicked)
                kicked = done
        fout.flush()
        os.fsync(fout.fileno())


def warm(path: Path) -> None:
    """Read ``path`` into the page cache without holding it in this process."""
    buf = bytearray(_BLOCK)
    with path.open("rb") as fh:
        while fh.readinto(buf):
            pass


def drop_caches() -> None:
    os.sync()
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=5, help="counted rounds (default 5)")
    parser.add_argument("--cold", action="store_true", help="drop all caches before each step")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a tmp dir)")
    args = parser.parse_args()
    if args.cold and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        parser.error("--cold needs root (it writes /proc/sys/vm/drop_caches)")
    folder = Path(tempfile.mkdtemp(prefix="ramparts-enc-bench-", dir=args.dir))
    try:
        plain = folder / "model.bin"
        with plain.open("wb") as fh:
            block = os.urandom(16 << 20)
            for _ in range(max(1, args.size_mib // 16)):
                fh.write(block)
            fh.flush()
            os.fsync(fh.fileno())
        size = plain.stat().st_size
        keys = LocalKeyStore(folder / "keys")
        sealed = folder / "sealed.enc"  # decryption's input, made once
        encrypt_file(plain, sealed, keys, "kek-1")
        steps: dict[str, tuple[Path, Callable[[Path], object]]] = {
            "copy": (plain, lambda out: synced_copy(plain, out)),
            "copy-wb": (plain, lambda out: synced_copy_early_writeback(plain, out)),
            "encrypt": (plain, lambda out: encrypt_file(plain, out, keys, "kek-1")),
            "decrypt": (sealed, lambda out: decrypt_file(sealed, out, keys)),
        }
        times: dict[str, list[float]] = {name: [] for name in steps}
        names = list(steps)
        for round_ in range(args.repeat + 1):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                source, work = steps[name]
                out = folder / f"out-{name}"
                out.unlink(missing_ok=True)
                if args.cold:
                    drop_caches()
                else:
                    warm(source)
                os.sync()
                t0 = time.perf_counter()
                work(out)
                elapsed = time.perf_counter() - t0
                if round_:  # the first round warms up
                    times[name].append(elapsed)
            if round_:
                print(
                    f"round {round_}: " + ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names),
                    flush=True,
                )
        rot = []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            rewrap(sealed, keys, f"kek-{i + 2}")
            rot.append(time.perf_counter() - t0)

        def row(label: str, name: str) -> list[str]:
            ts = times[name]
            ratios = [t / c for t, c in zip(ts, times["copy"], strict=True)]
            med = statistics.median(ts)
            return [
                label,
                f"{med:.2f}",
                f"{min(ts):.2f}",
                f"{size / med / 1e9:.2f}",
                f"{statistics.median(ratios):.2f}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
            ]

        cache = "caches dropped before each step" if args.cold else "input in the page cache"
        print(f"\n{machine(folder)}")
        print(f"{size / 2**20:.0f} MiB, {cache}, {args.repeat} rounds (+1 warm-up)\n")
        print(table([
            ["operation", "median s", "best s", "GB/s (median)", "vs copy (median of rounds)", "vs copy (range)"],
            row("plain copy (`shutil.copyfile` + fsync)", "copy"),
            row("copy, writeback started early (+ fsync)", "copy-wb"),
            row(f"`encrypt_file` (AES-256-GCM, {envelope.CHUNK_SIZE >> 20} MiB chunks)", "encrypt"),
            row("`decrypt_file`", "decrypt"),
            ["`rewrap` (key rotation)", f"{statistics.median(rot) * 1000:.1f} ms", "", "", "", ""],
        ]))  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
