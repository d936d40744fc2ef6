"""Prometheus metrics of the gateway, in the text exposition format 0.0.4, with no dependency.

::

    metrics = GatewayMetrics()
    metrics.requests_total.inc(route="/v1/chat/completions", model="m", status="200")
    metrics.request_seconds.observe(0.0123, route="/v1/chat/completions")
    body = metrics.render()        # GET /metrics, with Content-Type CONTENT_TYPE

A metric holds one series per combination of label values. Recording is a dictionary
update with no lock: under asyncio it runs to completion and cannot interleave. Record
from the event loop's thread only: increments from several threads at once may lose
counts (never corrupt the output). :meth:`Metrics.render` may run in any thread.

Label values come from requests, so a metric keeps at most ``max_series`` series (1,000
by default); once full, new combinations are counted in one series whose label values
are all ``_overflow`` and existing ones keep counting, so a flood of made-up model
names cannot exhaust memory.
"""

from __future__ import annotations

import itertools
import math
import re
from bisect import bisect_left
from collections.abc import Collection, Iterable, Sequence
from typing import TypeVar

from ramparts.errors import InputError

__all__ = [
    "CONTENT_TYPE",
    "LATENCY_BUCKETS",
    "OVERFLOW",
    "Counter",
    "GatewayMetrics",
    "Histogram",
    "Metrics",
]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The ``Content-Type`` of :meth:`Metrics.render`'s text."""

LATENCY_BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
"""Upper bounds (seconds) of the latency histograms: half a millisecond to ten seconds."""

OVERFLOW = "_overflow"
"""The label value of the series that counts combinations past ``max_series``."""

_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

LabelValue = str | int
"""A label value; integers (HTTP status) are written in decimal."""


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    """A sample value as Go's ParseFloat reads it: integers without a fraction."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


class _Metric:
    kind = ""

    def __init__(
        self, name: str, description: str, labelnames: Sequence[str] = (), *, max_series: int = 1000
    ) -> None:
        if not _METRIC_NAME.match(name):
            raise InputError(f"invalid metric name {name!r}")
        names = tuple(labelnames)
        for label in names:
            if not _LABEL_NAME.match(label) or label.startswith("__"):
                raise InputError(f"invalid label name {label!r} for metric {name}")
        if len(set(names)) != len(names):
            raise InputError(f"duplicate label names for metric {name}")
        if max_series <= 0:
            raise InputError(f"max_series must be > 0, got {max_series}")
        self.name = name
        self.description = description
        self.labelnames = names
        self._max_series = max_series
        self._overflow = (OVERFLOW,) * len(names)

    def _key(
        self, labels: dict[str, LabelValue], known: Collection[tuple[str, ...]] | None = None
    ) -> tuple[str, ...]:
        # With ``known`` (the series so far), a new key past max_series becomes the
        # overflow series.
        if len(labels) != len(self.labelnames):
            raise InputError(
                f"metric {self.name} takes the labels {', '.join(self.labelnames) or '(none)'}, "
                f"got {', '.join(sorted(labels)) or '(none)'}"
            )
        try:
            key = tuple([str(labels[n]) for n in self.labelnames])
        except KeyError as exc:
            raise InputError(f"metric {self.name} has no value for label {exc.args[0]}") from None
        if known is not None and key not in known and len(known) >= self._max_series:
            return self._overflow
        return key

    def _labels(self, key: tuple[str, ...], extra: str = "") -> str:
        pairs = [f'{n}="{_escape_label(v)}"' for n, v in zip(self.labelnames, key, strict=True)]
        if extra:
            pairs.append(extra)
        return "{" + ",".join(pairs) + "}" if pairs else ""

    def _header(self) -> list[str]:
        return [
            f"# HELP {self.name} {_escape_help(self.description)}",
            f"# TYPE {self.name} {self.kind}",
        ]

    def samples(self) -> list[str]:
        """The metric's lines in the exposition format (HELP, TYPE, then samples)."""
        raise NotImplementedError


_M = TypeVar("_M", bound=_Metric)


class Counter(_Metric):
    """A count that only goes up, one per combination of label values."""

    kind = "counter"

    def __init__(
        self, name: str, description: str, labelnames: Sequence[str] = (), *, max_series: int = 1000
    ) -> None:
        """A counter ``name`` (by convention ending in ``_total``) with these label names."""
        super().__init__(name, description, labelnames, max_series=max_series)
        self._values: dict[tuple[str, ...], float] = {}

    def inc(self, amount: float = 1.0, /, **labels: LabelValue) -> None:
        """Add ``amount`` (>= 0) to the series of ``labels`` (every label name, exactly)."""
        if not amount >= 0:
            raise InputError(f"counter {self.name} can only go up, got {amount!r}")
        values = self._values
        key = self._key(labels, values)
        values[key] = values.get(key, 0.0) + amount

    def value(self, **labels: LabelValue) -> float:
        """The current count of ``labels``' series (0 if never incremented)."""
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        """HELP, TYPE and one line per series."""
        lines = self._header()
        for key, value in sorted(self._values.copy().items()):
            lines.append(f"{self.name}{self._labels(key)} {_number(value)}")
        return lines


class _Series:
    __slots__ = ("buckets", "count", "sum")

    def __init__(self, size: int) -> None:
        self.buckets = [0] * size
        self.count = 0
        self.sum = 0.0


class Histogram(_Metric):
    """Observations (latencies) counted in fixed buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        description: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Iterable[float] = LATENCY_BUCKETS,
        max_series: int = 1000,
    ) -> None:
        """A histogram ``name`` with these upper bounds (``+Inf`` is always added)."""
        super().__init__(name, description, labelnames, max_series=max_series)
        if "le" in self.labelnames:
            raise InputError(f"histogram {name} cannot have a label named le")
        bounds = tuple(float(b) for b in buckets if not math.isinf(b))
        if not bounds or any(math.isnan(b) for b in bounds):
            raise InputError(f"histogram {name} needs finite bucket bounds")
        if any(a >= b for a, b in itertools.pairwise(bounds)):
            raise InputError(f"histogram {name} bucket bounds must increase")
        self.buckets = bounds
        self._le = [f'le="{_number(b)}"' for b in bounds] + ['le="+Inf"']
        self._series: dict[tuple[str, ...], _Series] = {}

    def observe(self, value: float, /, **labels: LabelValue) -> None:
        """Record ``value`` in the series of ``labels`` (every label name, exactly)."""
        if math.isnan(value):
            raise InputError(f"histogram {self.name} cannot observe NaN")
        series = self._series
        key = self._key(labels, series)
        found = series.get(key)
        if found is None:
            found = series[key] = _Series(len(self.buckets) + 1)
        # Bounds are inclusive ("le"): a value equal to a bound counts in that bucket.
        found.buckets[bisect_left(self.buckets, value)] += 1
        found.count += 1
        found.sum += value

    def count(self, **labels: LabelValue) -> int:
        """How many values ``labels``' series has observed."""
        found = self._series.get(self._key(labels))
        return 0 if found is None else found.count

    def samples(self) -> list[str]:
        """HELP, TYPE, then per series its cumulative buckets, sum and count."""
        lines = self._header()
        for key, series in sorted(self._series.copy().items()):
            cumulative = 0
            for le, n in zip(self._le, list(series.buckets), strict=True):
                cumulative += n
                lines.append(f"{self.name}_bucket{self._labels(key, le)} {cumulative}")
            labels = self._labels(key)
            lines.append(f"{self.name}_sum{labels} {_number(series.sum)}")
            # The +Inf bucket and the count are the same number, read once above.
            lines.append(f"{self.name}_count{labels} {cumulative}")
        return lines


class Metrics:
    """A set of metrics rendered together (the gateway's ``/metrics``)."""

    def __init__(self) -> None:
        """An empty set."""
        self._metrics: dict[str, _Metric] = {}

    def _add(self, metric: _M) -> _M:
        if metric.name in self._metrics:
            raise InputError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def counter(
        self, name: str, description: str, labelnames: Sequence[str] = (), *, max_series: int = 1000
    ) -> Counter:
        """A new :class:`Counter` in this set."""
        return self._add(Counter(name, description, labelnames, max_series=max_series))

    def histogram(
        self,
        name: str,
        description: str,
        labelnames: Sequence[str] = (),
        *,
        buckets: Iterable[float] = LATENCY_BUCKETS,
        max_series: int = 1000,
    ) -> Histogram:
        """A new :class:`Histogram` in this set."""
        return self._add(
            Histogram(name, description, labelnames, buckets=buckets, max_series=max_series)
        )

    def render(self) -> str:
        """Every metric in the text format 0.0.4, in registration order, ending with a newline."""
        lines: list[str] = []
        for metric in list(self._metrics.values()):
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n" if lines else ""


class GatewayMetrics(Metrics):
    """The gateway's standard metrics, named ``<namespace>_<metric>``.

    - ``requests_total{route,model,status}``: answered requests;
    - ``request_seconds{route}``: time from request to the end of the response;
    - ``upstream_seconds``: time the model server took;
    - ``guard_verdicts_total{guard,action,code}``: what guards decided;
    - ``rate_limited_total{scope}``: requests refused with 429;
    - ``upstream_errors_total{kind}``: model server failures (connect, timeout, 5xx...);
    - ``kill_switch_blocks_total{scope}``: requests stopped by the kill switch.
    """

    def __init__(self, namespace: str = "ramparts_gateway", *, max_series: int = 1000) -> None:
        """The standard set; ``max_series`` bounds each metric (module docstring)."""
        super().__init__()
        n = namespace + "_" if namespace else ""
        self.requests_total = self.counter(
            n + "requests_total",
            "Requests answered by the gateway.",
            ("route", "model", "status"),
            max_series=max_series,
        )
        self.request_seconds = self.histogram(
            n + "request_seconds",
            "Seconds from receiving a request to the end of its response.",
            ("route",),
            max_series=max_series,
        )
        self.upstream_seconds = self.histogram(
            n + "upstream_seconds", "Seconds the upstream model server took to respond."
        )
        self.guard_verdicts_total = self.counter(
            n + "guard_verdicts_total",
            "Verdicts of input and output guards.",
            ("guard", "action", "code"),
            max_series=max_series,
        )
        self.rate_limited_total = self.counter(
            n + "rate_limited_total",
            "Requests refused by a rate limit.",
            ("scope",),
            max_series=max_series,
        )
        self.upstream_errors_total = self.counter(
            n + "upstream_errors_total",
            "Failures of upstream model servers.",
            ("kind",),
            max_series=max_series,
        )
        self.kill_switch_blocks_total = self.counter(
            n + "kill_switch_blocks_total",
            "Requests stopped by the kill switch.",
            ("scope",),
            max_series=max_series,
        )
