"""The registry service under load: latency at 10,000 versions, and 100 concurrent clients.

    python benchmarks/registry/service.py latency [--models 100] [--versions 100] [--calls 300]
    source .ci/services.sh
    python benchmarks/registry/service.py load [--clients 100] [--seconds 60]
    ci_services_stop

``latency`` (SQLite, as ``ramparts`` runs by default): a state folder in a temporary
directory; one real version pushed by the CLI (``ramparts sign``, ``attest`` and
``registry push``, so the scan, signature, provenance and ML-BOM columns hold what a
push writes), then copied into ``--models`` x ``--versions`` rows with SQLAlchemy
(pushing 10,000 versions one by one would scan and encrypt each). Every model's
``dev``, ``staging`` and ``prod`` stages hold a version, half the versions are
approved. It then times, ``--calls`` times each after a warm-up, through the
:class:`Registry` the CLI builds (:class:`ControlPlane`, with the audit log in the
state database as its sink): ``assets``, ``versions(model)``, ``show(model@v)``,
``promote(model@v, "dev")`` and ``approve(model@v)``; and the same over HTTP against
``ramparts serve`` (a separate process on a loopback port) with one client and a
bearer token. ``--profile`` prints where the library calls spend their time.

``load`` (PostgreSQL at ``RAMPARTS_TEST_POSTGRES_URL``, set by ``.ci/services.sh``): a
fresh database seeded the same way, ``ramparts serve`` on it, and ``--clients``
threads, each with its own identity (approver and publisher of team ``ml``), its own
MFA token and its own HTTP connection, sending for ``--seconds``: 30% show, 20% list
versions, 10% list assets, 25% promote to dev, 10% approve, 5% show of another team's
model (404 expected: what a caller may not see does not exist for it, and the refusal
is audited). An error is a 5xx, a transport exception, or any status the operation
does not expect.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from facts import machine  # noqa: E402
from harness import ROOT, table  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from ramparts.cli.control import ControlPlane  # noqa: E402
from ramparts.cli.state import AppState  # noqa: E402
from ramparts.sign.keys import generate_key  # noqa: E402
from ramparts.store.schema import (  # noqa: E402
    registry_assets,
    registry_stage_history,
    registry_stages,
    registry_versions,
)

TEAM = "ml"
OTHER_TEAM = "vision"
BUILDER = "https://ci.example/runner"
REPOSITORY = "https://git.example/acme/ml"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RAMPARTS = [sys.executable, "-m", "ramparts"]


# -- the state folder -------------------------------------------------------------------


def environ_for(folder: Path, db_url: str) -> dict[str, str]:
    """The settings ``ramparts`` reads, as the tests' control plane sets them."""
    return {
        "RAMPARTS_STATE_DIR": str(folder / "state"),
        "RAMPARTS_DATABASE_URL": db_url,
        "RAMPARTS_REGISTRY__TRUSTED_KEYS": json.dumps([str(folder / "signing.pub.pem")]),
        "RAMPARTS_REGISTRY__PROVENANCE_BUILDER": BUILDER,
        "RAMPARTS_REGISTRY__PROVENANCE_REPOSITORY": REPOSITORY,
        "RAMPARTS_IDENTITY__TOKEN_LIFETIME_MINUTES": "240",
    }


def cli(environ: dict[str, str], *args: str) -> str:
    env = {**os.environ, **environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
    done = subprocess.run([*RAMPARTS, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ramparts {' '.join(args)}: {done.stdout}{done.stderr}")
    return done.stdout


def template_version(folder: Path, environ: dict[str, str]) -> Any:
    """One version pushed by the CLI, signed and attested: the row every seeded one copies."""
    generate_key(folder / "signing.pem", folder / "signing.pub.pem")
    model = folder / "template"
    model.mkdir()
    (model / "model.safetensors").write_bytes(_safetensors(256 * 1024))
    (model / "config.json").write_text(json.dumps({"layers": 12, "hidden": 768}))
    (model / "tokenizer.json").write_text(json.dumps({"vocab": {f"t{i}": i for i in range(500)}}))
    key = str(folder / "signing.pem")
    cli(environ, "sign", str(model), "--key", key)
    cli(environ, "attest", str(model), "--key", key, "--builder-id", BUILDER,
        "--repository", REPOSITORY, "--commit", COMMIT)  # fmt: skip
    cli(environ, "registry", "push", str(model), "--name", "template", "--metric", "auc=0.91")
    plane = ControlPlane(AppState(environ=environ))
    try:
        with plane.identity.engine.connect() as conn:
            return conn.execute(
                sa.select(registry_versions)
                .join(registry_assets)
                .where(registry_assets.c.name == "template")
            ).one()
    finally:
        plane.close()


def _safetensors(size: int) -> bytes:
    header = json.dumps(
        {"w": {"dtype": "F32", "shape": [size // 4], "data_offsets": [0, size]}}
    ).encode()
    return len(header).to_bytes(8, "little") + header + os.urandom(size)


@dataclass
class People:
    """Identities and what proves them."""

    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def make_people(plane: ControlPlane, clients: int) -> People:
    """An author, and ``clients`` identities that approve and publish, each with an MFA token."""
    people = People()
    wiring = plane.identity
    author = wiring.identities.create("author", ["model-author"], teams=[TEAM]).identity
    people.ids["author"] = author.id
    for i in range(clients):
        name = f"client-{i:03d}"
        identity = wiring.identities.create(
            name, ["model-approver", "model-publisher"], teams=[TEAM]
        ).identity
        people.ids[name] = identity.id
        people.tokens[name] = wiring.tokens.issue(identity, mfa=True).token
    return people


def seed(
    engine: sa.Engine, template: Any, people: People, *, models: int, versions: int
) -> list[str]:
    """``models`` x ``versions`` rows copied from ``template`` (plus 5 of another team);
    stages dev, staging and prod set; half the versions approved. Returns model names."""
    now = datetime.now(UTC)
    author, approver = people.ids["author"], people.ids["client-000"]
    copied = {
        c: getattr(template, c) for c in ("signature", "provenance", "scan", "bom", "metrics")
    }
    names = [f"model-{i:03d}" for i in range(models)]
    others = [f"other-{i}" for i in range(5)]
    with engine.begin() as conn:
        for name in names + others:
            asset_id = str(uuid.uuid4())
            conn.execute(
                registry_assets.insert().values(
                    id=asset_id, kind="model", name=name,
                    team=TEAM if name in names else OTHER_TEAM, created_by=author,
                    purpose="fraud scoring", classification="internal",
                    tags=json.dumps({"framework": "pytorch", "task": "classification"}),
                    created_at=now - timedelta(days=120),
                )
            )  # fmt: skip
            rows, ids = [], []
            for seq in range(1, versions + 1):
                version_id = str(uuid.uuid4())
                ids.append(version_id)
                created = now - timedelta(days=120) + timedelta(hours=seq)
                approved = seq % 2 == 0
                rows.append(
                    {
                        "id": version_id, "asset_id": asset_id, "version": str(seq), "seq": seq,
                        "digest": os.urandom(32).hex(), "size": template.size, "author": author,
                        "created_at": created, "state": "approved" if approved else "registered",
                        "blob": version_id, **copied,
                        "approved_by": approver if approved else None,
                        "approved_at": created + timedelta(hours=1) if approved else None,
                        "updated_at": created,
                    }
                )  # fmt: skip
            conn.execute(registry_versions.insert(), rows)
            for stage, back in (("prod", 10), ("staging", 5), ("dev", 1)):
                version_id = ids[max(0, len(ids) - back)]
                conn.execute(
                    registry_stages.insert().values(
                        asset_id=asset_id, stage=stage, version_id=version_id, updated_at=now
                    )
                )
                conn.execute(
                    registry_stage_history.insert().values(
                        asset_id=asset_id, stage=stage, version_id=version_id,
                        action="promote", actor=approver, at=now,
                    )
                )  # fmt: skip
    return names


# -- timing -----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of ``samples`` (seconds), in milliseconds."""
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99), "max": ordered[-1] * 1000}


def timed(calls: int, work: Callable[[int], object], warmup: int = 20) -> list[float]:
    for i in range(warmup):
        work(i)
    samples = []
    for i in range(calls):
        t0 = time.perf_counter()
        work(i)
        samples.append(time.perf_counter() - t0)
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of process ``root``, its live children and the children it reaped."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == root:
            total += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
        elif ppid == root:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postmaster_pid(engine: sa.Engine) -> int | None:
    """The local PostgreSQL server's main process, or None if it runs elsewhere."""
    with engine.connect() as conn:
        backend = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    try:
        text = Path(f"/proc/{backend}/stat").read_text()
    except OSError:
        return None
    return int(text.rsplit(")", 1)[1].split()[1])


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (Linux ``/proc/stat``)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle and iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Served:
    """A running ``ramparts serve``."""

    base: str
    pid: int


@contextmanager
def serving(environ: dict[str, str], log: Path) -> Iterator[Served]:
    """``ramparts serve`` in its own process on a free loopback port."""
    port = free_port()
    env = {**os.environ, **environ, "PYTHONPATH": str(ROOT / "src")}
    with log.open("wb") as out:
        proc = subprocess.Popen([*RAMPARTS, "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ramparts serve did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield Served(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- latency (SQLite) -------------------------------------------------------------------


def latency(args: argparse.Namespace) -> int:
    folder = Path(tempfile.mkdtemp(prefix="ramparts-registry-bench-"))
    try:
        environ = environ_for(folder, f"sqlite:///{folder / 'state' / 'ramparts.db'}")
        t0 = time.perf_counter()
        template = template_version(folder, environ)
        plane = ControlPlane(AppState(environ=environ))
        people = make_people(plane, clients=2)
        names = seed(plane.identity.engine, template, people,
                     models=args.models, versions=args.versions)  # fmt: skip
        total = args.models * args.versions
        print(f"seeded {total:,} versions of {args.models} models in "
              f"{time.perf_counter() - t0:.1f} s (template row: scan {len(template.scan):,} B, "
              f"signature {len(template.signature):,} B, provenance "
              f"{len(template.provenance):,} B, ML-BOM {len(template.bom):,} B)", flush=True)  # fmt: skip
        registry = plane.registry
        publisher = plane.authenticate(people.tokens["client-000"])
        approver = plane.authenticate(people.tokens["client-001"])
        rng = random.Random(7)
        seen = (len(registry.assets(publisher)), len(registry.versions(publisher, names[0])))
        if seen != (args.models, args.versions):  # the other team's models stay hidden
            raise RuntimeError(f"the caller sees {seen} (assets, versions), not what was seeded")

        def ref(_: int) -> str:
            return f"{rng.choice(names)}@{rng.randint(1, args.versions)}"

        ops: dict[str, Callable[[int], object]] = {
            "list assets": lambda _: registry.assets(publisher),
            "list versions of a model": lambda _: registry.versions(publisher, rng.choice(names)),
            "show a version": lambda i: registry.show(publisher, ref(i)),
            "promote to dev": lambda i: registry.promote(publisher, ref(i), "dev"),
            "approve": lambda i: registry.approve(approver, ref(i)),
        }
        results: dict[str, dict[str, float]] = {}
        for name, work in ops.items():
            if args.profile:
                profile = cProfile.Profile()
                profile.enable()
            results[name] = percentiles(timed(args.calls, work))
            if args.profile:
                profile.disable()
                text = io.StringIO()
                pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(18)
                print(f"\n--- profile: {name} ({args.calls + 20} calls)\n{text.getvalue()}")
            print(f"library {name}: p50 {results[name]['p50']:.2f} ms", flush=True)
        http_results: dict[str, dict[str, float]] = {}
        if not args.no_http:
            with (
                serving(environ, folder / "serve.log") as served,
                httpx.Client(base_url=served.base, timeout=30) as client,
            ):
                auth = {"Authorization": f"Bearer {people.tokens['client-000']}"}
                auth2 = {"Authorization": f"Bearer {people.tokens['client-001']}"}

                def call(method: str, path: str, headers: dict[str, str], **kw: Any) -> None:
                    response = client.request(method, path, headers=headers, **kw)
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"{method} {path}: {response.status_code} {response.text}"
                        )

                http_ops: dict[str, Callable[[int], object]] = {
                    "list assets": lambda _: call("GET", "/v1/assets", auth),
                    "list versions of a model": lambda _: call(
                        "GET", f"/v1/assets/model/{rng.choice(names)}/versions", auth
                    ),
                    "show a version": lambda i: call("GET", f"/v1/versions/{ref(i)}", auth),
                    "promote to dev": lambda i: call(
                        "POST", f"/v1/versions/{ref(i)}/promote", auth, json={"stage": "dev"}
                    ),
                    "approve": lambda i: call(
                        "POST", f"/v1/versions/{ref(i)}/approve", auth2, json={"comment": ""}
                    ),
                }
                for name, work in http_ops.items():
                    http_results[name] = percentiles(timed(args.calls, work))
                    print(f"HTTP {name}: p50 {http_results[name]['p50']:.2f} ms", flush=True)
        plane.close()
        print(f"\n{machine(folder, ('sqlalchemy', 'fastapi', 'uvicorn', 'httpx'))}")
        print(f"SQLite (WAL, synchronous=FULL), {total:,} versions ({args.models} models x "
              f"{args.versions}), {args.calls} calls each after 20 warm-up calls, one caller "
              "at a time\n")  # fmt: skip
        rows = [["operation", "library p50 ms", "p95", "p99", "HTTP p50 ms", "p95", "p99"]]
        for name, r in results.items():
            h = http_results.get(name)
            rows.append([
                name, f"{r['p50']:.2f}", f"{r['p95']:.2f}", f"{r['p99']:.2f}",
                f"{h['p50']:.2f}" if h else "", f"{h['p95']:.2f}" if h else "",
                f"{h['p99']:.2f}" if h else "",
            ])  # fmt: skip
        print(table(rows))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


# -- load (PostgreSQL) ------------------------------------------------------------------

# (operation, weight, expected statuses)
MIX: list[tuple[str, int, tuple[int, ...]]] = [
    ("show", 30, (200,)),
    ("list versions", 20, (200,)),
    ("list assets", 10, (200,)),
    ("promote dev", 25, (200,)),
    ("approve", 10, (200,)),
    ("show other team (404)", 5, (404,)),
]


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at ``server_url``, dropped afterwards."""
    name = f"ramparts_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        sa.make_url(server_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Tally:
    """What the clients saw, merged under a lock."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_loop(
    base: str, token: str, names: list[str], versions: int, seconds: float, seed_: int,
    tally: Tally, start: threading.Barrier,
) -> None:  # fmt: skip
    rng = random.Random(seed_)
    ops = [op for op, _, _ in MIX]
    weights = [w for _, w, _ in MIX]
    expected = {op: codes for op, _, codes in MIX}
    latencies: dict[str, list[float]] = {op: [] for op in ops}
    statuses: Counter[tuple[str, int]] = Counter()
    errors: Counter[str] = Counter()
    samples: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        start.wait()
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            op = rng.choices(ops, weights)[0]
            ref = f"{rng.choice(names)}@{rng.randint(1, versions)}"
            t0 = time.perf_counter()
            try:
                if op == "show":
                    response = client.get(f"/v1/versions/{ref}")
                elif op == "list versions":
                    response = client.get(f"/v1/assets/model/{rng.choice(names)}/versions")
                elif op == "list assets":
                    response = client.get("/v1/assets")
                elif op == "promote dev":
                    response = client.post(f"/v1/versions/{ref}/promote", json={"stage": "dev"})
                elif op == "approve":
                    response = client.post(f"/v1/versions/{ref}/approve", json={"comment": "ok"})
                else:
                    response = client.get(f"/v1/versions/other-{rng.randrange(5)}@1")
            except httpx.HTTPError as exc:
                errors[f"{op}: {type(exc).__name__}"] += 1
                continue
            latencies[op].append(time.perf_counter() - t0)
            statuses[(op, response.status_code)] += 1
            if response.status_code not in expected[op]:
                errors[f"{op}: HTTP {response.status_code}"] += 1
                if len(samples) < 3:
                    samples.append(f"{op} {response.status_code}: {response.text[:300]}")
    with tally.lock:
        for op, values in latencies.items():
            tally.latencies.setdefault(op, []).extend(values)
        tally.statuses.update(statuses)
        tally.errors.update(errors)
        tally.samples.extend(samples)


def load(args: argparse.Namespace) -> int:
    server_url = args.postgres_url or os.environ.get("RAMPARTS_TEST_POSTGRES_URL")
    if not server_url:
        print("load needs PostgreSQL: source .ci/services.sh, or give --postgres-url",
              file=sys.stderr)  # fmt: skip
        return 2
    folder = Path(tempfile.mkdtemp(prefix="ramparts-registry-load-"))
    try:
        with fresh_database(server_url) as db_url:
            environ = environ_for(folder, db_url)
            template = template_version(folder, environ)
            plane = ControlPlane(AppState(environ=environ))
            people = make_people(plane, clients=args.clients)
            names = seed(plane.identity.engine, template, people,
                         models=args.models, versions=args.versions)  # fmt: skip
            with plane.identity.engine.connect() as conn:
                server_version = conn.execute(sa.text("SHOW server_version")).scalar()
                max_conn = conn.execute(sa.text("SHOW max_connections")).scalar()
            postmaster = postmaster_pid(plane.identity.engine)
            plane.close()
            print(f"seeded {args.models * args.versions:,} versions; {args.clients} clients for "
                  f"{args.seconds} s", flush=True)  # fmt: skip
            tally = Tally()
            with serving(environ, folder / "serve.log") as served:
                start = threading.Barrier(args.clients + 1)
                threads = [
                    threading.Thread(
                        target=client_loop,
                        args=(
                            served.base,
                            people.tokens[f"client-{i:03d}"],
                            names,
                            args.versions,
                            args.seconds,
                            i,
                            tally,
                            start,
                        ),
                        daemon=True,
                    )
                    for i in range(args.clients)
                ]
                for thread in threads:
                    thread.start()
                start.wait()  # every client has its connection's settings ready
                began = time.perf_counter()
                cpu0 = (
                    cpu_seconds(served.pid),
                    cpu_seconds(),
                    tree_cpu_seconds(postmaster) if postmaster else 0.0,
                    machine_busy_seconds(),
                )
                for thread in threads:
                    thread.join(args.seconds + 120)
                elapsed = time.perf_counter() - began
                cpu1 = (
                    cpu_seconds(served.pid),
                    cpu_seconds(),
                    tree_cpu_seconds(postmaster) if postmaster else 0.0,
                    machine_busy_seconds(),
                )
                serve_log = (folder / "serve.log").read_text(errors="replace")
        requests = sum(tally.statuses.values())
        errors = sum(tally.errors.values())
        print(f"\n{machine(folder, ('sqlalchemy', 'psycopg', 'fastapi', 'uvicorn', 'httpx'))}, "
              f"PostgreSQL {server_version} (max_connections {max_conn}, as .ci/services.sh "
              "starts it: fsync off)")  # fmt: skip
        print(f"{args.clients} clients, {elapsed:.0f} s, {requests:,} requests "
              f"({requests / elapsed:.0f}/s), errors: {errors}")  # fmt: skip
        server_cpu, client_cpu, pg_cpu, busy = (b - a for a, b in zip(cpu0, cpu1, strict=True))
        per = 1000 / max(requests, 1)
        print(f"CPU seconds over the run ({os.cpu_count()} cores x {elapsed:.0f} s = "
              f"{(os.cpu_count() or 1) * elapsed:.0f}): ramparts serve {server_cpu:.0f} "
              f"({server_cpu * per:.1f} ms per request), PostgreSQL "
              + (f"{pg_cpu:.0f} ({pg_cpu * per:.1f} ms per request)" if postmaster else "(remote)")
              + f", clients {client_cpu:.0f}, everything else on the machine "
              f"{busy - server_cpu - client_cpu - pg_cpu:.0f}\n")  # fmt: skip
        rows = [["operation", "requests", "statuses", "p50 ms", "p95 ms", "p99 ms"]]
        for op, _, _ in MIX:
            lat = tally.latencies.get(op) or [0.0]
            pct = percentiles(lat)
            seen = ", ".join(f"{code}: {n:,}" for (o, code), n in sorted(tally.statuses.items())
                             if o == op)  # fmt: skip
            rows.append([op, f"{len(tally.latencies.get(op, [])):,}", seen,
                         f"{pct['p50']:.0f}", f"{pct['p95']:.0f}", f"{pct['p99']:.0f}"])  # fmt: skip
        everything = [x for values in tally.latencies.values() for x in values] or [0.0]
        pct = percentiles(everything)
        rows.append(["all", f"{requests:,}", f"errors: {errors}", f"{pct['p50']:.0f}",
                     f"{pct['p95']:.0f}", f"{pct['p99']:.0f}"])  # fmt: skip
        print(table(rows))
        if tally.errors:
            print("\nerrors:", dict(tally.errors))
            for sample in tally.samples:
                print("  ", sample)
        tracebacks = serve_log.count("Traceback")
        if tracebacks:
            print(f"\nthe server logged {tracebacks} tracebacks; the last lines:\n"
                  + serve_log[-3000:])  # fmt: skip
        return 1 if tally.errors else 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    lat = sub.add_parser("latency", help="p50/p95 of each call on SQLite, library and HTTP")
    lat.add_argument("--calls", type=int, default=300, help="timed calls per operation")
    lat.add_argument("--profile", action="store_true", help="cProfile each library operation")
    lat.add_argument("--no-http", action="store_true", help="the library calls only")
    ld = sub.add_parser("load", help="concurrent HTTP clients against PostgreSQL")
    ld.add_argument("--clients", type=int, default=100)
    ld.add_argument("--seconds", type=float, default=60)
    ld.add_argument("--postgres-url", help="default: RAMPARTS_TEST_POSTGRES_URL")
    for p in (lat, ld):
        p.add_argument("--models", type=int, default=100)
        p.add_argument("--versions", type=int, default=100, help="versions per model")
    args = parser.parse_args()
    return latency(args) if args.command == "latency" else load(args)


if __name__ == "__main__":
    sys.exit(main())
