"""The posture report as one self-contained HTML page that a person wants to read.

Inline CSS and inline SVG charts only: no JavaScript, no fonts or styles from a
network, so the file works offline, in a mail attachment or a CI artifact, and prints
well. The page reads top-down in the order of what needs attention: the score of
automated controls with counts by status, what changed since the previous run, charts
per domain and per framework, failing controls (most severe first) with evidence,
locations, rationale and fix, controls to judge by hand, then passing and
not-applicable controls folded away, the coverage table of every framework and the
inventory.

Every string that comes from the report goes through :func:`html.escape`: evidence
and locations come from the inspected repository and are untrusted. Colour is never
the only signal: every status is also written as a word, and each chart has a table
of its numbers. Stable hooks for tests and readers: ``id="score"``, ``"diff"``,
``"domains"``, ``"frameworks"``, ``"failing"``, ``"manual"``, ``"passing"``,
``"coverage"``, ``"inventory"``; each control is an ``article`` with
``class="control fail"`` (``pass``, ``manual``, ``not-applicable``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable

from ramparts.posture.interface import ControlResult, PostureReport, Score, Status
from ramparts.posture.report_common import (
    SCORE_OF,
    changes,
    coverage_counts,
    framework_name,
    inventory_counts,
    mapped_controls,
    ordered,
    previous_run,
    score_text,
    shadow_items,
    status_word,
)

__all__ = ["render_html"]

_CLASS = {
    Status.PASS: "pass",
    Status.FAIL: "fail",
    Status.MANUAL: "manual",
    Status.NOT_APPLICABLE: "not-applicable",
}
_STATE_WORD = {"pass": "PASS", "fail": "FAIL", "manual": "MANUAL", "none": "NOT COVERED"}

_CSS = """
:root {
  color-scheme: light;
  --bg: #f6f7f9; --card: #ffffff; --ink: #1c2128; --muted: #59636e; --line: #d9dee3;
  --accent: #0b5cad; --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #c21f2b;
  --fail-bg: #ffebe9; --manual: #8a5a00; --manual-bg: #fff4d1; --na: #5f6b76;
  --na-bg: #eef1f4; --track: #e7ebef;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0; color: var(--ink); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", "Liberation Sans", sans-serif;
}
code, .mono {
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: 0.9em;
}
header.top { background: #14202e; color: #f2f5f8; padding: 28px 0 24px; }
.wrap { max-width: 1080px; margin: 0 auto; padding: 0 24px; }
.brand { font-size: 13px; letter-spacing: .08em; text-transform: uppercase; color: #a9bacb; }
h1 { margin: 4px 0 6px; font-size: 26px; line-height: 1.25; overflow-wrap: anywhere; }
.meta { margin: 0; color: #c3cfdb; font-size: 14px; }
main { padding: 24px 0 40px; }
section.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 24px; margin: 0 0 20px;
}
h2 { font-size: 19px; margin: 0 0 12px; }
h3 { font-size: 16px; margin: 0 0 6px; }
p { margin: 0 0 10px; }
.muted { color: var(--muted); }
.headline { display: flex; gap: 32px; align-items: center; flex-wrap: wrap; }
.gauge { flex: none; }
.headline > div { flex: 1 1 320px; }
.counts { list-style: none; padding: 0; margin: 12px 0 0; display: flex; gap: 10px;
  flex-wrap: wrap; }
.counts li { border-radius: 999px; padding: 3px 12px; font-weight: 600; font-size: 14px;
  border: 1px solid var(--line); }
.badge { display: inline-block; border-radius: 4px; padding: 1px 7px; font-size: 12px;
  font-weight: 700; letter-spacing: .03em; vertical-align: 2px; border: 1px solid; }
.fail .badge, .badge.fail, .counts .fail { color: var(--fail); background: var(--fail-bg);
  border-color: #f3b4b0; }
.pass .badge, .badge.pass, .counts .pass { color: var(--pass); background: var(--pass-bg);
  border-color: #a8e0b5; }
.manual .badge, .badge.manual, .counts .manual { color: var(--manual);
  background: var(--manual-bg); border-color: #ecd28b; }
.not-applicable .badge, .badge.not-applicable, .badge.none, .counts .not-applicable {
  color: var(--na); background: var(--na-bg); border-color: #cfd6dc; }
.trend { font-size: 16px; margin-top: 10px; }
.lead { font-size: 16px; }
a { color: var(--accent); }
.up { color: var(--pass); font-weight: 700; }
.down { color: var(--fail); font-weight: 700; }
ul.changes { margin: 8px 0 0; padding-left: 20px; }
ul.changes li { margin: 3px 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  fill: var(--ink); }
svg .label { font-size: 15px; font-weight: 600; }
svg .small { font-size: 12.5px; fill: var(--muted); }
svg .value { font-size: 15px; font-weight: 700; }
svg .track { fill: var(--track); }
svg .band-good { fill: var(--pass); }
svg .band-mid { fill: #b7791f; }
svg .band-low { fill: var(--fail); }
svg .seg-pass { fill: var(--pass); }
svg .seg-fail { fill: var(--fail); }
svg .seg-manual { fill: #d4a72c; }
svg .seg-not-applicable { fill: #aab4bd; }
.ring-track, .ring { fill: none; }
.ring-track { stroke: var(--track); }
.ring-good { stroke: var(--pass); }
.ring-mid { stroke: #b7791f; }
.ring-low { stroke: var(--fail); }
svg .gauge-value { font-size: 34px; font-weight: 700; }
svg .gauge-unit { font-size: 13px; fill: var(--muted); }
.legend { font-size: 13px; color: var(--muted); margin: 6px 0 0; }
.legend span { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin: 0 4px 0 12px; vertical-align: 0; }
.legend span:first-child { margin-left: 0; }
.sw-pass { background: var(--pass); } .sw-fail { background: var(--fail); }
.sw-manual { background: #d4a72c; } .sw-na { background: #aab4bd; }
article.control { border: 1px solid var(--line); border-left-width: 5px; border-radius: 8px;
  padding: 14px 18px; margin: 0 0 14px; background: var(--card); break-inside: avoid; }
article.control.fail { border-left-color: var(--fail); }
article.control.manual { border-left-color: #d4a72c; }
article.control.pass { border-left-color: var(--pass); }
article.control.not-applicable { border-left-color: #aab4bd; }
.cid { font-family: ui-monospace, Menlo, Consolas, "Liberation Mono", monospace;
  color: var(--muted); font-size: 14px; margin-right: 4px; }
.sub { color: var(--muted); font-size: 13px; margin: 0 0 8px; }
dl.facts { display: grid; grid-template-columns: 130px 1fr; gap: 4px 14px; margin: 0; }
dl.facts dt { font-weight: 600; color: var(--muted); font-size: 14px; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
dl.facts ul { margin: 0; padding-left: 18px; }
details { margin: 8px 0 0; }
summary { cursor: pointer; font-weight: 600; color: var(--accent); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
caption { text-align: left; color: var(--muted); font-size: 13px; padding: 0 0 6px; }
th, td { border-bottom: 1px solid var(--line); padding: 6px 8px; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #f0f3f6; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { background: none; }
tr.state-fail > :first-child { box-shadow: inset 4px 0 0 var(--fail); }
tr.state-pass > :first-child { box-shadow: inset 4px 0 0 var(--pass); }
tr.state-manual > :first-child { box-shadow: inset 4px 0 0 #d4a72c; }
tr.state-none > :first-child { box-shadow: inset 4px 0 0 #cfd6dc; }
.framework + .framework { margin-top: 22px; }
table.coverage th:nth-child(1) { width: 130px; }
table.coverage th:nth-child(3) { width: 140px; }
table.coverage th:nth-child(4) { width: 220px; }
table.inventory { max-width: 460px; }
footer { color: var(--muted); font-size: 13px; padding: 0 0 32px; }
@media print {
  html, body { background: #fff; }
  header.top { background: #fff; color: var(--ink); border-bottom: 2px solid var(--ink); }
  .brand, .meta { color: var(--muted); }
  section.card { border: none; padding: 0; margin-bottom: 18px; }
  details::details-content { content-visibility: visible; display: block; }
  summary { color: var(--ink); }
  article.control, tr, svg { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _e(value: object) -> str:
    """``value`` as text that is safe in HTML content and attribute values."""
    return html.escape(str(value), quote=True)


def _band(value: float | None) -> str:
    if value is None:
        return "none"
    if value >= 80:
        return "good"
    return "mid" if value >= 50 else "low"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _gauge(score: Score) -> str:
    """A ring filled to the score, with the number in its middle."""
    value = score.value
    radius = 64.0
    circumference = 2 * math.pi * radius
    shown = "n/a" if value is None else f"{value:g}"
    arc = ""
    if value is not None and value > 0:
        length = circumference * value / 100
        arc = (
            f'<circle class="ring ring-{_band(value)}" cx="80" cy="80" r="{radius:g}" '
            f'stroke-width="16" stroke-dasharray="{length:.2f} {circumference:.2f}" '
            f'transform="rotate(-90 80 80)"/>'
        )
    return (
        f'<svg class="gauge" width="160" height="160" viewBox="0 0 160 160" role="img" '
        f'aria-label="{_e(SCORE_OF)}: {_e(score_text(score))}">'
        f'<circle class="ring-track" cx="80" cy="80" r="{radius:g}" stroke-width="16"/>{arc}'
        f'<text x="80" y="88" text-anchor="middle" class="gauge-value score-value">'
        f"{_e(shown)}</text>"
        f'<text x="80" y="110" text-anchor="middle" class="gauge-unit">'
        f"{'' if value is None else '/ 100'}</text></svg>"
    )


def _counts(score: Score) -> str:
    items = [
        ("fail", score.failed, "FAIL"),
        ("manual", score.manual, "MANUAL"),
        ("pass", score.passed, "PASS"),
        ("not-applicable", score.not_applicable, "NOT APPLICABLE"),
    ]
    lis = "".join(f'<li class="{cls}">{n} {word}</li>' for cls, n, word in items)
    return f'<ul class="counts" aria-label="controls by status">{lis}</ul>'


def _bar_chart(title: str, rows: list[tuple[str, Score]]) -> str:
    """Horizontal bars: each row's score, and beneath it its counts by status.

    Short names (domains) sit left of their bars; long ones (framework names with
    their editions) get a line of their own above the bar, so none is cut short.
    """
    if not rows:
        return '<p class="muted">Nothing to chart.</p>'
    stacked = max(len(name) for name, _ in rows) > 30
    # (label's room in characters, bar x, bar width, bar y offset, row height)
    room, bar_x, bar_w, top, row_h = (110, 0, 860, 26, 82) if stacked else (34, 300, 560, 3, 58)
    height = row_h * len(rows) + 4
    parts = [
        (
            f'<svg class="chart" viewBox="0 0 1000 {height}" role="img" '
            f'aria-label="{_e(title)}"><title>{_e(title)}</title>'
        )
    ]
    for i, (name, score) in enumerate(rows):
        y = i * row_h + 4
        bar_y = y + top
        value = score.value
        parts.append(
            f"<g><title>{_e(name)}: {_e(score_text(score))}</title>"
            f'<text class="label" x="0" y="{y + 15}">{_e(_clip(name, room))}</text>'
            f'<rect class="track" x="{bar_x}" y="{bar_y}" width="{bar_w}" height="16" rx="3"/>'
        )
        if value is not None and value > 0:
            parts.append(
                f'<rect class="band-{_band(value)}" x="{bar_x}" y="{bar_y}" '
                f'width="{bar_w * value / 100:.1f}" height="16" rx="3"/>'
            )
        shown = "no score" if value is None else f"{value:g}"
        parts.append(
            f'<text class="value" x="{bar_x + bar_w + 12}" y="{bar_y + 13}">{_e(shown)}</text>'
        )
        segments = [
            ("pass", score.passed),
            ("fail", score.failed),
            ("manual", score.manual),
            ("not-applicable", score.not_applicable),
        ]
        total = sum(n for _, n in segments)
        x = float(bar_x)
        for cls, n in segments:
            if total and n:
                width = bar_w * n / total
                parts.append(
                    f'<rect class="seg-{cls}" x="{x:.1f}" y="{bar_y + 21}" '
                    f'width="{width:.1f}" height="7"/>'
                )
                x += width
        parts.append(
            f'<text class="small" x="{bar_x}" y="{bar_y + 43}">{score.passed} pass · '
            f"{score.failed} fail · {score.manual} manual · "
            f"{score.not_applicable} not applicable</text></g>"
        )
    parts.append("</svg>")
    parts.append(
        '<p class="legend" aria-hidden="true">Counts: <span class="sw-pass"></span>pass'
        '<span class="sw-fail"></span>fail<span class="sw-manual"></span>manual'
        '<span class="sw-na"></span>not applicable</p>'
    )
    return "".join(parts)


def _score_table(kind: str, rows: list[tuple[str, Score]]) -> str:
    body = "".join(
        f'<tr><th scope="row">{_e(name)}</th><td class="num">{_e(score_text(s))}</td>'
        f'<td class="num">{s.passed}</td><td class="num">{s.failed}</td>'
        f'<td class="num">{s.manual}</td><td class="num">{s.not_applicable}</td></tr>'
        for name, s in rows
    )
    return (
        f"<details><summary>The numbers as a table</summary><table>"
        f'<thead><tr><th scope="col">{_e(kind)}</th><th scope="col" class="num">score</th>'
        f'<th scope="col" class="num">pass</th><th scope="col" class="num">fail</th>'
        f'<th scope="col" class="num">manual</th>'
        f'<th scope="col" class="num">not applicable</th></tr></thead>'
        f"<tbody>{body}</tbody></table></details>"
    )


def _control(r: ControlResult, report: PostureReport) -> str:
    c = r.control
    cls = _CLASS[r.status]
    rows = [("Evidence", _e(r.evidence))]
    if r.locations:
        items = "".join(f"<li><code>{_e(loc)}</code></li>" for loc in r.locations)
        rows.append(("Where", f"<ul>{items}</ul>"))
    rows.append(("Why it matters", _e(c.rationale)))
    rows.append(("Fix", _e(c.remediation)))
    rule = f"<code>{_e(c.evidence)}</code> {_e(c.expect.describe())}"
    if c.applies:
        rule += f" (applies when <code>{_e(c.applies)}</code> is true)"
    rows.append(("Rule", rule))
    if c.mappings:
        mapped = "<br>".join(
            f"{_e(framework_name(report, fid))}: {_e(', '.join(ids))}"
            for fid, ids in c.mappings.items()
        )
        rows.append(("Maps to", mapped))
    facts = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return (
        f'<article class="control {cls}">'
        f'<h3><span class="badge {cls}">{_e(status_word(r.status))}</span> '
        f'<span class="cid">{_e(c.id)}</span> {_e(c.title)}</h3>'
        f'<p class="sub">severity {_e(c.severity.value)} · domain {_e(c.domain)} · '
        f"weight {c.weight}</p>"
        f'<dl class="facts">{facts}</dl></article>'
    )


def _controls(results: Iterable[ControlResult], report: PostureReport) -> str:
    return "".join(_control(r, report) for r in results)


def _diff(report: PostureReport) -> str:
    previous = previous_run(report)
    if previous is None:
        return ""
    before = previous.score
    now = report.score.value
    trend = ""
    if before is not None and now is not None:
        delta = round(now - before, 1)
        if delta > 0:
            trend = f' <span class="up">up {delta:g}</span>'
        elif delta < 0:
            trend = f' <span class="down">down {-delta:g}</span>'
        else:
            trend = " (unchanged)"
    shown_before = "no score" if before is None else f"{before:g} / 100"
    when = f" of {_e(previous.started_at)}" if previous.started_at else ""
    found = changes(report)
    if found:
        items = "".join(
            f'<li><span class="cid">{_e(ch.control_id)}</span> '
            f"{_e(status_word(ch.before) if ch.before else 'new')} → "
            f"{_e(status_word(ch.after) if ch.after else 'no longer evaluated')}"
            f"{': ' + _e(ch.evidence) if ch.evidence else ''}</li>"
            for ch in found
        )
        listed = f'<ul class="changes">{items}</ul>'
    else:
        listed = "<p>No control changed status.</p>"
    return (
        f'<section class="card" id="diff" aria-labelledby="h-diff">'
        f'<h2 id="h-diff">Since the previous run</h2>'
        f'<p class="trend">Score {_e(shown_before)} → {_e(score_text(report.score))}'
        f"{trend} (previous run{when}).</p>"
        f"<p>{len(found)} control(s) changed status:</p>{listed}</section>"
    )


def _coverage(report: PostureReport) -> str:
    parts = []
    for fid in sorted(report.coverage):
        states = report.coverage[fid]
        table = report.framework_tables.get(fid)
        titles = {i.id: i.title for i in table.items} if table else {}
        mapped = mapped_controls(report, fid)
        counts = coverage_counts(report, fid)
        summary = (
            f"{len(states)} items: {counts['pass']} pass, {counts['fail']} fail, "
            f"{counts['manual']} manual, {counts['none']} not covered by any control"
        )
        source = (
            f'<p class="muted">Source: {_e(table.source)}</p>' if table and table.source else ""
        )
        body = "".join(
            f'<tr class="state-{_e(state)}"><th scope="row" class="mono">{_e(item_id)}</th>'
            f"<td>{_e(titles.get(item_id, ''))}</td>"
            f'<td><span class="badge {_e(state)}">'
            f"{_e(_STATE_WORD.get(state, state.upper()))}</span></td>"
            f'<td class="mono">{_e(", ".join(mapped.get(item_id, [])) or "—")}</td></tr>'
            for item_id, state in states.items()
        )
        parts.append(
            f'<div class="framework"><h3>{_e(framework_name(report, fid))}</h3>{source}'
            f'<p>{_e(summary)}</p><table class="coverage"><caption>Every pinned item of '
            f"{_e(framework_name(report, fid))} and the controls mapped to it</caption>"
            f'<thead><tr><th scope="col">item</th><th scope="col">title</th>'
            f'<th scope="col">state</th><th scope="col">controls</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    inner = "".join(parts) or '<p class="muted">No framework table was loaded.</p>'
    return (
        '<section class="card" id="coverage" aria-labelledby="h-coverage">'
        '<h2 id="h-coverage">Coverage per framework</h2>'
        '<p class="muted">An item is PASS when only passing controls map to it, FAIL when a '
        "mapped control fails, MANUAL when its controls need a person's judgement or do not "
        "apply, NOT COVERED when no control maps to it. Coverage says what ramparts checked, "
        f"not that a framework's requirements are met.</p>{inner}</section>"
    )


def _inventory(report: PostureReport) -> str:
    counts = inventory_counts(report.inventory)
    shadow = shadow_items(report.inventory)
    if not counts and not shadow:
        return ""
    parts = [
        (
            '<section class="card" id="inventory" aria-labelledby="h-inventory">'
            '<h2 id="h-inventory">Inventory</h2>'
        )
    ]
    if counts:
        rows = "".join(
            f'<tr><th scope="row">{_e(kind)}</th><td class="num">{n}</td></tr>'
            for kind, n in counts.items()
        )
        parts.append(
            '<table class="inventory"><thead><tr><th scope="col">asset kind</th>'
            f'<th scope="col" class="num">count</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    if shadow:
        rows = "".join(
            f"<tr><td>{_e(s.kind)}</td><td>{_e(s.name)}</td><td>{_e(s.provider)}</td>"
            f'<td class="mono">{_e(s.location)}</td><td>{_e(s.reason)}</td></tr>'
            for s in shadow
        )
        parts.append(
            f'<h3 id="shadow">Unapproved AI use (shadow AI): {len(shadow)}</h3>'
            '<table class="shadow"><thead><tr><th scope="col">kind</th>'
            '<th scope="col">name</th><th scope="col">provider</th><th scope="col">where</th>'
            f'<th scope="col">why</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    parts.append("</section>")
    return "".join(parts)


def _trend_line(report: PostureReport) -> str:
    previous = previous_run(report)
    if previous is None or previous.score is None or report.score.value is None:
        return ""
    delta = round(report.score.value - previous.score, 1)
    if delta == 0:
        return '<p class="trend">Unchanged since the previous run.</p>'
    word, cls = ("up", "up") if delta > 0 else ("down", "down")
    return (
        f'<p class="trend"><span class="{cls}">{word} {abs(delta):g}</span> since the '
        f'previous run ({previous.score:g} / 100); see <a href="#diff">what changed</a>.</p>'
    )


def render_html(report: PostureReport) -> str:
    """``report`` as one self-contained HTML document (no scripts, no network)."""
    s = report.score
    results = ordered(report.results)
    failing = [r for r in results if r.status is Status.FAIL]
    manual = [r for r in results if r.status is Status.MANUAL]
    passing = [r for r in results if r.status is Status.PASS]
    not_applicable = [r for r in results if r.status is Status.NOT_APPLICABLE]
    domains = sorted(report.domains.items())
    frameworks = sorted(
        ((framework_name(report, fid), sc) for fid, sc in report.frameworks.items()),
        key=lambda row: row[0].lower(),
    )
    title = f"ramparts posture: {report.target}"

    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="ramparts {_e(report.tool_version)}">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        '<header class="top"><div class="wrap"><div class="brand">ramparts posture</div>',
        f"<h1>{_e(report.target)}</h1>",
        (
            f'<p class="meta">ramparts {_e(report.tool_version)} · run '
            f"{_e(report.started_at.isoformat(timespec='seconds'))} · {len(results)} controls</p>"
        ),
        '</div></header><main class="wrap">',
        '<section class="card" id="score" aria-labelledby="h-score">',
        f'<h2 id="h-score">{_e(SCORE_OF.capitalize())}</h2>',
        f'<div class="headline">{_gauge(s)}<div>',
        (
            f'<p class="lead"><strong>{_e(score_text(s))}</strong>: weighted passes over '
            f"weighted passes and fails of the automated controls. {s.manual} manual and "
            f"{s.not_applicable} not-applicable control(s) do not count. It measures what "
            "ramparts could check, nothing more.</p>"
        ),
        _trend_line(report),
        _counts(s),
        "</div></div></section>",
        _diff(report),
        '<section class="card" id="domains" aria-labelledby="h-domains">',
        '<h2 id="h-domains">Domains</h2>',
        _bar_chart("Score of automated controls per domain", domains),
        _score_table("domain", domains),
        "</section>",
        '<section class="card" id="frameworks" aria-labelledby="h-frameworks">',
        '<h2 id="h-frameworks">Frameworks</h2>',
        '<p class="muted">Each framework scores the controls mapped to its items.</p>',
        _bar_chart("Score of automated controls per framework", frameworks),
        _score_table("framework", frameworks),
        "</section>",
        '<section class="card" id="failing" aria-labelledby="h-failing">',
        f'<h2 id="h-failing">Failing controls ({len(failing)})</h2>',
        _controls(failing, report) or "<p>No automated control fails.</p>",
        "</section>",
    ]
    if manual:
        out += [
            '<section class="card" id="manual" aria-labelledby="h-manual">',
            f'<h2 id="h-manual">To judge by hand ({len(manual)})</h2>',
            (
                '<p class="muted">ramparts could not decide these from the evidence; a person '
                "must.</p>"
            ),
            _controls(manual, report),
            "</section>",
        ]
    out += [
        '<section class="card" id="passing" aria-labelledby="h-passing">',
        '<h2 id="h-passing">Passing and not applicable</h2>',
        f"<details><summary>{len(passing)} passing control(s)</summary>",
        _controls(passing, report) or "<p>None.</p>",
        "</details>",
        f"<details><summary>{len(not_applicable)} not-applicable control(s)</summary>",
        _controls(not_applicable, report) or "<p>None.</p>",
        "</details></section>",
        _coverage(report),
        _inventory(report),
        "</main>",
        (
            '<footer class="wrap">Generated by ramparts '
            f"{_e(report.tool_version)}. A score measures automated controls only; manual "
            "controls and anything outside the catalogue need a person's judgement.</footer>"
        ),
        "</body></html>",
    ]
    return "\n".join(part for part in out if part) + "\n"
