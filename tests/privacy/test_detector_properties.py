"""Property tests: detectors and parsers of untrusted text never crash and never
report a span that is not what they say it is."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.privacy.pii import PiiDetector
from ramparts.privacy.redact import Redactor
from ramparts.privacy.secrets import SecretDetector
from ramparts.scan.notebook import notebook_parts
from ramparts.scan.pii import PiiScanner, cells

SECRETS = SecretDetector()
PII = PiiDetector()
# Text drawn from the characters detectors care about, so matches actually happen.
ALPHABET = st.sampled_from(
    [
        *"abcdefABCDEF0123456789 _-.:=@/+\"'\\\n\t,;#()[]{}$<>~|",
        *("sk-", "ghp_", "AKIA", "key", "password", "tok:email:", "4103 0738 6009 7117"),
    ]
)
TEXT = st.lists(ALPHABET, max_size=200).map("".join) | st.text(max_size=300)


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_secret_spans_are_what_they_say(text: str) -> None:
    for det in SECRETS.detect(text):
        assert 0 <= det.start < det.end <= len(text)
        assert text[det.start : det.end] == det.value


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_pii_spans_are_what_they_say_and_redaction_removes_them(text: str) -> None:
    found = PII.detect(text)
    for det in found:
        assert 0 <= det.start < det.end <= len(text)
        assert text[det.start : det.end] == det.value
    redacted = Redactor().apply(text, found)
    # Every detected value is gone, unless it also stands elsewhere, undetected.
    outside = text
    for det in sorted(found, key=lambda d: -d.start):
        outside = outside[: det.start] + "\x00" + outside[det.end :]
    for det in found:
        assert det.value not in redacted or det.value in outside


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.sampled_from([",", "\t"]))
def test_csv_cells_point_into_the_line(line: str, delimiter: str) -> None:
    line = line.replace("\n", " ").replace("\r", " ")
    for value, at in cells(line, delimiter):
        assert 0 <= at <= len(line)
        if '"' not in value:
            assert line[at : at + len(value)] == value


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "cell_type": st.just("code"),
                "source": st.lists(st.text(max_size=40), max_size=4),
                "outputs": st.lists(
                    st.fixed_dictionaries(
                        {
                            "output_type": st.just("stream"),
                            "text": st.lists(st.text(max_size=40), max_size=3),
                        }
                    ),
                    max_size=2,
                ),
            }
        ),
        max_size=4,
    ),
    st.booleans(),
)
def test_notebook_parts_place_text_at_its_file_position(
    cells_: list[dict[str, object]], ascii_only: bool
) -> None:
    raw = json.dumps({"cells": cells_, "metadata": {}}, indent=1, ensure_ascii=ascii_only)
    parts = notebook_parts(raw)
    assert parts is not None
    for part in parts:
        for i, start in enumerate(part.starts):
            span = part.raw_span(start, start + 1) if part.text[start : start + 1] else None
            if span is not None and part.raw_offsets[i] >= 0:
                piece = json.loads('"' + raw[span[0] : span[1]] + '"')
                assert piece == part.text[start]


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["a.csv", "b.jsonl", "c.ipynb", "d.txt"]))
def test_pii_locate_never_crashes_on_garbage(data: bytes, name: str) -> None:
    text = data.decode("utf-8", errors="replace")
    for loc in PiiScanner().locate(name, text):
        assert 0 <= loc.det.start <= loc.det.end <= len(text)
