from __future__ import annotations

import asyncio
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.errors import InputError
from ramparts.gateway.metrics import (
    CONTENT_TYPE,
    LATENCY_BUCKETS,
    OVERFLOW,
    Counter,
    GatewayMetrics,
    Histogram,
    Metrics,
)

# A sample line of the text format 0.0.4: name, optional {labels}, value.
SAMPLE = re.compile(
    r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_]\w*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)\Z'
)
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\\n]|\\[\\"n])*)"')


def unescape(value: str) -> str:
    return re.sub(r"\\([\\\"n])", lambda m: "\n" if m[1] == "n" else m[1], value)


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Samples of an exposition, checked line by line against the format's grammar."""
    assert text.endswith("\n")
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert "\n" not in line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in {"counter", "histogram"}
            assert name not in typed, f"two TYPE lines for {name}"
            typed.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        assert name.removesuffix("_bucket").removesuffix("_sum").removesuffix("_count") in typed
        pairs = tuple((k, unescape(v)) for k, v in LABEL.findall(labels or ""))
        samples[(name, pairs)] = float(value)
    return samples


def test_counter_renders_help_type_and_escaped_labels() -> None:
    metrics = Metrics()
    hits = metrics.counter("hits_total", 'Hits, with a \\ and a\nnewline "quoted".', ("path",))
    hits.inc(path='/a"b\\c\nd')
    hits.inc(2.5, path='/a"b\\c\nd')
    hits.inc(path="/plain")
    assert metrics.render() == (
        '# HELP hits_total Hits, with a \\\\ and a\\nnewline "quoted".\n'
        "# TYPE hits_total counter\n"
        'hits_total{path="/a\\"b\\\\c\\nd"} 3.5\n'
        'hits_total{path="/plain"} 1\n'
    )
    samples = parse(metrics.render())
    assert samples[("hits_total", (("path", '/a"b\\c\nd'),))] == 3.5
    assert hits.value(path="/plain") == 1


def test_counter_without_labels_and_an_empty_set() -> None:
    metrics = Metrics()
    assert metrics.render() == ""
    up = metrics.counter("restarts_total", "Restarts.")
    up.inc()
    assert metrics.render().splitlines()[-1] == "restarts_total 1"


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    metrics = Metrics()
    latency = metrics.histogram("op_seconds", "Op time.", ("route",), buckets=(0.1, 1, 10))
    for value in (0.05, 0.1, 0.5, 1.0, 7, 20):
        latency.observe(value, route="/x")
    samples = parse(metrics.render())

    def bucket(le: str) -> float:
        return samples[("op_seconds_bucket", (("route", "/x"), ("le", le)))]

    # le is "less than or equal": 0.1 counts in the 0.1 bucket.
    assert [bucket(le) for le in ("0.1", "1", "10", "+Inf")] == [2, 4, 5, 6]
    assert samples[("op_seconds_count", (("route", "/x"),))] == 6
    assert samples[("op_seconds_sum", (("route", "/x"),))] == pytest.approx(28.65)
    assert latency.count(route="/x") == 6
    assert latency.count(route="/never") == 0


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), max_size=50))
def test_histogram_counts_match_a_direct_count(values: list[float]) -> None:
    metrics = Metrics()
    latency = metrics.histogram("h_seconds", "h.")
    for value in values:
        latency.observe(value)
    if not values:
        assert metrics.render() == "# HELP h_seconds h.\n# TYPE h_seconds histogram\n"
        return
    samples = parse(metrics.render())
    for bound in LATENCY_BUCKETS:
        le = str(int(bound)) if bound.is_integer() else repr(bound)
        expected = sum(v <= bound for v in values)
        assert samples[("h_seconds_bucket", (("le", le),))] == expected
    assert samples[("h_seconds_bucket", (("le", "+Inf"),))] == len(values)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Counter("bad-name", "x"),
        lambda: Counter("ok_total", "x", ("bad-label",)),
        lambda: Counter("ok_total", "x", ("__reserved",)),
        lambda: Counter("ok_total", "x", ("a", "a")),
        lambda: Histogram("ok_seconds", "x", ("le",)),
        lambda: Histogram("ok_seconds", "x", buckets=(1, 0.5)),
        lambda: Histogram("ok_seconds", "x", buckets=()),
    ],
)
def test_invalid_metrics_are_refused(make: object) -> None:
    with pytest.raises(InputError):
        make()  # type: ignore[operator]


def test_labels_must_match_exactly_and_counters_only_go_up() -> None:
    metrics = Metrics()
    requests = metrics.counter("r_total", "r.", ("route", "status"))
    with pytest.raises(InputError, match="takes the labels route, status"):
        requests.inc(route="/a")
    with pytest.raises(InputError, match="no value for label"):
        requests.inc(route="/a", code="200")
    with pytest.raises(InputError, match="only go up"):
        requests.inc(-1, route="/a", status=200)
    with pytest.raises(InputError, match="already registered"):
        metrics.counter("r_total", "again")
    with pytest.raises(InputError, match="NaN"):
        metrics.histogram("t_seconds", "t.").observe(math.nan)
    # A label named like the amount argument is still a label.
    amounts = Counter("a_total", "a.", ("amount",))
    amounts.inc(3, amount="big")
    assert amounts.value(amount="big") == 3


def test_made_up_label_values_cannot_grow_a_metric_without_bound() -> None:
    metrics = Metrics()
    requests = metrics.counter("r_total", "r.", ("model",), max_series=3)
    for i in range(100):
        requests.inc(model=f"made-up-{i}")
    requests.inc(model="made-up-0")
    samples = parse(metrics.render())
    assert len(samples) == 4
    assert samples[("r_total", (("model", "made-up-0"),))] == 2
    assert samples[("r_total", (("model", OVERFLOW),))] == 97


def test_gateway_metrics_render_the_standard_set() -> None:
    metrics = GatewayMetrics()
    metrics.requests_total.inc(route="/v1/chat/completions", model="m", status=200)
    metrics.request_seconds.observe(0.0007, route="/v1/chat/completions")
    metrics.upstream_seconds.observe(0.25)
    metrics.guard_verdicts_total.inc(guard="prompt_injection", action="block", code="pi")
    metrics.rate_limited_total.inc(scope="identity")
    metrics.upstream_errors_total.inc(kind="timeout")
    metrics.kill_switch_blocks_total.inc(scope="model")
    text = metrics.render()
    samples = parse(text)
    names = [line.split(" ")[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert names == [
        "ramparts_gateway_requests_total",
        "ramparts_gateway_request_seconds",
        "ramparts_gateway_upstream_seconds",
        "ramparts_gateway_guard_verdicts_total",
        "ramparts_gateway_rate_limited_total",
        "ramparts_gateway_upstream_errors_total",
        "ramparts_gateway_kill_switch_blocks_total",
    ]
    key = (("route", "/v1/chat/completions"), ("model", "m"), ("status", "200"))
    assert samples[("ramparts_gateway_requests_total", key)] == 1
    route = (("route", "/v1/chat/completions"),)
    assert samples[("ramparts_gateway_request_seconds_bucket", (*route, ("le", "0.0005")))] == 0
    assert samples[("ramparts_gateway_request_seconds_bucket", (*route, ("le", "0.001")))] == 1
    assert samples[("ramparts_gateway_upstream_seconds_bucket", (("le", "0.25"),))] == 1
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_increments_from_many_tasks_are_all_counted() -> None:
    metrics = GatewayMetrics()

    async def one(i: int) -> None:
        await asyncio.sleep(0)
        metrics.requests_total.inc(route="/r", model=f"m{i % 3}", status=200)
        metrics.request_seconds.observe(0.001 * i, route="/r")

    async def many() -> None:
        await asyncio.gather(*(one(i) for i in range(300)))

    asyncio.run(many())
    assert (
        sum(metrics.requests_total.value(route="/r", model=f"m{i}", status=200) for i in range(3))
        == 300
    )
    assert metrics.request_seconds.count(route="/r") == 300
