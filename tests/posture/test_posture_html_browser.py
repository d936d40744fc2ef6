"""The HTML posture report opens in headless Chromium and renders a readable page.

Chromium takes a screenshot (checked to be a PNG of the window's size whose top shows
the header band, the red of failing controls and many shades of anti-aliased text) and
dumps the DOM it built (checked for the report's sections and score). Without Chromium
the tests skip with a reason, unless ``RAMPARTS_REQUIRE_SERVICES=1`` (CI), which turns
the skip into a failure; ``.ci/services.sh`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from ramparts.core.types import Location, Severity
from ramparts.posture.interface import (
    Control,
    ControlResult,
    Expectation,
    Framework,
    FrameworkItem,
    PostureReport,
    Score,
    Status,
)
from ramparts.posture.report_html import render_html

pytestmark = pytest.mark.browser

REQUIRE_ENV = "RAMPARTS_REQUIRE_SERVICES"
WIDTH, HEIGHT = 1280, 2400
HEADER_RGB = (0x14, 0x20, 0x2E)  # the page's header band
FAIL_RGB = (0xC2, 0x1F, 0x2B)  # failing controls: score ring, badges


def chromium_binary() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "the browser test needs Chromium (apt-get install chromium; source .ci/services.sh)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{message}; {REQUIRE_ENV}=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def report() -> PostureReport:
    def control(cid: str, domain: str, severity: Severity) -> Control:
        return Control(
            id=cid,
            title=f"Title of {cid}",
            domain=domain,
            severity=severity,
            rationale="Why it matters.",
            evidence="ci.runs_scan",
            expect=Expectation(equals=True),
            remediation="Add `ramparts scan` to CI.",
            mappings=MappingProxyType({"owasp-llm": ("LLM03",)}),
        )

    results = (
        ControlResult(
            control("RP-SC-01", "supply-chain", Severity.HIGH),
            Status.FAIL,
            "no workflow runs ramparts scan <script>document.title='pwned'</script>",
            (Location(".github/workflows/ci.yml", line=3),),
        ),
        ControlResult(control("RP-SC-02", "supply-chain", Severity.MEDIUM), Status.PASS, "signed"),
        ControlResult(control("RP-GW-01", "gateway", Severity.LOW), Status.MANUAL, "unreadable"),
    )
    framework = Framework(
        "owasp-llm",
        "OWASP Top 10 for LLM Applications",
        "2025",
        "OWASP",
        (FrameworkItem("LLM03", "Supply Chain"), FrameworkItem("LLM10", "Unbounded Consumption")),
    )
    return PostureReport(
        tool_version="0.1.0",
        target="demo",
        started_at=datetime(2026, 9, 1, tzinfo=UTC),
        results=results,
        score=Score(1, 1, 1, 0, 2, 3),
        domains={"gateway": Score(0, 0, 1, 0, 0, 0), "supply-chain": Score(1, 1, 0, 0, 2, 3)},
        frameworks={"owasp-llm": Score(1, 1, 1, 0, 2, 3)},
        coverage={"owasp-llm": {"LLM03": "fail", "LLM10": "none"}},
        framework_tables={"owasp-llm": framework},
        previous={"score": 60.0, "statuses": {"RP-SC-01": "PASS"}, "started_at": "2026-08-01"},
    )


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    rows: list[bytes]  # the first rows, unfiltered, RGB or RGBA
    channels: int
    distinct_rows: int  # over the whole image, before unfiltering


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def read_png(data: bytes, first_rows: int) -> Png:
    """Decode an 8-bit, non-interlaced RGB(A) PNG far enough to look at its top."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, list[bytes]()
    header: tuple[int, ...] | None = None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert header is not None, "no IHDR chunk"
    width, height, depth, color_type, _, _, interlace = header
    assert (depth, interlace) == (8, 0), header
    assert color_type in (2, 6), header
    channels = 3 if color_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(b"".join(idat))
    assert len(raw) == height * (stride + 1), "truncated image data"
    lines = [raw[i * (stride + 1) : (i + 1) * (stride + 1)] for i in range(height)]
    rows: list[bytes] = []
    prev = bytearray(stride)
    for line in lines[:first_rows]:
        filter_type, cur = line[0], bytearray(line[1:])
        for i in range(stride):
            a = cur[i - channels] if i >= channels else 0
            b = prev[i]
            if filter_type == 1:
                cur[i] = (cur[i] + a) & 0xFF
            elif filter_type == 2:
                cur[i] = (cur[i] + b) & 0xFF
            elif filter_type == 3:
                cur[i] = (cur[i] + (a + b) // 2) & 0xFF
            elif filter_type == 4:
                c = prev[i - channels] if i >= channels else 0
                cur[i] = (cur[i] + _paeth(a, b, c)) & 0xFF
        rows.append(bytes(cur))
        prev = cur
    return Png(width, height, rows, channels, len(set(lines)))


@pytest.fixture
def page(tmp_path: Path) -> tuple[str, Path]:
    chromium = chromium_binary()
    html = tmp_path / "posture.html"
    html.write_text(render_html(report()), encoding="utf-8")
    return chromium, html


def chromium_args(chromium: str, profile: Path) -> list[str]:
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
    ]


def test_the_report_renders_a_readable_screenshot(page: tuple[str, Path], tmp_path: Path) -> None:
    chromium, html = page
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            *chromium_args(chromium, tmp_path / "profile"),
            f"--screenshot={shot}",
            f"--window-size={WIDTH},{HEIGHT}",
            html.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert shot.is_file(), f"no screenshot (exit {done.returncode}): {done.stderr[-2000:]}"
    png = read_png(shot.read_bytes(), first_rows=320)
    assert (png.width, png.height) == (WIDTH, HEIGHT)
    assert png.distinct_rows > 200, "the page looks blank"
    pixels = [tuple(row[i : i + 3]) for row in png.rows for i in range(0, len(row), png.channels)]
    colours = set(pixels)
    assert len(colours) > 30, f"only {len(colours)} colours: no text was drawn"
    assert pixels.count(HEADER_RGB) > WIDTH * 40, "the header band is missing: CSS not applied"
    assert pixels.count(FAIL_RGB) > 500, "no failing red: the score ring or badges are missing"


def test_the_browser_builds_the_dom_with_every_section(
    page: tuple[str, Path], tmp_path: Path
) -> None:
    chromium, html = page
    done = subprocess.run(
        [*chromium_args(chromium, tmp_path / "profile"), "--dump-dom", html.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "</html>" in dom
    for hook in (
        'id="score"',
        'id="domains"',
        'id="frameworks"',
        'id="failing"',
        'id="coverage"',
        'id="diff"',
        'class="control fail"',
        'class="control manual"',
    ):
        assert hook in dom
    assert "40 / 100" in dom
    assert "Score of automated controls" in dom
    assert "<title>ramparts posture: demo</title>" in dom, "a planted script changed the page"
    assert "&lt;script&gt;document.title" in dom
    assert "compliant" not in dom.lower()
