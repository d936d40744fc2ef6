"""The mutation loop shared by the text fuzz targets (fuzz_text.py, fuzz_deps.py).

Each target gives its seeds, a mutator and a check; this runs them for ``--seconds``
from ``--seed``, grows the corpus with small survivors, and reports the first input
that raises or takes longer than the target's time limit (saved with ``--save``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["fuzz_main", "mutate_text"]


def mutate_text(rng: random.Random, text: str, seeds: Sequence[str], specials: str) -> str:
    """One random edit: flip, splice from a seed, cut, duplicate, or insert a special."""
    if not text:
        return rng.choice(seeds)
    i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
    op = rng.randrange(5)
    if op == 0:
        return text[:i] + chr(rng.randrange(0x20, 0x2FFF)) + text[i + 1 :]
    if op == 1:
        return text[:i] + rng.choice(seeds)[: j - i + 20] + text[j:]
    if op == 2:
        return text[:i] + text[j:]
    if op == 3:
        return text[:j] + text[i:j] * rng.randrange(1, 50) + text[j:]
    return text[:i] + rng.choice(specials) + text[i:]


def fuzz_main(
    name: str,
    seeds: Sequence[str],
    mutate: Callable[[random.Random, str], str],
    check: Callable[[str], None],
    *,
    max_chars: int,
    max_seconds: float,
    description: str,
) -> int:
    """Parse the command line and run the loop; 0 when no input failed."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--save", help="write a failing input to this file")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpus = list(seeds)
    end = time.monotonic() + args.seconds
    runs = 0
    while time.monotonic() < end:
        text = rng.choice(corpus)
        for _ in range(rng.randrange(1, 6)):
            text = mutate(rng, text)[:max_chars]
        t0 = time.monotonic()
        try:
            check(text)
        except Exception:  # noqa: BLE001 - every failure is reported with its input
            return _failed(f"FAIL on {text[:400]!r}\n{traceback.format_exc()}", text, args.save)
        if time.monotonic() - t0 > max_seconds:
            return _failed(
                f"SLOW ({time.monotonic() - t0:.1f} s) on {text[:400]!r}\n", text, args.save
            )
        if len(text) < 20_000 and rng.random() < 0.05:
            corpus.append(text)
        runs += 1
    sys.stdout.write(f"{name}: {runs} inputs, no failure\n")
    return 0


def _failed(message: str, text: str, save: str | None) -> int:
    sys.stderr.write(message)
    if save:
        Path(save).write_text(text, encoding="utf-8")
    return 1
