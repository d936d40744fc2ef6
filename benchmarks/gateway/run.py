"""The gateway under load, side by side: direct, ramparts (guards off / default guards), LiteLLM.

    .venv/bin/python benchmarks/gateway/run.py [--requests 2000] [--concurrency 1,8,32,64]
        [--stream-requests 200] [--rounds 4] [--no-litellm] [--no-pin] [--baseline TREE]
        [--baseline-python PYTHON] [--state-dir DIR] [--profile DIR]

Every server is its own process on a loopback port:

- the mock upstream of ``ramparts.gateway.mock`` (an OpenAI-compatible model server that
  echoes the last message: a ~1 KB prompt gets a ~1 KB answer);
- ``ramparts gateway`` twice, each over a fresh ``RAMPARTS_STATE_DIR`` with an identity
  of role ``model-consumer`` made by ``ramparts identity create``: once with every guard
  ``off`` in its ``gateway.toml``, once with the default guards. Limits are set so high
  that the limiter never refuses; everything else (authentication, kill switch, policy,
  limiter, the audit event durable before the answer) runs as shipped;
- the LiteLLM proxy (``litellm[proxy]`` installed by this script into
  ``benchmarks/gateway/.venv-litellm``), with a ``config.yaml`` that routes model
  ``mock`` to the mock as an OpenAI-compatible upstream, a master key and no database.
  If it does not install or start, ramparts is measured alone and the reason printed;
- with ``--baseline TREE``, the default-guards gateway once more from another checkout's
  ``src`` (``baseline-default``), to measure a change against what it changes;
  ``--baseline-python`` runs it under another interpreter (a virtualenv with other
  packages: without uvloop and httptools, uvicorn falls back to asyncio and h11).

The load generator (asyncio and httpx, in this process) sends a fixed number of
requests per concurrency level to each target, after a warm-up that is not counted, in
``--rounds`` rounds: every target takes its turn in each round, and each round starts
with another target, so that a change in the shared machine's speed during a level
falls on all targets alike. The requests are OpenAI chat requests with a ~1 KB user
prompt (ordinary prompts, nothing a guard acts on). Per target and level it records
requests/s, latency
p50/p99 and the latency added over the direct path at the same level, the CPU time of
the proxy's process tree per request (``/proc/PID/stat``, user + system), requests/s
per proxy core (requests per CPU-second of the proxy: what one fully busy core would
serve), and, for streamed requests, the time to the first byte of the body.

Every proxy runs on CPU 0 and the mock and the load generator on the others (unless
``--no-pin``, or with one core), so that a proxy never competes with the client for its
core. ``--state-dir`` puts the gateways' state folders elsewhere (a tmpfs shows what
everything but the audit log's fsync costs). ``--profile DIR`` runs the default-guards gateway under cProfile
and writes ``DIR/ramparts-default.prof`` (its timings are then not comparable). Results
go to ``benchmarks/gateway/out/results.json`` and a Markdown table on stdout. No timing
is asserted anywhere.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
import httpx  # noqa: E402
from facts import machine  # noqa: E402
from harness import ROOT, ensure_venv, table  # noqa: E402

LITELLM_VENV = HERE / ".venv-litellm"
LITELLM_PACKAGES = ["litellm[proxy]"]
MASTER_KEY = "sk-bench-master-key"
GUARDS = ("size", "injection", "tool_arguments", "secrets", "pii", "canary", "exfiltration",
          "html")  # fmt: skip
_TICK = os.sysconf("SC_CLK_TCK")
# Not passed to the servers: a database or Redis of this shell would change what they do.
_UNSET = frozenset({"DATABASE_URL", "REDIS_URL", "RAMPARTS_DATABASE_URL", "RAMPARTS_REDIS_URL"})

# Ordinary chat prompts of about 1 KB, nothing a guard should act on.
PROMPTS = (
    (
        "I'm preparing a presentation for our quarterly business review next week and I need "
        "help structuring it. The audience is mostly senior leadership, so it has to be concise "
        "and lead with the numbers that matter. We grew revenue about 12% compared to last "
        "quarter, mostly from the mid-market segment, but churn went up slightly among our "
        "largest enterprise customers, and the new onboarding flow took longer to ship than we "
        "promised. Can you suggest an outline with six or seven slides, a title for each one "
        "and a short speaker note of two or three sentences? I would also like advice on how to "
        "present the bad news without sounding defensive, and on which chart would show the "
        "churn trend most honestly. Finally, what questions should I expect from the finance "
        "team, and how should I answer them if I do not have the exact figures at hand?"
    ),
    (
        "Can you explain how the asyncio event loop works in Python? I keep getting "
        "'RuntimeError: This event loop is already running' when I call asyncio.run() inside a "
        "notebook. Here is a simplified version of my code:\n\n```python\nimport asyncio\n\n"
        "async def fetch(i):\n    await asyncio.sleep(0.1)\n    return i * 2\n\n"
        "async def main():\n    results = await asyncio.gather(*(fetch(i) for i in range(10)))\n"
        "    print(results)\n\nasyncio.run(main())\n```\n\nIt works from the command line but "
        "not in the notebook. Why is that, and what is the right way to run the same code in "
        "both places? Should I use nest_asyncio, or is there a cleaner pattern? Also, would "
        "asyncio.gather still be the right tool if I had a thousand tasks instead of ten, or "
        "should I limit how many run at once with a semaphore? Please show the changed code."
    ),
    (
        "Write a short story about a lighthouse keeper who discovers that the light has been "
        "guiding ships that do not exist. Make it atmospheric and a little eerie, set on a rocky "
        "coast in the late eighteen hundreds, with the smell of kerosene, the sound of the "
        "foghorn and the long winter nights. The keeper should be an old man who has kept the "
        "light for thirty years and knows every ship that passes; one night he counts more "
        "sails than there should be, and the logbook starts to fill with names he has never "
        "written. Keep it under a thousand words, tell it in the third person, and end it with "
        "an image rather than an explanation. The tone should be quiet and sad rather than "
        "frightening, and the sea should feel like a character of its own. Avoid any dialogue "
        "until the very last scene, and then let it be only a few words."
    ),
    (
        "What are the main differences between PostgreSQL and MySQL for a write-heavy "
        "workload? We expect around five thousand inserts per second at peak, mostly small rows "
        "of event data, and we need point-in-time recovery and a replica for reporting queries. "
        "Our team knows both databases a little, but nobody is an expert. I am interested in how "
        "each one handles write amplification, vacuum or purge, replication lag under load, "
        "and the operational work of keeping them healthy over a few years. Would partitioning "
        "by day help with either of them, and how would you archive data older than a year "
        "without long locks? Please give a recommendation with the reasons, and list the two or "
        "three settings we should tune first on whichever you recommend, and what we should "
        "monitor from the first day so that we are not surprised later on."
    ),
)


SYSTEM = "You are a helpful assistant."
LONG_SYSTEM = (
    "You are the support assistant of a retail bank. Answer questions about accounts, "
    "cards, transfers and opening hours, politely and in plain words; say when a question "
    "needs a person at a branch, and never give investment advice. "
)


def system_prompt(chars: int = 0) -> str:
    """The system message: a short one, or ``chars`` characters of a longer one."""
    if not chars:
        return SYSTEM
    return (LONG_SYSTEM * (chars // len(LONG_SYSTEM) + 1))[:chars]


def request_body(index: int, *, stream: bool = False, system: str = SYSTEM) -> bytes:
    """An OpenAI chat request with one of :data:`PROMPTS` after ``system``."""
    body: dict[str, Any] = {
        "model": "mock",
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": PROMPTS[index % len(PROMPTS)]},
        ],
        "max_tokens": 512,
        "temperature": 0.2,
    }
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


# -- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its live descendants."""
    total, stack, seen = 0, [pid], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
            for task in Path(f"/proc/{current}/task").iterdir():
                stack += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / _TICK


@dataclass
class Service:
    """A server process and where its output goes."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)


class StartError(RuntimeError):
    """A server did not start; the message holds the end of its log."""


def _pinned(cpus: set[int] | None) -> Any:
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


@contextmanager
def started(
    name: str,
    cmd: Sequence[str],
    *,
    ready: str,
    folder: Path,
    env: dict[str, str] | None = None,
    cpus: set[int] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> Iterator[Service]:
    """``cmd`` running until the block ends (SIGINT, then SIGKILL); ready once ``ready``
    answers 200, else :class:`StartError` with the end of the log."""
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                **{k: v for k, v in os.environ.items() if k not in _UNSET},
                "NO_COLOR": "1",
                **(env or {}),
            },
            cwd=folder,
            preexec_fn=_pinned(cpus),  # noqa: PLW1509 - only sets the CPU affinity
            start_new_session=True,
        )
    service = Service(name, proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise StartError(f"{name} exited with {proc.returncode}:\n{service.tail()}")
            try:
                if httpx.get(ready, headers=headers, timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise StartError(f"{name} not ready after {timeout:.0f} s:\n{service.tail()}")
            time.sleep(0.2)
        yield service
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# -- the targets --------------------------------------------------------------------------


@dataclass
class Target:
    """Where the load generator sends requests, and the process whose CPU is counted."""

    name: str
    base: str
    headers: dict[str, str]
    service: Service | None = None


def ramparts_cli(state: Path, *args: str, src: Path = ROOT / "src") -> str:
    env = {**os.environ, "RAMPARTS_STATE_DIR": str(state), "NO_COLOR": "1",
           "PYTHONPATH": str(src)}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "ramparts", *args], env=env,
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise StartError(f"ramparts {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def gateway_toml(upstream: str, *, guards_off: bool) -> str:
    lines = [
        "[gateway]",
        "requests_per_minute = 1e12",
        "requests_burst = 1000000000",
        "tokens_per_minute = 1e12",
        "model_requests_per_minute = 1e12",
        "",
        "[[routes]]",
        'name = "mock"',
        'prefix = "/v1"',
        f'upstream = "{upstream}"',
        'models = ["*"]',
    ]
    if guards_off:
        lines += ["", "[guards]", *(f'{name} = "off"' for name in GUARDS)]
    return "\n".join(lines) + "\n"


@contextmanager
def ramparts_gateway(
    name: str,
    folder: Path,
    upstream: str,
    *,
    guards_off: bool,
    cpus: set[int] | None,
    profile: Path | None = None,
    src: Path = ROOT / "src",
    state_root: Path | None = None,
    python: str = sys.executable,
) -> Iterator[Target]:
    """``ramparts gateway`` (from ``src``) over a fresh state folder (under
    ``state_root``, else beside its configuration), with its own identity."""
    home = folder / name
    state = state_root / name / "state" if state_root else home / "state"
    home.mkdir(parents=True, exist_ok=True)
    state.mkdir(parents=True)
    config = home / "gateway.toml"
    config.write_text(gateway_toml(upstream, guards_off=guards_off))
    out = ramparts_cli(state, "identity", "create", "bench", "--role", "model-consumer",
                       "--service", src=src)  # fmt: skip
    key = next((w for w in out.split() if w.startswith("rmp_")), None)
    if key is None:
        raise StartError(f"no API key in the output of ramparts identity create:\n{out}")
    port = free_port()
    run = [python]
    if profile is not None:
        run += ["-m", "cProfile", "-o", str(profile / f"{name}.prof")]
    cmd = [*run, "-m", "ramparts", "gateway", "--config", str(config), "--port", str(port)]
    env = {"RAMPARTS_STATE_DIR": str(state), "PYTHONPATH": str(src)}
    base = f"http://127.0.0.1:{port}"
    with started(name, cmd, ready=f"{base}/healthz", folder=home, env=env, cpus=cpus) as svc:
        yield Target(name, f"{base}/v1", {"authorization": f"Bearer {key}"}, svc)


def litellm_config(upstream: str) -> str:
    return "\n".join([
        "model_list:",
        "  - model_name: mock",
        "    litellm_params:",
        "      model: openai/mock",
        f"      api_base: {upstream}",
        "      api_key: sk-not-used",
        "litellm_settings:",
        "  drop_params: true",
        "  telemetry: false",
        "general_settings:",
        f"  master_key: {MASTER_KEY}",
        "  disable_spend_logs: true",
        "",
    ])  # fmt: skip


def install_litellm() -> Path:
    """The LiteLLM proxy's executable, in its own virtualenv."""
    return ensure_venv(LITELLM_VENV, LITELLM_PACKAGES) / "litellm"


@contextmanager
def litellm_proxy(folder: Path, upstream: str, *, cpus: set[int] | None) -> Iterator[Target]:
    executable = install_litellm()
    home = folder / "litellm"
    home.mkdir()
    config = home / "config.yaml"
    config.write_text(litellm_config(upstream))
    port = free_port()
    cmd = [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    env = {
        # Offline and quiet: no cost-map download, no telemetry, no database.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_LOG": "ERROR",
        "LITELLM_MODE": "PRODUCTION",
    }
    base = f"http://127.0.0.1:{port}"
    with started("litellm", cmd, ready=f"{base}/health/liveliness", folder=home, env=env,
                 cpus=cpus, timeout=240) as svc:  # fmt: skip
        yield Target("litellm", f"{base}/v1", {"authorization": f"Bearer {MASTER_KEY}"}, svc)


# -- the load generator -------------------------------------------------------------------


@dataclass
class Sample:
    """One target at one concurrency level."""

    target: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False)
    cpu_seconds: float | None = None
    ttfb: list[float] = field(default_factory=list, repr=False)
    stream_errors: int = 0
    first_error: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(q * len(data)))] * 1000

    @property
    def cpu_ms(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds * 1000 / self.requests


async def _one(client: httpx.AsyncClient, target: Target, body: bytes) -> float:
    start = time.perf_counter()
    reply = await client.post(f"{target.base}/chat/completions", content=body,
                              headers=target.headers)  # fmt: skip
    if reply.status_code != 200 or b'"choices"' not in reply.content:
        raise RuntimeError(f"HTTP {reply.status_code}: {reply.text[:200]}")
    return time.perf_counter() - start


async def _one_stream(client: httpx.AsyncClient, target: Target, body: bytes) -> float:
    start = time.perf_counter()
    first: float | None = None
    seen = b""
    async with client.stream("POST", f"{target.base}/chat/completions", content=body,
                             headers=target.headers) as reply:  # fmt: skip
        async for chunk in reply.aiter_raw():
            if first is None and chunk:
                first = time.perf_counter() - start
            seen = (seen + chunk)[-64:]
        if reply.status_code != 200 or b"[DONE]" not in seen:
            raise RuntimeError(f"stream HTTP {reply.status_code}: {seen[-64:]!r}")
    return first if first is not None else time.perf_counter() - start


async def _drive(
    target: Target, n: int, concurrency: int, *, stream: bool
) -> tuple[list[float], int, float, str]:
    """``n`` requests, ``concurrency`` at a time: latencies, errors, wall seconds."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(60.0)
    bodies = [request_body(i, stream=stream) for i in range(len(PROMPTS))]
    results: list[float] = []
    errors = 0
    first_error = ""
    counter = iter(range(n))
    one = _one_stream if stream else _one

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, first_error
        for i in counter:
            try:
                results.append(await one(client, target, bodies[i % len(bodies)]))
            except (httpx.HTTPError, RuntimeError) as exc:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"

    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        # Open the connections first, so that the timed run does not pay for them.
        await asyncio.gather(*(one(client, target, bodies[0]) for _ in range(concurrency)))
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        seconds = time.perf_counter() - start
    return results, errors, seconds, first_error


def measure(target: Target, n: int, concurrency: int, stream_n: int, warmup: int) -> Sample:
    """Warm up, then ``n`` plain requests (CPU counted), then ``stream_n`` streamed ones."""
    if warmup:
        asyncio.run(_drive(target, warmup, concurrency, stream=False))
    cpu0 = target.service.cpu() if target.service else None
    latencies, errors, seconds, first_error = asyncio.run(
        _drive(target, n, concurrency, stream=False)
    )
    cpu1 = target.service.cpu() if target.service else None
    sample = Sample(target.name, concurrency, len(latencies), errors, seconds, latencies,
                    None if cpu0 is None or cpu1 is None else cpu1 - cpu0,
                    first_error=first_error)  # fmt: skip
    if stream_n:
        ttfb, stream_errors, _, stream_error = asyncio.run(
            _drive(target, stream_n, concurrency, stream=True)
        )
        sample.ttfb, sample.stream_errors = ttfb, stream_errors
        sample.first_error = sample.first_error or stream_error
    return sample


def _share(total: int, rounds: int, turn: int) -> int:
    """Round ``turn``'s part of ``total`` requests split over ``rounds``."""
    return total // rounds + (1 if turn < total % rounds else 0)


def merged(parts: Sequence[Sample]) -> Sample:
    """One target's rounds at one level as one sample (times and CPU added up)."""
    first = parts[0]
    cpus = [p.cpu_seconds for p in parts]
    return Sample(
        first.target,
        first.concurrency,
        sum(p.requests for p in parts),
        sum(p.errors for p in parts),
        sum(p.seconds for p in parts),
        [x for p in parts for x in p.latencies],
        None if any(c is None for c in cpus) else sum(c for c in cpus if c is not None),
        [x for p in parts for x in p.ttfb],
        sum(p.stream_errors for p in parts),
        next((p.first_error for p in parts if p.first_error), ""),
    )


# -- the report ---------------------------------------------------------------------------


def _f(value: float | None, digits: int = 2) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def report(samples: list[Sample], levels: Sequence[int]) -> str:
    direct = {s.concurrency: s for s in samples if s.target == "direct"}
    rows = [["target", "concurrency", "req/s", "p50 ms", "p99 ms", "added p50 ms",
             "added p99 ms", "proxy CPU ms/req", "req/s per proxy core",
             "stream TTFB p50 ms", "TTFB p99 ms", "errors"]]  # fmt: skip
    for level in levels:
        base = direct.get(level)
        for s in (x for x in samples if x.concurrency == level):
            cpu_ms = s.cpu_ms
            added50 = None if base is None or s is base else s.pct(0.5) - base.pct(0.5)
            added99 = None if base is None or s is base else s.pct(0.99) - base.pct(0.99)
            rows.append([
                s.target, str(level), _f(s.rate, 0), _f(s.pct(0.5)), _f(s.pct(0.99)),
                _f(added50), _f(added99), _f(cpu_ms), _f(1000 / cpu_ms if cpu_ms else None, 0),
                _f(s.pct(0.5, s.ttfb)), _f(s.pct(0.99, s.ttfb)),
                f"{s.errors}/{s.stream_errors}",
            ])  # fmt: skip
    return table(rows)


def verdicts(samples: list[Sample]) -> list[str]:
    """The issue's targets against these numbers."""
    by = {(s.target, s.concurrency): s for s in samples}
    lines = []
    one, direct1 = by.get(("ramparts-default", 1)), by.get(("direct", 1))
    if one and direct1:
        added = one.pct(0.5) - direct1.pct(0.5)
        lines.append(f"default guards, concurrency 1: added p50 {added:.2f} ms (target <= 2 ms)"
                     f": {'met' if added <= 2 else 'NOT met'}")  # fmt: skip
        if one.cpu_ms is not None:
            lines.append(f"default guards, concurrency 1: gateway CPU {one.cpu_ms:.2f} ms/req "
                         f"(target <= 1.5 ms): {'met' if one.cpu_ms <= 1.5 else 'NOT met'}")  # fmt: skip
    ours, theirs = by.get(("ramparts-default", 32)), by.get(("litellm", 32))
    if ours and theirs and ours.cpu_ms and theirs.cpu_ms:
        ratio = theirs.cpu_ms / ours.cpu_ms
        raw = ours.rate / theirs.rate if theirs.rate else float("nan")
        lines.append(f"concurrency 32: req/s per core {1000 / ours.cpu_ms:.0f} vs LiteLLM "
                     f"{1000 / theirs.cpu_ms:.0f} = {ratio:.1f}x (target >= 5x): "
                     f"{'met' if ratio >= 5 else 'NOT met'}; raw req/s {raw:.1f}x")  # fmt: skip
    elif ours:
        lines.append("concurrency 32: no LiteLLM figures in this run (see above)")
    return lines


# -- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per level and target")
    parser.add_argument("--concurrency", default="1,8,32,64", help="levels (default 1,8,32,64)")
    parser.add_argument("--stream-requests", type=int, default=200, help="per level and target")
    parser.add_argument("--warmup", type=int, default=100, help="uncounted requests per level")
    parser.add_argument("--rounds", type=int, default=4,
                        help="rounds per level, targets in turn (default 4)")  # fmt: skip
    parser.add_argument("--no-litellm", action="store_true", help="measure ramparts alone")
    parser.add_argument("--targets", default="", help="only these (comma-separated names)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="TREE",
        help="also run the default-guards gateway from another checkout "
        "(e.g. `git archive HEAD | tar -x -C TREE`) as baseline-default",
    )
    parser.add_argument(
        "--baseline-python",
        default=sys.executable,
        metavar="PYTHON",
        help="the interpreter of baseline-default (default: this one)",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        metavar="DIR",
        help="where the gateways' state folders go (default: the temporary "
        "folder; a tmpfs shows the cost of everything but the fsync)",
    )
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run the default-guards gateway under cProfile into DIR")  # fmt: skip
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    cpus = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cpus) >= 2
    proxy_cpus, other_cpus = ({cpus[0]}, set(cpus[1:])) if pin else (None, None)
    if other_cpus:
        os.sched_setaffinity(0, other_cpus)
    if args.profile:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="ramparts-gw-bench-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        mock_port = free_port()
        stack.enter_context(started(
            "mock", [sys.executable, "-m", "ramparts.gateway.mock", "--port", str(mock_port)],
            ready=f"http://127.0.0.1:{mock_port}/v1/models", folder=folder,
            env={"PYTHONPATH": str(ROOT / "src")}, cpus=other_cpus,
        ))  # fmt: skip
        upstream = f"http://127.0.0.1:{mock_port}/v1"
        targets = [Target("direct", upstream, {}, None)]
        state_root = args.state_dir and Path(tempfile.mkdtemp(dir=args.state_dir))
        if state_root:
            stack.callback(shutil.rmtree, state_root, ignore_errors=True)
        targets.append(stack.enter_context(
            ramparts_gateway("ramparts-off", folder, upstream, guards_off=True, cpus=proxy_cpus,
                             state_root=state_root)
        ))  # fmt: skip
        targets.append(stack.enter_context(
            ramparts_gateway("ramparts-default", folder, upstream, guards_off=False,
                             cpus=proxy_cpus, profile=args.profile, state_root=state_root)
        ))  # fmt: skip
        if args.baseline:
            targets.append(stack.enter_context(
                ramparts_gateway("baseline-default", folder, upstream, guards_off=False,
                                 cpus=proxy_cpus, src=args.baseline.resolve() / "src",
                                 state_root=state_root, python=args.baseline_python)
            ))  # fmt: skip
        if not args.no_litellm:
            try:
                targets.append(stack.enter_context(
                    litellm_proxy(folder, upstream, cpus=proxy_cpus)
                ))  # fmt: skip
            except (StartError, subprocess.CalledProcessError, OSError) as exc:
                notes.append(f"LiteLLM not measured: {exc}")
                print(notes[-1], file=sys.stderr, flush=True)
        if args.targets:
            wanted = set(args.targets.split(","))
            targets = [t for t in targets if t.name in wanted or t.name == "direct"]
        for level in levels:
            by_target: dict[str, list[Sample]] = {t.name: [] for t in targets}
            for turn in range(args.rounds):
                # Each round in another order: a change in the shared machine's speed
                # then falls on every target alike, not on whichever ran last.
                for target in targets[turn % len(targets) :] + targets[: turn % len(targets)]:
                    by_target[target.name].append(measure(
                        target, _share(args.requests, args.rounds, turn), level,
                        _share(args.stream_requests, args.rounds, turn),
                        max(args.warmup, 2 * level) if turn == 0 else 0,
                    ))  # fmt: skip
            for target in targets:
                sample = merged(by_target[target.name])
                samples.append(sample)
                print(f"{target.name:>17} c={level:<3} {sample.rate:8.0f} req/s  "
                      f"p50 {sample.pct(0.5):7.2f} ms  p99 {sample.pct(0.99):7.2f} ms  "
                      f"cpu {_f(sample.cpu_ms)} ms/req  ttfb {_f(sample.pct(0.5, sample.ttfb))} "
                      f"ms  errors {sample.errors}/{sample.stream_errors} {sample.first_error}",
                      flush=True)  # fmt: skip
        litellm_version = _litellm_version() if any(t.name == "litellm" for t in targets) else ""
    print()
    print(machine(ROOT, ("httpx", "uvicorn", "httptools", "uvloop", "h11", "SQLAlchemy",
                         "cryptography")) +
          (f", LiteLLM {litellm_version}" if litellm_version else ""))  # fmt: skip
    print(f"{args.requests} requests per level and target ({args.stream_requests} streamed), "
          f"after {args.warmup}+ uncounted; "
          f"{'proxies pinned to CPU ' + str(cpus[0]) if pin else 'no CPU pinning'}\n")  # fmt: skip
    print(report(samples, levels))
    print()
    for line in [*notes, *verdicts(samples)]:
        print(f"- {line}")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps({
        "notes": notes,
        "samples": [{**asdict(s), "p50_ms": s.pct(0.5), "p99_ms": s.pct(0.99),
                     "cpu_ms": s.cpu_ms, "rate": s.rate, "ttfb_p50_ms": s.pct(0.5, s.ttfb),
                     "ttfb_p99_ms": s.pct(0.99, s.ttfb)} for s in samples],
    }, indent=1))  # fmt: skip
    return 0


def _litellm_version() -> str:
    python = LITELLM_VENV / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "from importlib.metadata import version; print(version('litellm'))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
