"""Fuzz target for the text readers: secrets and PII detectors, notebooks, CSV, JSONL.

    python tests/fuzz/fuzz_text.py --seconds 600      # mutation fuzzing, stdlib only

Seeds are notebooks, CSV tables, JSON Lines logs and configs holding secrets and
personal data; each mutated input goes through the secret detector, the PII scanner's
reader for every file kind, and redaction. A failure is an exception, a run slower than
``MAX_SECONDS``, or a reported span that is not the text it claims. Not collected by
pytest (the name does not start with test_).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzloop import fuzz_main, mutate_text

from ramparts.privacy.redact import Redactor
from ramparts.privacy.secrets import SecretDetector
from ramparts.scan.pii import PiiScanner

MAX_SECONDS = 20.0  # all six readers and redaction on one input of up to 256 K chars
MAX_CHARS = 256 * 1024  # inputs grow by duplication; the time limit is per 256 K chars
NAMES = ("a.csv", "b.tsv", "c.jsonl", "d.ipynb", "e.txt", "f.py")
SEEDS = [
    "id,full_name,email,card_number\n1,Stefan Thompson,st@proton.me,4103 0738 6009 7117\n",
    json.dumps({"prompt": "my key is AKIAZ3MQ7YXHJ4KLPQ2R, DOB: 06/06/1947", "ip": "10.1.2.3"}),
    json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "source": ['client = OpenAI(api_key="sk-proj-' + "a1B2" * 20 + '")\n'],
                    "outputs": [{"output_type": "stream", "text": ["NHS number 943 476 5919\n"]}],
                }
            ]
        },
        indent=1,
    ),
    'DATABASE_URL=postgres://app:S3cr3tPassw0rd@db:5432/x\npassword = "Tr0ub4dor&3xQ"\n',
    "-----BEGIN RSA PRIVATE KEY-----\n" + "QUJD" * 30 + "\n-----END RSA PRIVATE KEY-----\n",
]


def mutate(rng: random.Random, text: str) -> str:
    """One random edit (see :func:`fuzzloop.mutate_text`) with this target's specials."""
    return mutate_text(rng, text, SEEDS, '"\\,\t\n{}[]:@-_.\x1b\r')


def check(text: str) -> None:
    """Run every reader on ``text``; raise AssertionError on a wrong span."""
    for det in SecretDetector().detect(text):
        assert text[det.start : det.end] == det.value, det
    scanner = PiiScanner()
    for name in NAMES:
        found = [loc.det for loc in scanner.locate(name, text)]
        for det in found:
            assert 0 <= det.start <= det.end <= len(text), (name, det)
        Redactor().apply(text, found)


def main() -> int:
    """Run the fuzz loop on this target."""
    return fuzz_main(
        "fuzz_text",
        SEEDS,
        mutate,
        check,
        max_chars=MAX_CHARS,
        max_seconds=MAX_SECONDS,
        description=__doc__.splitlines()[0],
    )


if __name__ == "__main__":
    raise SystemExit(main())
