"""``ramparts attest`` and the provenance options of ``ramparts verify`` (SLSA v1)."""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser, existing_path
from ramparts.cli.state import AppState
from ramparts.core.files import write_atomic
from ramparts.errors import InputError

if TYPE_CHECKING:
    from ramparts.sign.model import Signed
    from ramparts.sign.provenance import Dependency

__all__ = [
    "PASSWORD_VARIABLE",
    "add_parser",
    "add_provenance_options",
    "check_provenance",
    "key_password",
    "provenance_path",
]

DESCRIPTION = """\
Write signed SLSA Provenance v1 for a model or dataset: which builder made it, from
which repository, ref and commit, by which workflow and trigger, with which datasets
and base models. In GitHub Actions and GitLab CI every field comes from the job's
environment; elsewhere give --builder-id, --repository and --commit (flags override
the environment). The statement is DSSE-signed and appended to an .intoto.jsonl bundle
(default: PATH.intoto.jsonl beside the first subject).

  ramparts attest models/classifier --key signing.pem \\
      --dataset train=data/train.parquet --base-model bert=sha256:9f86d0...
  ramparts verify models/classifier --key signing.pub.pem --require-provenance \\
      --builder https://github.com/actions/runner/github-hosted \\
      --repo https://github.com/acme/models --branch main
"""

_DIGEST = re.compile(r"sha256:([0-9a-fA-F]{64})")


def add_parser(commands: Any) -> None:
    """Add ``attest`` to the top-level parser."""
    attest: Parser = commands.add_parser(
        "attest",
        help="write signed SLSA provenance for a model or dataset",
        description=DESCRIPTION,
    )
    attest.add_argument(
        "subjects",
        metavar="PATH",
        nargs="+",
        type=existing_path,
        help="model or dataset file or folder",
    )
    attest.add_argument(
        "--key",
        type=Path,
        required=True,
        metavar="PRIVATE.pem",
        help="PEM elliptic-curve private key",
    )
    attest.add_argument(
        "--output",
        dest="bundle",
        type=Path,
        metavar="FILE",
        help="the .intoto.jsonl bundle (appended to)",
    )
    deps = attest.add_argument_group("inputs of the build (resolvedDependencies)")
    deps.add_argument(
        "--dataset",
        action="append",
        default=[],
        metavar="NAME=PATH|sha256:HEX",
        help="a dataset the build read (repeatable)",
    )
    deps.add_argument(
        "--base-model",
        action="append",
        default=[],
        metavar="NAME=PATH|sha256:HEX",
        help="a model the build started from (repeatable)",
    )
    build = attest.add_argument_group("the build (default: from the CI environment)")
    build.add_argument("--builder-id", metavar="URI", help="who ran the build")
    build.add_argument("--repository", metavar="URL", help="source repository")
    build.add_argument("--ref", metavar="REF", help="git ref, e.g. refs/heads/main")
    build.add_argument("--commit", metavar="SHA", help="source commit")
    build.add_argument("--workflow", metavar="PATH", help="workflow file that ran the build")
    build.add_argument("--event", metavar="NAME", help="what triggered it (push, schedule, ...)")
    build.add_argument("--invocation-id", metavar="ID", help="this run's id or URL")
    build.add_argument(
        "--started-on", type=_timestamp, metavar="ISO-8601", help="when the build started"
    )
    attest.set_defaults(handler=run_attest)


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not an ISO-8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_provenance_options(parser: argparse.ArgumentParser) -> None:
    """``--require-provenance`` and its policy on ``ramparts verify``."""
    group = parser.add_argument_group(
        "provenance (any of these requires signed SLSA provenance that meets them)"
    )
    group.add_argument(
        "--require-provenance",
        action="store_true",
        help="fail unless signed provenance meets the policy below",
    )
    group.add_argument(
        "--provenance",
        type=Path,
        metavar="FILE",
        help="the .intoto.jsonl bundle (default: PATH.intoto.jsonl)",
    )
    group.add_argument(
        "--provenance-key",
        type=Path,
        metavar="PUBLIC.pem",
        help="key that signed the provenance (default: --key)",
    )
    group.add_argument("--builder", metavar="URI", help="required builder id")
    group.add_argument("--repo", metavar="URL", help="required source repository")
    group.add_argument("--branch", metavar="NAME", help="required branch")
    group.add_argument("--commit", metavar="SHA", help="required source commit")


def provenance_path(subject: Path) -> Path:
    """``PATH.intoto.jsonl`` beside a file or folder (never inside the signed folder)."""
    return subject.with_name(subject.name + ".intoto.jsonl")


def _dependency(item: str, kind: str) -> Dependency:
    from ramparts.sign.manifest import artifact_digest  # noqa: PLC0415
    from ramparts.sign.provenance import Dependency  # noqa: PLC0415

    name, sep, target = item.partition("=")
    if not sep or not name or not target:
        raise InputError(f"--{kind} {item!r}: expected NAME=PATH or NAME=sha256:HEX")
    match = _DIGEST.fullmatch(target)
    if match:
        return Dependency(name=name, sha256=match.group(1).lower(), kind=kind)
    path = Path(target)
    if not path.exists():
        raise InputError(f"--{kind} {item!r}: {target} does not exist")
    return Dependency(name=name, sha256=artifact_digest(path), uri=path.as_posix(), kind=kind)


def run_attest(state: AppState, args: argparse.Namespace) -> int:
    """Hash the subjects, build the statement, sign it and append it to the bundle."""
    from ramparts.sign.keys import KeySigner  # noqa: PLC0415
    from ramparts.sign.manifest import artifact_digest  # noqa: PLC0415
    from ramparts.sign.provenance import (  # noqa: PLC0415
        context_from_environment,
        provenance_statement,
        sign_statement,
    )

    signer = KeySigner(args.key, password=key_password(state))
    context = context_from_environment(state.environ).merged(
        builder_id=args.builder_id,
        repository=args.repository,
        ref=args.ref,
        commit=args.commit,
        workflow=args.workflow,
        event=args.event,
        invocation_id=args.invocation_id,
        started_on=args.started_on,
    )
    context.check()
    deps = [_dependency(d, "dataset") for d in args.dataset]
    deps += [_dependency(m, "base-model") for m in args.base_model]
    subjects = [(p.name or p.resolve().name, artifact_digest(p)) for p in args.subjects]
    statement = provenance_statement(subjects, context.merged(finished_on=datetime.now(UTC)), deps)
    line = sign_statement(statement, signer)
    bundle: Path = args.bundle or provenance_path(args.subjects[0])
    _append(bundle, line)
    echo(f"attested {', '.join(name for name, _ in subjects)} -> {bundle}")
    echo(f"  built by {context.builder_id} from {context.repository}@{context.commit}")
    return 0


def _append(bundle: Path, line: bytes) -> None:
    """Add ``line`` to ``bundle`` atomically: a crash leaves the old or the new file."""
    try:
        old = bundle.read_bytes() if bundle.exists() else b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        write_atomic(bundle, old + line)
    except OSError as exc:
        raise InputError(f"cannot write {bundle}: {exc.strerror or exc}") from exc


PASSWORD_VARIABLE = "RAMPARTS_KEY_PASSWORD"  # noqa: S105 - the name of a variable, not a password


def key_password(state: AppState) -> bytes | None:
    """The password of an encrypted private key, from ``RAMPARTS_KEY_PASSWORD``."""
    value = state.environ.get(PASSWORD_VARIABLE)
    return value.encode("utf-8") if value else None


def _wants_provenance(args: argparse.Namespace) -> bool:
    policy = (args.builder, args.repo, args.branch, args.commit, args.provenance)
    return bool(args.require_provenance or any(v is not None for v in policy))


def check_provenance(args: argparse.Namespace, model: Path, signed: Signed) -> str | None:
    """Enforce the provenance policy of ``verify``; a line describing what passed, or None."""
    if not _wants_provenance(args):
        return None
    from ramparts.sign.keys import KeyVerifier  # noqa: PLC0415
    from ramparts.sign.manifest import artifact_digest  # noqa: PLC0415
    from ramparts.sign.provenance import ProvenancePolicy, verify_provenance  # noqa: PLC0415

    policy = ProvenancePolicy(args.builder or "", args.repo or "", args.branch, args.commit)
    key = args.provenance_key or args.key
    if key is None:
        raise InputError("--require-provenance without --key needs --provenance-key")
    path: Path = args.provenance or provenance_path(model)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the provenance {path}: {exc.strerror or exc}") from exc
    digest = _reuse_digest(model, signed) or artifact_digest(model, workers=args.workers)
    statement = verify_provenance(data, KeyVerifier(key), digest, policy)
    external = statement["predicate"]["buildDefinition"]["externalParameters"]
    return (
        f"provenance: built by {policy.builder} from {external.get('repository')}"
        f"@{external.get('commit')} ({external.get('ref', 'no ref')})"
    )


def _reuse_digest(model: Path, signed: Signed) -> str | None:
    """The attestation digest when the signature's hashing already computed it."""
    from ramparts.sign.interface import DEFAULT_IGNORES  # noqa: PLC0415

    manifest = signed.manifest
    ser = manifest.serialization
    if (ser.method, ser.hash_type, ser.allow_symlinks) != ("files", "sha256", False):
        return None
    if not model.is_dir():
        return manifest.resources[0].digest
    if set(ser.ignore_paths) == {*DEFAULT_IGNORES, "model.sig"}:
        return manifest.root_digest
    return None
