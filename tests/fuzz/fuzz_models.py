"""Fuzz target for the model scanner: the pickle interpreter and every container reader.

    python tests/fuzz/fuzz_models.py --seconds 600           # mutation fuzzing, stdlib only
    python tests/fuzz/fuzz_models.py -atheris [libFuzzer args] # coverage-guided, if atheris is installed

Each input is scanned as a file named like a model (the name is chosen from the first
byte, so content sniffing and extension checks both run). A crash is any exception
escaping the scanner, a run over ``--max-seconds`` per input (hang), or peak memory
over ``--max-mib``. Seeds are the malicious and benign shapes from the test suite plus
zip/tar/gzip wrappers, then mutated (bit flips, splices, truncations, duplications).
Not collected by pytest (the file name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import resource
import sys
import time
import traceback
import zipfile
from pathlib import Path

from ramparts.core.types import Finding, Skip
from ramparts.scan.interface import ScanContext, ScanItem
from ramparts.scan.models.scanner import ModelScanner

NAMES = (
    "m.pkl",
    "m.pt",
    "m.bin",
    "m.joblib",
    "m.npy",
    "m.safetensors",
    "m.gguf",
    "m.onnx",
    "m.keras",
    "x.pb",
    "m.h5",
    "blob",
)
SCANNER = ModelScanner()
CTX = ScanContext()


def scan(data: bytes) -> int:
    """Scan ``data`` and every nested item, as the runner would; return the output count."""
    name = NAMES[data[0] % len(NAMES)] if data else "blob"
    stack = [ScanItem(name, len(data), data[:4096], lambda: io.BytesIO(data))]
    count = 0
    while stack:
        item = stack.pop()
        if not SCANNER.accepts(item):
            continue
        for out in SCANNER.scan(item, CTX):
            count += 1
            if isinstance(out, Finding | Skip):
                continue
            if out.depth <= CTX.settings.max_archive_depth:
                with out.open() as fh:  # materialise: the container closes after scan()
                    blob = fh.read(1 << 22)
                stack.append(
                    ScanItem(
                        out.path, len(blob), blob[:4096], lambda b=blob: io.BytesIO(b), out.member
                    )
                )
    return count


def seeds() -> list[bytes]:
    evil = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."
    benign = (
        b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94K\x01\x8c\x01b\x94]\x94u."
    )
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.pkl", evil)
        zf.writestr("archive/version", b"3\n")
    npy = (
        b"\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
        + b" " * 59
        + b"\n"
        + evil
    )
    gguf = (
        b"GGUF\x03\x00\x00\x00"
        + b"\x00" * 8
        + b"\x01"
        + b"\x00" * 7
        + b"\x17\x00\x00\x00\x00\x00\x00\x00tokenizer.chat_template\x08\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00{{x}}"
    )
    st = (
        b"\x40\x00\x00\x00\x00\x00\x00\x00"
        + b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'.ljust(64)
        + b"\x00" * 4
    )
    # 7z archives written by py7zr (tests/scan/models/make_7z_fixtures.py), one per coder.
    sevenzip = sorted(
        (Path(__file__).resolve().parents[1] / "scan" / "models" / "data").glob("*.7z")
    )
    return [
        *(path.read_bytes() for path in sevenzip),
        evil,
        benign,
        zbuf.getvalue(),
        gzip.compress(evil, mtime=0),
        npy,
        gguf,
        st,
        b"cos\nsystem\n(S'id'\ntR.",
    ]


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        choice = rng.random()
        if choice < 0.3 and buf:
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
        elif choice < 0.5 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif choice < 0.65:
            other = rng.choice(pool)
            i, j = rng.randrange(len(buf) + 1), rng.randrange(len(other) + 1)
            buf[i:i] = other[j : j + rng.randint(1, 64)]
        elif choice < 0.8 and buf:
            del buf[rng.randrange(len(buf)) :]
        elif buf:
            i = rng.randrange(len(buf))
            buf[i:i] = buf[i : i + rng.randint(1, 32)] * rng.randint(1, 4)
    return bytes(buf[: 1 << 16])


def run(seconds: float, max_seconds: float, max_mib: float, seed: int) -> int:
    rng = random.Random(seed)
    pool = seeds()
    deadline = time.monotonic() + seconds
    runs = 0
    while time.monotonic() < deadline:
        data = mutate(rng, rng.choice(pool), pool)
        start = time.monotonic()
        try:
            scan(data)
        except Exception as exc:  # noqa: BLE001 - a fuzz target reports every escape
            traceback.print_exc()
            print(
                f"CRASH after {runs} inputs: {type(exc).__name__}: {exc}\ninput: {data!r}",
                file=sys.stderr,
            )
            return 1
        took = time.monotonic() - start
        if took > max_seconds:
            print(f"HANG: {took:.1f} s on input {data!r}", file=sys.stderr)
            return 1
        runs += 1
        if runs % 2000 == 0:
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if rss > max_mib:
                print(f"MEMORY: peak {rss:.0f} MiB after {runs} inputs", file=sys.stderr)
                return 1
            if rng.random() < 0.05:
                pool.append(data)  # keep some mutants as new seeds
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ok: {runs} inputs in {seconds:.0f} s, no crash, no hang, peak {rss:.0f} MiB")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "-atheris":
        import atheris  # noqa: PLC0415 - optional

        atheris.Setup([sys.argv[0], *sys.argv[2:]], lambda data: scan(bytes(data)))
        atheris.Fuzz()
        return 0
    parser = argparse.ArgumentParser(description="mutation fuzzing of the model scanner")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--max-mib", type=float, default=512)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    return run(args.seconds, args.max_seconds, args.max_mib, args.seed)


if __name__ == "__main__":
    sys.exit(main())
