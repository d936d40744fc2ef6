"""Where the gateway's CPU goes per request: the ASGI app driven in process.

    .venv/bin/python benchmarks/gateway/hotpath.py [--guards default|off] [--requests 2000]
        [--concurrency 1] [--stream] [--top 40] [--no-profile]

The gateway is built as ``ramparts gateway`` builds it (:func:`build_gateway` over a fresh
state folder, an identity of role ``model-consumer``, the audit log in the state
database), with limits that never refuse. The mock upstream runs in its own process, so
the upstream transport does its real work; only uvicorn's HTTP parsing in front of
the app is left out. ``--concurrency`` requests are in flight at once (asyncio tasks).

It prints the CPU time per request of this process (all threads: the event loop and the
audit writer) and of the event-loop thread alone, the wall time per step of the request
(measured around the gateway's own methods), and, unless ``--no-profile``, cProfile's
top functions of the event-loop thread in a second, separate run (profiling slows
everything down, so its run is not the one timed).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from harness import ROOT  # noqa: E402
from run import (  # noqa: E402
    free_port,
    gateway_toml,
    ramparts_cli,
    request_body,
    started,
    system_prompt,
)

sys.path.insert(0, str(ROOT / "src"))
from ramparts.cli.gateway_cmd import build_gateway  # noqa: E402
from ramparts.cli.state import AppState  # noqa: E402
from ramparts.gateway.app import Gateway  # noqa: E402
from ramparts.gateway.config import load_config  # noqa: E402

STEPS = ("_authenticated", "_check_kill", "_authorize", "_limit", "_inspect", "_permit",
         "_guard_output", "_reconcile", "_record")  # fmt: skip


def _timed(app: Gateway, totals: dict[str, float]) -> None:
    """Wrap the gateway's step methods on this instance to add their wall time up."""
    for name in STEPS:
        method = getattr(app, name)
        if asyncio.iscoroutinefunction(method):

            def wrap_async(method: Callable[..., Any] = method, name: str = name) -> Any:
                async def timed(*args: Any, **kwargs: Any) -> Any:
                    start = time.perf_counter()
                    try:
                        return await method(*args, **kwargs)
                    finally:
                        totals[name] += time.perf_counter() - start

                return timed

            setattr(app, name, wrap_async())
        else:

            def wrap(method: Callable[..., Any] = method, name: str = name) -> Any:
                def timed(*args: Any, **kwargs: Any) -> Any:
                    start = time.perf_counter()
                    try:
                        return method(*args, **kwargs)
                    finally:
                        totals[name] += time.perf_counter() - start

                return timed

            setattr(app, name, wrap())


async def _call(app: Gateway, key: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/chat/completions",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "query_string": b"",
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _drive(
    app: Gateway, key: str, n: int, concurrency: int, stream: bool, system: str
) -> int:
    bodies = [request_body(i, stream=stream, system=system) for i in range(4)]
    counter = iter(range(n))
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            if await _call(app, key, bodies[i % 4]) != 200:
                errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guards", choices=("default", "off"), default="default")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--stream", action="store_true", help="streamed requests")
    parser.add_argument("--system-chars", type=int, default=0,
                        help="a system prompt this long (default: one short sentence)")  # fmt: skip
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime", help="cProfile sort key")
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ramparts-gw-prof-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        port = free_port()
        stack.enter_context(started(
            "mock", [sys.executable, "-m", "ramparts.gateway.mock", "--port", str(port)],
            ready=f"http://127.0.0.1:{port}/v1/models", folder=folder,
            env={"PYTHONPATH": str(ROOT / "src")},
        ))  # fmt: skip
        state = folder / "state"
        state.mkdir()
        out = ramparts_cli(state, "identity", "create", "bench", "--role", "model-consumer",
                           "--service")  # fmt: skip
        key = next(w for w in out.split() if w.startswith("rmp_"))
        config_path = folder / "gateway.toml"
        upstream = f"http://127.0.0.1:{port}/v1"
        config_path.write_text(gateway_toml(upstream, guards_off=args.guards == "off"))
        environ = {"RAMPARTS_STATE_DIR": str(state)}
        # Without the token endpoint in front, build_gateway returns the Gateway itself,
        # whose steps can then be timed (the endpoint is one path comparison).
        config = dataclasses.replace(load_config(config_path), token_endpoint=False)
        app = build_gateway(AppState(environ=environ), config, [])
        totals: dict[str, float] = defaultdict(float)
        _timed(app, totals)

        system = system_prompt(args.system_chars)

        async def session() -> None:
            await _drive(app, key, 200, args.concurrency, args.stream, system)  # warm-up
            totals.clear()
            cpu, thread = time.process_time(), time.thread_time()
            start = time.perf_counter()
            errors = await _drive(app, key, args.requests, args.concurrency, args.stream, system)
            wall = time.perf_counter() - start
            cpu, thread = time.process_time() - cpu, time.thread_time() - thread
            n = args.requests
            print(f"{n} requests, concurrency {args.concurrency}, guards {args.guards}"
                  f"{', streamed' if args.stream else ''}, system prompt {len(system)} "
                  f"characters: {errors} errors, "
                  f"{n / wall:.0f} req/s; CPU per request {cpu * 1000 / n:.3f} ms "
                  f"(event loop {thread * 1000 / n:.3f} ms, "
                  f"other threads {(cpu - thread) * 1000 / n:.3f} ms)")  # fmt: skip
            for name in STEPS:
                print(f"  {name:<16} {totals[name] * 1000 / n:7.3f} ms wall per request")
            if not args.no_profile:
                profiler = cProfile.Profile()
                profiler.enable()
                await _drive(app, key, args.requests, args.concurrency, args.stream, system)
                profiler.disable()
                text = io.StringIO()
                stats = pstats.Stats(profiler, stream=text)
                stats.sort_stats(args.sort).print_stats(args.top)
                print(text.getvalue())

        asyncio.run(session())
    os.environ.pop("RAMPARTS_STATE_DIR", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
