"""Model signing side by side: ramparts and model_signing (sigstore/model-transparency).

    python benchmarks/provenance/run.py [--repeat 3] [--scale 1.0]

1. Installs model-signing (and pyopenssl, which it imports without declaring) into
   ``benchmarks/.venv-provenance-peers``, and this checkout into ``benchmarks/.venv-ramparts``.
2. Builds ``out/model``: one 1 GiB file, two 384 MiB files, a hundred 2 MiB files and
   fifty small ones (about 2.1 GB at ``--scale 1``), plus ``out/tiny`` (one 1 KiB file),
   and reads them once so every run starts from the page cache.
3. Signs and verifies each model with both command-line tools, ``--repeat`` times,
   alternating tools, and records wall and CPU seconds and peak memory (``os.wait4``).
   Each tool then verifies the other's signature of the big model.

A Markdown summary is printed and ``out/results.json`` written; docs/benchmarks.md
records them with this command line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from harness import BENCH, ensure_venv, install_ramparts, measure, table  # noqa: E402

PEERS_VENV = BENCH / ".venv-provenance-peers"
PEER_PACKAGES = ["model-signing==1.1.1", "pyopenssl"]
MIB = 1 << 20


def layout(scale: float) -> list[tuple[str, int]]:
    """The model's files: name and size."""
    files = [("model-00001.safetensors", int(1024 * MIB * scale))]
    files += [(f"model-0000{i}.safetensors", int(384 * MIB * scale)) for i in (2, 3)]
    files += [(f"shards/part-{i:03d}.bin", int(2 * MIB * scale)) for i in range(100)]
    files += [(f"tokenizer/extra-{i:02d}.json", 700 + i) for i in range(50)]
    return files


def build(root: Path, files: list[tuple[str, int]]) -> int:
    """Write the model once (random bytes: hashing cost does not depend on content)."""
    marker = root / ".layout.json"
    wanted = json.dumps(files)
    if not (marker.exists() and marker.read_text() == wanted):
        block = os.urandom(16 * MIB)
        for name, size in files:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                left, salt = size, 0
                while left > 0:
                    chunk = block[: min(left, len(block))]
                    fh.write(salt.to_bytes(8, "little") + chunk[8:] if len(chunk) > 8 else chunk)
                    left -= len(chunk)
                    salt += 1
        marker.write_text(wanted)
    return sum(size for _, size in files)


def warm(root: Path) -> None:
    """Read every file once so that runs are measured from the page cache."""
    for path in root.rglob("*"):
        if path.is_file():
            with path.open("rb") as fh:
                while fh.read(16 * MIB):
                    pass


def commands(
    tool: str, action: str, model: Path, sig: Path, keys: Path, bins: dict[str, Path]
) -> list[str]:
    """The command line of one run."""
    if tool == "ramparts":
        key = keys / ("signing.pem" if action == "sign" else "signing.pub.pem")
        return [
            str(bins["ramparts"]),
            "-q",
            "-f",
            "json",
            action,
            str(model),
            "--key",
            str(key),
            "--signature",
            str(sig),
        ]
    flag = (
        ["--private_key", str(keys / "signing.pem")]
        if action == "sign"
        else ["--public_key", str(keys / "signing.pub.pem")]
    )
    return [
        str(bins["peers"] / "model_signing"),
        action,
        "key",
        str(model),
        "--signature",
        str(sig),
        *flag,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="file sizes times this")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    bins = {"peers": ensure_venv(PEERS_VENV, PEER_PACKAGES), "ramparts": install_ramparts()}
    big = out / "model"
    total = build(big, layout(args.scale))
    tiny = out / "tiny"
    tiny_bytes = build(tiny, [("weights.bin", 1024)])
    keys = out / "keys"
    if not (keys / "signing.pem").exists():
        measure([str(bins["ramparts"]), "keygen", str(keys / "signing.pem")])
    warm(big)

    results: dict[str, dict[str, list[dict[str, object]]]] = {}
    for model, label in ((tiny, "tiny"), (big, "big")):
        for _ in range(args.repeat):
            for tool in ("ramparts", "model_signing"):
                for action in ("sign", "verify"):
                    sig = out / f"{label}-{tool}.sig"
                    run = measure(commands(tool, action, model, sig, keys, bins))
                    if run["exit"] != 0:
                        print(f"{tool} {action} {label} failed: {run['stderr']}", file=sys.stderr)
                    results.setdefault(f"{tool} {action} {label}", {}).setdefault(
                        "runs", []
                    ).append(run)
    cross = {
        "ramparts verifies model_signing": measure(
            commands("ramparts", "verify", big, out / "big-model_signing.sig", keys, bins)
        )["exit"],
        "model_signing verifies ramparts": measure(
            commands("model_signing", "verify", big, out / "big-ramparts.sig", keys, bins)
        )["exit"],
    }

    rows = [["run", "median wall s", "best wall s", "GB/s (best)", "CPU s", "peak MiB"]]
    for name, entry in results.items():
        runs = entry["runs"]
        walls = [float(r["seconds"]) for r in runs]
        size = total if name.endswith("big") else tiny_bytes
        rows.append(
            [
                name,
                f"{statistics.median(walls):.2f}",
                f"{min(walls):.2f}",
                f"{size / min(walls) / 1e9:.2f}" if name.endswith("big") else "",
                f"{statistics.median(float(r['cpu']) for r in runs):.2f}",
                f"{max(float(r['rss_mib']) for r in runs):.0f}",
            ]
        )
    hashing = [
        json.loads(str(r["stdout"]))["hash_seconds"]
        for r in results["ramparts sign tiny"]["runs"]
        if r["exit"] == 0
    ]
    (out / "results.json").write_text(
        json.dumps({"bytes": total, "results": results, "cross": cross}, indent=1)
    )
    print(f"model: {total / 1e9:.2f} GB in {len(layout(args.scale))} files; repeat {args.repeat}")
    print(table(rows))
    print()
    print(f"ramparts sign tiny: hashing {statistics.median(hashing):.3f} s of the wall time above")
    for name, code in cross.items():
        print(f"{name}: exit {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
