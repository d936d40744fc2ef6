"""Fuzz target for the static pickle interpreter (differential: skipping vs exact).

    python tests/fuzz/fuzz_pickle.py --seconds 600            # mutation fuzzing, stdlib only
    python tests/fuzz/fuzz_pickle.py -atheris [libFuzzer args]  # coverage-guided, if installed

For each input the interpreter runs twice, skipping plain-data runs in C and
interpreting every opcode. A failure is an exception escaping either run, a run slower
than ``MAX_SECONDS``, a global seen by the exact run that the skipping run missed, or a
payload appended after a complete pickle that the scan does not report. Seeds are
pickles of every protocol (plain data, reductions, joblib-like layouts) and hand-made
payloads, then mutated (bit flips, splices, truncations, duplications, opcode inserts).
Nothing is ever unpickled. Not collected by pytest (the name does not start with test_).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import io
import pickle
import random
import sys
import time
import traceback

from ramparts.scan.models.pickle_scan import scan_pickle_bytes
from ramparts.scan.models.pickle_vm import interpret

MAX_SECONDS = 5.0
PAYLOAD = b"\x80\x02cos\nsystem\n\x8c\x02id\x85R."
OPCODES = b"().0123FGIJKLMNPQRSTUVXabcdeghijlopqrstu}\x80\x81\x82\x83\x84\x85\x86\x87\x88\x89"
OPCODES += b"\x8a\x8b\x8c\x8d\x8e\x8f\x90\x91\x92\x93\x94\x95\x96\x97\x98"


class _Reduce:
    def __init__(self, func: object, args: tuple[object, ...]) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def seeds() -> list[bytes]:
    """Pickles of every protocol, benign and hostile (built, never loaded)."""
    objects: list[object] = [
        {"a": [1, 2.5, None, True], "b": ("x", b"y", bytearray(b"z")), "c": {1, 2}},
        collections.OrderedDict(a=1),
        datetime.datetime(2026, 1, 2),
        [{"i": i, "s": str(i)} for i in range(400)],
        _Reduce(complex, (1, 2)),
        [_Reduce(complex, (i, 1)) for i in range(30)],
        "x" * 5000,
    ]
    out = [pickle.dumps(obj, protocol=p) for obj in objects for p in range(6)]
    out += [
        PAYLOAD,
        b"cos\nsystem\n(S'id'\ntR.",
        b"(S'id'\nios\nsystem\n.",
        b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x8c\x02id\x85R.",
        b"\x80\x04\x8c\x02os\x942q\x010\x8c\x06system\x94h\x01h\x02\x93.",
        b"\x80\x02\x82\x07)R.",
        b"\x80\x02(\x8c\x07storageq\x00ctorch\nFloatStorage\nK\x04tQ.",
    ]
    return out


def one_input(data: bytes) -> None:
    """Scan ``data`` both ways and check the invariants; raise AssertionError if broken."""
    started = time.perf_counter()
    fast = list(interpret(io.BytesIO(data)))
    exact = list(interpret(io.BytesIO(data), skip_data=False))
    elapsed = time.perf_counter() - started
    if elapsed > MAX_SECONDS:
        raise AssertionError(f"slow input: {elapsed:.1f}s for {len(data)} bytes")
    fast_names = {(r.module, r.name) for result in fast for r in result.globals if not r.dynamic}
    exact_names = {(r.module, r.name) for result in exact for r in result.globals if not r.dynamic}
    if not exact_names <= fast_names:
        raise AssertionError(f"skipping lost globals: {sorted(exact_names - fast_names)}")
    if exact and exact[-1].error is None and exact[-1].end == len(data):
        findings = scan_pickle_bytes(data + PAYLOAD, path="fuzz.pkl")
        if not any(f.rule_id == "RMP-PICKLE-001" for f in findings):
            raise AssertionError("a payload after a complete pickle was not reported")


def mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """One random mutation of ``data``."""
    buf = bytearray(data)
    choice = rng.randrange(6)
    if choice == 0 and buf:
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    elif choice == 1:
        other = rng.choice(pool)
        cut = rng.randint(0, len(buf))
        buf[cut:] = other[rng.randint(0, len(other)) :]
    elif choice == 2 and buf:
        del buf[rng.randint(0, len(buf) - 1) :]
    elif choice == 3 and buf:
        start = rng.randrange(len(buf))
        piece = buf[start : start + rng.randint(1, 64)]
        buf[start:start] = piece * rng.randint(1, 8)
    elif choice == 4:
        at = rng.randint(0, len(buf))
        buf[at:at] = bytes([rng.choice(OPCODES)]) + rng.randbytes(rng.randint(0, 4))
    else:
        at = rng.randint(0, len(buf))
        buf[at:at] = rng.choice(pool)
    return bytes(buf[: 1 << 20])


def run(seconds: float, seed: int = 0) -> int:
    """Mutation-fuzz for ``seconds``; return how many inputs ran (raises on a failure)."""
    rng = random.Random(seed)
    pool = seeds()
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        data = mutate(rng, rng.choice(pool), pool)
        try:
            one_input(data)
        except Exception:
            sys.stderr.write(f"input: {data[:400]!r}\n")
            raise
        if rng.random() < 0.05 and len(pool) < 500:
            pool.append(data)
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """Command line: mutation fuzzing, or coverage-guided with ``-atheris``."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["-atheris"]:
        try:
            import atheris  # type: ignore[import-untyped]  # noqa: PLC0415 - optional
        except ImportError:
            sys.stderr.write("atheris is not installed: pip install atheris\n")
            return 2
        atheris.Setup([sys.argv[0], *args[1:]], one_input)
        atheris.Fuzz()
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(args)
    try:
        count = run(options.seconds, options.seed)
    except Exception:  # noqa: BLE001 - a fuzz driver reports any failure and exits non-zero
        traceback.print_exc()
        return 1
    sys.stdout.write(f"{count} inputs, no failure\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
