"""``ramparts registry`` and ``ramparts lineage``: the control plane from the command line.

With ``RAMPARTS_API_URL`` and ``RAMPARTS_TOKEN`` set, every command is a request to the
control plane (``ramparts serve``) as the identity the token proves; otherwise it acts
on the local state directory as the local admin. A refused
action (policy, separation of duties, a gate, a missing second factor) prints
``ramparts: refused: ...`` naming the rule or gate and exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.policy_cmd import add_policy_option
from ramparts.cli.state import AppState
from ramparts.errors import InputError

if TYPE_CHECKING:
    from ramparts.registry.client import RegistryClient

__all__ = ["add_parser"]

DESCRIPTION = """\
Models, datasets and endpoints with versions, approvals, gated promotion, rollback and
lineage. Pushed files are scanned, hashed, checked against their signature, described
in an ML-BOM and stored encrypted; every change is in the audit log.

  ramparts registry push models/fraud --name fraud          # picks up model.sig if signed
  ramparts registry approve fraud@1 --totp 123456           # not by its author
  ramparts registry gates fraud@1 --stage prod              # what would block it
  ramparts registry promote fraud@1 --stage prod
  ramparts registry rollback fraud --stage prod
  ramparts registry quarantine fraud@2 --reason "poisoned training data"
  ramparts registry delete fraud@2 --totp 123456
  ramparts registry exceptions                              # break-glass promotions
  ramparts registry cleanup --dry-run

Remote: export RAMPARTS_API_URL=http://127.0.0.1:8787 RAMPARTS_TOKEN=$(ramparts identity
token alice). Exit codes: 0 done, 1 refused, 2 error, 4 usage.
"""

LINEAGE_DESCRIPTION = """\
Datasets -> training runs (code commit, environment, builder) -> models -> endpoints.

  ramparts lineage affected --dataset customers@3     # what a poisoned dataset reached
  ramparts lineage affected --environment gpu-runner-7
  ramparts lineage upstream fraud@4
  ramparts lineage export dot > lineage.dot
"""


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--format", dest="cmd_format", choices=("table", "json"), help="output format"
    )
    parser.add_argument(
        "--totp", metavar="CODE", help="a TOTP code of your second factor (checked now)"
    )
    add_policy_option(parser)


def _sub(sub: Any, name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text)
    _common(parser)
    parser.set_defaults(handler=handler)
    return parser


def add_parser(commands: Any) -> None:
    """Add ``registry`` and ``lineage`` with their subcommands."""
    registry: Parser = commands.add_parser(
        "registry", help="versions, approvals, gated promotion, rollback", description=DESCRIPTION
    )
    registry.set_defaults(handler=registry.help_handler())
    sub = registry.add_command_parsers()

    _add_push(sub)
    _add_reads(sub)
    _add_lifecycle(sub)
    _add_lineage(commands)


def _add_push(sub: Any) -> None:
    push = _sub(sub, "push", "push a file or folder as a new version", _run_push)
    push.add_argument("path", type=Path, metavar="PATH")
    push.add_argument("--name", required=True)
    push.add_argument("--version", help="version label (default: the next number)")
    push.add_argument("--kind", choices=("model", "dataset"), default="model")
    push.add_argument("--team", help="owning team (default: yours, if you have one)")
    push.add_argument("--purpose", default="")
    push.add_argument(
        "--classification",
        choices=("public", "internal", "confidential", "restricted"),
        default="internal",
    )
    push.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE")
    push.add_argument("--metric", action="append", default=[], metavar="KEY=VALUE")
    push.add_argument(
        "--signature", type=Path, metavar="FILE", help="OMS bundle (default: model.sig / PATH.sig)"
    )
    push.add_argument(
        "--provenance", type=Path, metavar="FILE", help="SLSA bundle (default: PATH.intoto.jsonl)"
    )
    push.add_argument("--bom", type=Path, metavar="FILE", help="CycloneDX ML-BOM (default: built)")
    lineage = push.add_argument_group("lineage")
    lineage.add_argument(
        "--dataset", action="append", default=[], metavar="NAME@V", help="trained on (repeatable)"
    )
    lineage.add_argument("--code-commit", metavar="SHA")
    lineage.add_argument("--environment", metavar="NAME", help="where it was built")
    lineage.add_argument("--builder", metavar="ID", help="the builder that ran it")


def _add_reads(sub: Any) -> None:
    listing = _sub(sub, "list", "assets, or the versions of one", _run_list)
    listing.add_argument("name", nargs="?", metavar="NAME")
    listing.add_argument("--kind", choices=("model", "dataset", "endpoint"))

    show = _sub(sub, "show", "one version (NAME alone: the newest)", _run_show)
    show.add_argument("ref", metavar="NAME[@V]")
    show.add_argument("--kind", choices=("model", "dataset"), default="model")

    history = _sub(sub, "history", "every move of a model's stages", _run_history)
    history.add_argument("name", metavar="NAME")

    pull = _sub(sub, "pull", "decrypt a version's files into a new folder", _run_pull)
    pull.add_argument("ref", metavar="NAME[@V]")
    pull.add_argument("--to", type=Path, required=True, metavar="DIR", dest="target")
    pull.add_argument("--kind", choices=("model", "dataset"), default="model")
    _sub(sub, "exceptions", "break-glass promotions", _run_exceptions)
    _sub(sub, "orphans", "orphaned deployments, unowned assets, idle versions", _run_orphans)


def _add_lifecycle(sub: Any) -> None:
    for verb in ("approve", "reject"):
        review = _sub(sub, verb, f"{verb} a version (not its author)", _run_review)
        review.add_argument("ref", metavar="NAME@V")
        review.add_argument("--comment", default="")
        review.set_defaults(verb=verb)

    gates = _sub(sub, "gates", "what each gate of a stage says about a version", _run_gates)
    gates.add_argument("ref", metavar="NAME@V")
    gates.add_argument("--stage", choices=("dev", "staging", "prod"), default="prod")

    promote = _sub(sub, "promote", "move a stage to a version if its gates pass", _run_promote)
    promote.add_argument("ref", metavar="NAME@V")
    promote.add_argument("--stage", choices=("dev", "staging", "prod"), required=True)
    promote.add_argument(
        "--break-glass",
        metavar="JUSTIFICATION",
        help="bypass failing gates (admins only; audited, raises an alert)",
    )

    rollback = _sub(
        sub, "rollback", "move a stage back to its previous good version", _run_rollback
    )
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--stage", choices=("dev", "staging", "prod"), required=True)

    quarantine = _sub(sub, "quarantine", "block a version from every stage", _run_quarantine)
    quarantine.add_argument("ref", metavar="NAME@V")
    quarantine.add_argument("--reason", default="")

    delete = _sub(sub, "delete", "delete a version's files (needs --totp)", _run_delete)
    delete.add_argument("ref", metavar="NAME@V")

    deploy = _sub(sub, "deploy", "point an endpoint at a model's prod version", _run_deploy)
    deploy.add_argument("endpoint", metavar="ENDPOINT")
    deploy.add_argument("--model", required=True, metavar="NAME@V")
    deploy.add_argument("--team")

    rewrap = _sub(sub, "rewrap", "rotate: wrap every artifact's data key under a new key",
                  _run_rewrap)  # fmt: skip
    rewrap.add_argument("--kek", required=True, metavar="NAME", help="the new key-store key")
    cleanup = _sub(sub, "cleanup", "delete unapproved intermediate versions", _run_cleanup)
    cleanup.add_argument("--dry-run", action="store_true", help="list them; delete nothing")


def _add_lineage(commands: Any) -> None:
    graph: Parser = commands.add_parser(
        "lineage", help="what a dataset or environment reached", description=LINEAGE_DESCRIPTION
    )
    graph.set_defaults(handler=graph.help_handler())
    gsub = graph.add_command_parsers()
    affected = _sub(gsub, "affected", "everything downstream of a dataset or environment",
                    _run_affected)  # fmt: skip
    source = affected.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", metavar="NAME[@V]")
    source.add_argument("--environment", metavar="NAME")
    upstream = _sub(gsub, "upstream", "everything a version was built from", _run_upstream)
    upstream.add_argument("ref", metavar="NAME@V")
    export = _sub(gsub, "export", "the lineage graph (OpenLineage JSON or DOT)", _run_export)
    export.add_argument("graph_format", nargs="?", choices=("openlineage", "dot"),
                        default="openlineage")  # fmt: skip


# -- plumbing -------------------------------------------------------------------------


def _client(state: AppState, args: argparse.Namespace) -> RegistryClient:
    if args.cmd_format:
        state.format = args.cmd_format
    url = state.environ.get("RAMPARTS_API_URL")
    token = state.environ.get("RAMPARTS_TOKEN")
    if url and token:
        from ramparts.registry.client import RemoteRegistry  # noqa: PLC0415

        return RemoteRegistry(url, token, totp=args.totp)
    if url or token:
        missing = "RAMPARTS_TOKEN" if url else "RAMPARTS_API_URL"
        sys.stderr.write(
            f"ramparts: note: {missing} is not set: acting on the local store as the local admin\n"
        )
    from ramparts.cli.control import ControlPlane  # noqa: PLC0415
    from ramparts.registry.client import LocalRegistry  # noqa: PLC0415

    plane = ControlPlane(state, args.policy)
    caller = plane.local_admin(totp=args.totp)
    return LocalRegistry(plane.registry, caller, on_close=plane.close)


def _call(state: AppState, args: argparse.Namespace, operation: str, **params: Any) -> Any:
    from ramparts.registry.interface import (  # noqa: PLC0415
        ConflictError,
        GateError,
        RefusedError,
    )

    client = _client(state, args)
    try:
        return client.call(operation, **params)
    except GateError as exc:
        for gate in exc.gates:
            sys.stderr.write(f"  {'PASS' if gate.passed else 'FAIL'} {gate.gate}: {gate.detail}\n")
        raise _RefusedError(str(exc)) from exc
    except (RefusedError, ConflictError) as exc:
        raise _RefusedError(str(exc)) from exc
    finally:
        client.close()


class _RefusedError(Exception):
    """A refusal: printed as one line, exit 1."""


def _done(state: AppState, data: Any, lines: list[str]) -> int:
    if state.format == "json":
        echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in lines:
            echo(line)
    return 0


def _handle(run: Any) -> Any:
    def handler(state: AppState, args: argparse.Namespace) -> int:
        try:
            code: int = run(state, args)
        except _RefusedError as exc:
            sys.stderr.write(f"ramparts: refused: {exc}\n")
            return 1
        return code

    handler.__doc__ = run.__doc__
    return handler


def _pairs(items: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--{what} takes KEY=VALUE, got {item!r}")
        if what == "metric":
            try:
                out[key] = float(value)
            except ValueError:
                raise InputError(f"--metric {key}: {value!r} is not a number") from None
        else:
            out[key] = value
    return out


def _version_line(v: dict[str, Any]) -> str:
    scan = v.get("scan") or {}
    counts = ", ".join(f"{n} {s}" for s, n in sorted(scan.get("counts", {}).items())) or "clean"
    stages = ",".join(v["stages"]) or "-"
    marks = " ".join(f"{k}={'yes' if v[k] else 'no'}" for k in ("signed", "provenance", "bom"))
    return (
        f"{v['ref']:<24} {v['state']:<11} stages={stages:<14} {v['digest'][:19]}  "
        f"{marks}  scan: {counts}"
    )


def _read_optional(path: Path | None, default: Path | None) -> tuple[bytes | None, Path | None]:
    chosen = path or (default if default is not None and default.is_file() else None)
    if chosen is None:
        return None, None
    try:
        return chosen.read_bytes(), chosen
    except OSError as exc:
        raise InputError(f"cannot read {chosen}: {exc.strerror or exc}") from exc


# -- commands -------------------------------------------------------------------------


@_handle
def _run_push(state: AppState, args: argparse.Namespace) -> int:
    path: Path = args.path
    if not path.exists():
        raise InputError(f"{path} does not exist")
    from ramparts.sign.model import default_signature_path  # noqa: PLC0415

    signature, signature_file = _read_optional(args.signature, default_signature_path(path))
    provenance, _ = _read_optional(args.provenance, path.with_name(path.name + ".intoto.jsonl"))
    bom, _ = _read_optional(args.bom, None)
    fields: dict[str, Any] = {
        "name": args.name, "kind": args.kind, "version": args.version, "team": args.team,
        "purpose": args.purpose, "classification": args.classification,
        "tags": _pairs(args.tag, "tag"), "metrics": _pairs(args.metric, "metric"),
        "datasets": args.dataset, "code_commit": args.code_commit,
        "environment": args.environment, "builder": args.builder,
    }  # fmt: skip
    if signature_file is not None and path.is_dir():
        try:
            inside = signature_file.resolve().relative_to(path.resolve()).as_posix()
            fields["signature_path"] = inside
        except ValueError:
            pass
    version = _call(state, args, "push", source=path, fields=fields, signature=signature,
                    provenance=provenance, bom=bom, signature_file=signature_file)  # fmt: skip
    return _done(state, version, [f"pushed {_version_line(version)}", f"id {version['id']}"])


@_handle
def _run_list(state: AppState, args: argparse.Namespace) -> int:
    if args.name:
        versions = _call(state, args, "versions", name=args.name, kind=args.kind or "model")
        return _done(state, versions, [_version_line(v) for v in versions] or ["no version"])
    assets = _call(state, args, "assets", kind=args.kind)
    lines = [
        f"{a['kind']:<9} {a['name']:<28} team={a['team'] or '-':<12} {a['classification']}"
        for a in assets
    ]
    return _done(state, assets, lines or ["nothing registered"])


@_handle
def _run_show(state: AppState, args: argparse.Namespace) -> int:
    v = _call(state, args, "show", ref=args.ref, kind=args.kind)
    lines = [_version_line(v), f"id {v['id']}", f"author {v['author_name']}",
             f"approved by {v['approved_by_name'] or '-'}"]  # fmt: skip
    lines += [f"  {f['severity']:<8} {f['rule']} {f['location']}: {f['title']}"
              for f in (v.get("scan") or {}).get("findings", [])]  # fmt: skip
    return _done(state, v, lines)


@_handle
def _run_history(state: AppState, args: argparse.Namespace) -> int:
    moves = _call(state, args, "history", name=args.name)
    lines = [f"{m['at']}  {m['stage']:<8} {m['action']:<10} {m['version'] or '-':<10} "
             f"by {m['actor']}" for m in moves]  # fmt: skip
    return _done(state, moves, lines or ["no stage has moved"])


@_handle
def _run_review(state: AppState, args: argparse.Namespace) -> int:
    v = _call(state, args, args.verb, ref=args.ref, comment=args.comment)
    return _done(state, v, [f"{v['ref']} {v['state']} by {v['approved_by_name'] or 'you'}"])


@_handle
def _run_gates(state: AppState, args: argparse.Namespace) -> int:
    results = _call(state, args, "gates", ref=args.ref, stage=args.stage)
    lines = [f"{'PASS' if g['passed'] else 'FAIL'} {g['gate']}: {g['detail']}" for g in results]
    _done(state, results, lines or [f"{args.stage} has no gate"])
    return 0 if all(g["passed"] for g in results) else 1


@_handle
def _run_promote(state: AppState, args: argparse.Namespace) -> int:
    result = _call(state, args, "promote", ref=args.ref, stage=args.stage,
                   break_glass=args.break_glass)  # fmt: skip
    lines = [f"{'PASS' if g['passed'] else 'FAIL'} {g['gate']}: {g['detail']}"
             for g in result["gates"]]  # fmt: skip
    was = f" (was {result['previous']})" if result["previous"] else ""
    lines.append(f"{result['stage']} -> {result['version']}{was}")
    if result["break_glass"]:
        lines.append(f"BREAK-GLASS: bypassed {', '.join(result['bypassed'])}; audited and alerted")
    return _done(state, result, lines)


@_handle
def _run_rollback(state: AppState, args: argparse.Namespace) -> int:
    result = _call(state, args, "rollback", name=args.name, stage=args.stage)
    return _done(state, result, [f"{result['stage']}: {result['from']} -> {result['to']}"])


@_handle
def _run_quarantine(state: AppState, args: argparse.Namespace) -> int:
    v = _call(state, args, "quarantine", ref=args.ref, reason=args.reason)
    return _done(state, v, [f"{v['ref']} quarantined: blocked from every stage"])


@_handle
def _run_delete(state: AppState, args: argparse.Namespace) -> int:
    v = _call(state, args, "delete", ref=args.ref)
    return _done(state, v, [f"{v['ref']} deleted (its record and audit trail remain)"])


@_handle
def _run_deploy(state: AppState, args: argparse.Namespace) -> int:
    result = _call(state, args, "deploy", endpoint=args.endpoint, model=args.model,
                   team=args.team)  # fmt: skip
    return _done(state, result, [f"endpoint {result['endpoint']} serves {result['serves']}"])


@_handle
def _run_pull(state: AppState, args: argparse.Namespace) -> int:
    client = _client(state, args)
    from ramparts.registry.client import LocalRegistry  # noqa: PLC0415

    try:
        if not isinstance(client, LocalRegistry):
            raise InputError("pull reads the local artifact store; run it where the store is")
        v = client.pull(args.ref, args.target, args.kind)
    finally:
        client.close()
    return _done(state, v, [f"{v['ref']} decrypted into {args.target}"])


@_handle
def _run_exceptions(state: AppState, args: argparse.Namespace) -> int:
    items = _call(state, args, "exceptions")
    lines = [f"{e['at']}  {e['version']} -> {e['stage']} by {e['actor']}: bypassed "
             f"{', '.join(e['gates'])}; \"{e['justification']}\"" for e in items]  # fmt: skip
    return _done(state, items, lines or ["no break-glass promotion"])


@_handle
def _run_orphans(state: AppState, args: argparse.Namespace) -> int:
    found = _call(state, args, "orphans")
    lines = [f"endpoint {e['endpoint']} serves {e['serves']}: {', '.join(e['problems'])}"
             for e in found["endpoints"]]  # fmt: skip
    lines += [f"{a['kind']} {a['name']} has no owning team" for a in found["unowned"]]
    lines += [f"{v['version']} ({v['state']}) idle since {v['since']}" for v in found["idle"]]
    _done(state, found, lines or ["no orphan"])
    return 1 if lines else 0


@_handle
def _run_rewrap(state: AppState, args: argparse.Namespace) -> int:
    result = _call(state, args, "rewrap", kek=args.kek)
    line = (
        f"rewrapped {result['artifacts']} artifact(s) under {result['kek']} (data untouched); "
        f'set registry.kek_name = "{result["kek"]}" for new pushes'
    )
    return _done(state, result, [line])


@_handle
def _run_cleanup(state: AppState, args: argparse.Namespace) -> int:
    items = _call(state, args, "cleanup", dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    return _done(state, items, [f"{verb} {v['ref']} ({v['state']})" for v in items]
                 or ["nothing to clean up"])  # fmt: skip


def _lineage_lines(found: dict[str, list[dict[str, Any]]]) -> list[str]:
    lines = []
    for group, items in found.items():
        for item in items:
            if group == "transforms":
                keys = ("environment", "builder", "code_commit")
                attrs = ", ".join(f"{k}={item[k]}" for k in keys if item.get(k))
                lines.append(f"run       {item['node'].partition(':')[2]}  {attrs}")
            else:
                lines.append(f"{item['kind']:<9} {item['ref']}")
    return lines or ["nothing"]


@_handle
def _run_affected(state: AppState, args: argparse.Namespace) -> int:
    found = _call(state, args, "affected", dataset=args.dataset, environment=args.environment)
    return _done(state, found, _lineage_lines(found))


@_handle
def _run_upstream(state: AppState, args: argparse.Namespace) -> int:
    found = _call(state, args, "upstream", ref=args.ref)
    return _done(state, found, _lineage_lines(found))


@_handle
def _run_export(state: AppState, args: argparse.Namespace) -> int:
    data = _call(state, args, "export", fmt=args.graph_format)
    if isinstance(data, str):
        sys.stdout.write(data)
        return 0
    echo(json.dumps(data, indent=2, sort_keys=True))
    return 0
