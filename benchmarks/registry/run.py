"""Encryption at rest beside a plain file copy.

    python benchmarks/registry/run.py [--size-mib 1024] [--repeat 3]

Writes a file of random bytes, reads it once into the page cache, then times (best
of ``--repeat``, each output fsynced like the encrypted one): a plain copy
(``shutil.copyfile``), ``encrypt_file`` and ``decrypt_file`` (1 MiB chunks,
AES-256-GCM), and a key rotation (``rewrap``). The issue's target: encryption and
decryption within 20% of the plain copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import ROOT, table  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from ramparts.privacy.envelope import decrypt_file, encrypt_file, rewrap  # noqa: E402
from ramparts.privacy.keystore import LocalKeyStore  # noqa: E402


def best(repeat: int, work: object) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def synced_copy(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    with dst.open("rb+") as fh:
        os.fsync(fh.fileno())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ramparts-enc-bench-"))
    try:
        plain = folder / "model.bin"
        with plain.open("wb") as fh:
            block = os.urandom(16 << 20)
            for _ in range(args.size_mib // 16):
                fh.write(block)
        plain.read_bytes()  # into the page cache
        keys = LocalKeyStore(folder / "keys")
        enc, back, copy = folder / "model.enc", folder / "model.out", folder / "model.copy"
        size = plain.stat().st_size
        t_copy = best(args.repeat, lambda: synced_copy(plain, copy))
        t_enc = best(args.repeat, lambda: encrypt_file(plain, enc, keys, "kek-1"))
        t_dec = best(args.repeat, lambda: decrypt_file(enc, back, keys))
        t_rot = best(args.repeat, lambda: rewrap(enc, keys, "kek-2"))
        gbs = lambda t: f"{size / t / 1e9:.2f}"  # noqa: E731
        print(f"{size / 2**20:.0f} MiB, best of {args.repeat}")
        print(table([
            ["operation", "seconds", "GB/s", "vs plain copy"],
            ["plain copy (fsynced)", f"{t_copy:.2f}", gbs(t_copy), "1.00"],
            ["encrypt_file (AES-256-GCM, 1 MiB chunks)", f"{t_enc:.2f}", gbs(t_enc), f"{t_enc / t_copy:.2f}"],
            ["decrypt_file", f"{t_dec:.2f}", gbs(t_dec), f"{t_dec / t_copy:.2f}"],
            ["rewrap (key rotation)", f"{t_rot * 1000:.1f} ms", "", ""],
        ]))  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
