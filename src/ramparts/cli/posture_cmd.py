"""``ramparts posture``: judge a repository and ramparts' own state against the control
catalogue, score it, map it to frameworks, and compare with the previous run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import DelayedProgress, add_report_options, echo, write_report_file
from ramparts.cli.parsing import (
    Parser,
    add_walk_options,
    existing_path,
    walk_settings,
)
from ramparts.cli.state import AppState
from ramparts.core.records import record, replace
from ramparts.errors import InputError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ramparts.core.settings import Settings
    from ramparts.posture.assess import GatewayInput, IdentityInput
    from ramparts.posture.collect_state import AuditState, RegistryState
    from ramparts.posture.interface import PostureReport

__all__ = ["FORMATS", "add_parser"]

FORMATS = ("table", "json", "markdown", "html", "sarif", "ocsf")
TEMPLATES_DIR = "docs/ai-governance"
_DEFAULT_TEMPLATES = Path(TEMPLATES_DIR)

DESCRIPTION = """\
Judge a repository and ramparts' own state (registry, identities, audit log,
gateway configuration) against 60+ automated controls, score the result and map
it to NIST AI RMF, NIST AI 600-1, ISO/IEC 42001, the EU AI Act, OWASP, MITRE
ATLAS and Google SAIF. Offline: nothing leaves the machine.

  ramparts posture .                           the table on the terminal
  ramparts posture . -f html -o posture.html   a report to read and share
  ramparts posture . -f sarif -o posture.sarif failing controls for code scanning
  ramparts posture . --fail-under 80           exit 1 when the score is below 80
  ramparts posture . --templates               starting documents a person completes

The score is weighted passes / (passes + fails); MANUAL and NOT_APPLICABLE controls
do not count. It measures the automated controls only and never means "compliant".
Each run is stored in the state database and the next one says what changed.
"""


def add_parser(commands: Any) -> None:
    """Add ``posture`` (and ``posture templates``) to the top-level parser."""
    posture: Parser = commands.add_parser(
        "posture",
        help="score the AI security posture of a repository",
        description=DESCRIPTION,
    )
    posture.add_argument("path", metavar="PATH", type=existing_path, help="repository folder")
    add_report_options(
        posture,
        fail_on=False,
        formats=FORMATS,
        format_help="report format (default: table)",
        output_help="write it here",
    )
    posture.add_argument(
        "--fail-under",
        type=_score,
        metavar="SCORE",
        help="exit 1 when the score is below SCORE (0-100; default: posture.fail_under)",
    )
    posture.add_argument(
        "--approved-provider",
        action="append",
        default=[],
        metavar="NAME",
        help="an approved AI provider (repeatable; adds to posture.approved_providers)",
    )
    posture.add_argument(
        "--gateway-config",
        type=existing_path,
        metavar="FILE",
        help="the gateway.toml to judge (default: posture.gateway_config, or PATH/gateway.toml)",
    )
    posture.add_argument(
        "--online",
        action="store_true",
        help="ask OSV for known vulnerabilities of dependencies (the only network call)",
    )
    posture.add_argument(
        "--no-record", action="store_true", help="do not store this run in the state database"
    )
    add_walk_options(posture)
    posture.add_argument(
        "--templates",
        nargs="?",
        const=_DEFAULT_TEMPLATES,
        type=Path,
        metavar="DIR",
        help=f"write starting documents (AI policy, roles, impact assessment, incident "
        f"playbook) filled with what discovery found into DIR (default: PATH/{TEMPLATES_DIR}); "
        "existing files are kept",
    )
    posture.add_argument(
        "-v", "--verbose", action="store_true", help="also list passing and manual controls"
    )
    posture.set_defaults(handler=_run)


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 100")
    return value


def _state_in_use(settings: Settings) -> bool:
    """Whether a state database exists (posture never creates one just to read it)."""
    if settings.database_url is not None:
        return True
    return (settings.state_dir / "ramparts.db").is_file()


class _Placeholders(Mapping[str, str]):
    """Every environment variable a gateway.toml names, as a placeholder: posture reads
    the configuration, never the credentials."""

    def __getitem__(self, key: str) -> str:
        return "set"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _too_big(path: Path) -> bool:
    try:
        return path.stat().st_size > 1 << 20
    except OSError:
        return False


def _gateway(root: Path, settings: Settings, flag: Path | None) -> GatewayInput:
    from ramparts.gateway.config import load_config  # noqa: PLC0415
    from ramparts.gateway.interface import GatewayError  # noqa: PLC0415
    from ramparts.posture.assess import GatewayInput  # noqa: PLC0415

    path = flag or settings.posture.gateway_config
    if path is None and (root / "gateway.toml").is_file():
        path = root / "gateway.toml"
    redis = settings.redis_url is not None
    if path is None:
        return GatewayInput(redis=redis)
    try:
        source = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        source = str(path)
    if flag is None and (path.is_symlink() or _too_big(path)):
        # The repository's own file: a link could point anywhere, a huge file is no config.
        reason = "is a link (not followed)" if path.is_symlink() else "is larger than 1 MiB"
        return GatewayInput(source=source, redis=redis, error=f"{source} {reason}")
    try:
        config = load_config(path, environ=_Placeholders())
    except GatewayError as exc:
        return GatewayInput(source=source, redis=redis, error=f"{source}: {exc}")
    return GatewayInput(config=config, source=source, redis=redis)


@record(frozen=False, slots=False)
class _State:
    registry: RegistryState | None = None
    identity: IdentityInput | None = None
    audit: AuditState | None = None
    digests: frozenset[str] | None = None
    engine: sa.Engine | None = None


def _read_state(state: AppState, settings: Settings) -> _State:
    """The registry, identities and audit log of the state database, read-only."""
    from ramparts.audit.interface import LogIntegrityError  # noqa: PLC0415
    from ramparts.cli.audit_cmd import open_log, verify_log  # noqa: PLC0415
    from ramparts.cli.control import ControlPlane  # noqa: PLC0415
    from ramparts.errors import AuditError  # noqa: PLC0415
    from ramparts.posture.assess import IdentityInput  # noqa: PLC0415
    from ramparts.posture.collect_state import AuditState, RegistryState  # noqa: PLC0415

    plane = ControlPlane(state)
    engine = plane.identity.engine
    caller = plane.local_admin()
    registry = plane.registry
    versions = [
        v
        for asset in registry.assets(caller)
        for v in registry.versions(caller, asset.name, asset.kind)
    ]
    config = settings.registry
    registry_state = (
        RegistryState(
            versions=tuple(versions),
            gates={stage: config.gates(stage) for stage in ("dev", "staging", "prod")},
            orphans=registry.orphans(caller),
            kms=config.kms is not None,
        )
        if versions
        else None
    )
    identities = plane.identity.identities
    listed = identities.list()
    identity = IdentityInput(
        identities=listed,
        keys={i.name: identities.keys(i.name) for i in listed},
        with_factor=plane.identity.second_factors.all_enrolled(),
        token_lifetime_minutes=settings.identity.token_lifetime_minutes,
    )
    log = open_log(state, engine)
    size = log.size()
    audit = None
    if size:
        notes = log.checkpoints()
        try:
            result = verify_log(state, log)
            verified = True
            detail = f"verified: {result.size} entries, {result.checkpoints} signed checkpoint(s)"
        except LogIntegrityError as error:
            verified, detail = False, f"the audit log does not verify: {error}"
        except AuditError as error:
            verified, detail = False, f"the audit log cannot be verified: {error}"
        audit = AuditState(
            entries=size,
            verified=verified,
            detail=detail,
            checkpoints=len(notes),
            worm=settings.audit.worm_dir is not None or settings.audit.worm_s3_bucket is not None,
            retention_days=settings.audit.retention_days,
        )
    digests = frozenset(v.digest for v in versions)
    return _State(registry_state, identity, audit, digests, engine)


def _previous(engine: sa.Engine | None, key: str) -> dict[str, Any] | None:
    if engine is None:
        return None
    from ramparts.store.posture_runs import PostureRunStore  # noqa: PLC0415

    run = PostureRunStore(engine).latest(key)
    if run is None:
        return None
    return {
        "score": run.score,
        "statuses": dict(run.statuses),
        "started_at": run.started_at.isoformat(timespec="seconds"),
    }


def _render(report: PostureReport, fmt: str, *, verbose: bool) -> str:
    # One module per format, imported only when asked for.
    if fmt == "json":
        from ramparts.posture.report_json import render_json  # noqa: PLC0415

        return render_json(report)
    if fmt == "markdown":
        from ramparts.posture.report_markdown import render_markdown  # noqa: PLC0415

        return render_markdown(report)
    if fmt == "html":
        from ramparts.posture.report_html import render_html  # noqa: PLC0415

        return render_html(report)
    if fmt == "sarif":
        from ramparts.posture.report_sarif import render_sarif  # noqa: PLC0415

        return render_sarif(report)
    if fmt == "ocsf":
        from ramparts.posture.report_ocsf import render_ocsf  # noqa: PLC0415

        return render_ocsf(report)
    from ramparts.posture.report_table import render_table  # noqa: PLC0415

    return render_table(report, verbose=verbose)


def _run(state: AppState, args: argparse.Namespace) -> int:
    from ramparts.posture.assess import IdentityInput, PostureInputs, assess  # noqa: PLC0415
    from ramparts.posture.report_json import statuses  # noqa: PLC0415
    from ramparts.scan.discover import discover, shadow_ai  # noqa: PLC0415
    from ramparts.scan.interface import ScanContext  # noqa: PLC0415
    from ramparts.scan.registry import load  # noqa: PLC0415
    from ramparts.scan.runner import run_scan  # noqa: PLC0415
    from ramparts.scan.walk import FileEntry, walk  # noqa: PLC0415

    root: Path = args.path
    if not root.is_dir():
        raise InputError(f"{root} is not a folder: posture judges a repository")
    fmt = args.cmd_format or state.format
    output = args.cmd_output or state.output
    settings = state.settings()
    scan_settings = replace(
        walk_settings(settings.scan, args),
        deps=replace(
            settings.scan.deps,
            offline=settings.scan.deps.offline or not args.online,
            cache_dir=settings.scan.deps.cache_dir or settings.state_dir / "cache" / "pip-audit",
        ),
    )
    settings = replace(settings, scan=scan_settings)
    now = datetime.now(UTC)
    walked = list(walk(root, scan_settings))  # once, for the scan and the collectors
    progress = DelayedProgress(enabled=not state.quiet, label="posture")
    try:
        report = run_scan(root, load(None), ctx=ScanContext(settings=scan_settings),
                          target=str(root), progress=progress, walked=walked)  # fmt: skip
    finally:
        progress.close()
    files = [entry.path for entry in walked if isinstance(entry, FileEntry)]
    inventory = discover(root, files=files, settings=scan_settings)
    in_use = _state_in_use(settings)
    read = _read_state(state, settings) if in_use or not args.no_record else _State()
    approved = (*settings.posture.approved_providers, *(p.lower() for p in args.approved_provider))
    # Unregistered model files are their own control (RP-INV-52), judged folder-aware.
    shadow = shadow_ai(inventory, approved_providers=approved, registered_digests=None)
    key = str(root.resolve())
    inputs = PostureInputs(
        root=root,
        files=files,
        scan=report,
        inventory=inventory,
        shadow=shadow,
        now=now,
        vulnerability_data=args.online or settings.scan.deps.osv_export is not None,
        registered_digests=read.digests if read.registry is not None else None,
        registry=read.registry,
        identity=read.identity
        or IdentityInput(token_lifetime_minutes=settings.identity.token_lifetime_minutes),
        audit=read.audit,
        retention_days=settings.audit.retention_days,
        gateway=_gateway(root, settings, args.gateway_config),
    )
    posture = assess(inputs, target=str(root), previous=_previous(read.engine, key))
    text = _render(posture, fmt, verbose=args.verbose)
    if output is not None:
        write_report_file(output, text)
        if not state.quiet:
            _note(f"{_headline(posture)}; report written to {output}")
    else:
        echo(text.rstrip("\n"))
    if read.engine is not None and not args.no_record:
        from ramparts.store.posture_runs import PostureRunStore  # noqa: PLC0415

        PostureRunStore(read.engine).record(
            target=key,
            started_at=now,
            tool_version=posture.tool_version,
            score=posture.score.value,
            statuses=statuses(posture),
        )
    if args.templates is not None:
        # The bare flag writes beside the repository's documents; a DIR is as given.
        folder = root / TEMPLATES_DIR if args.templates is _DEFAULT_TEMPLATES else args.templates
        _write_templates(folder, posture, root, quiet=state.quiet)
    threshold = args.fail_under if args.fail_under is not None else settings.posture.fail_under
    value = posture.score.value
    if threshold is not None and (value is None or value < threshold):
        if not state.quiet:
            _note(f"score {value if value is not None else 'n/a'} is below {threshold:g}")
        return 1
    return 0


def _headline(report: PostureReport) -> str:
    s = report.score
    shown = "n/a" if s.value is None else f"{s.value:g}/100"
    return f"score {shown} ({s.passed} passed, {s.failed} failed, {s.manual} manual)"


def _write_templates(folder: Path, report: PostureReport, root: Path, *, quiet: bool) -> None:
    from ramparts.posture.templates import render_templates  # noqa: PLC0415

    project = root.resolve().name
    for name, text in render_templates(report.inventory, project).items():
        path = folder / name
        if path.exists():
            if not quiet:
                _note(f"kept {path} (it exists)")
            continue
        write_report_file(path, text)
        if not quiet:
            _note(f"wrote {path}: complete it, then delete its template marker")


def _note(text: str) -> None:
    sys.stderr.write(f"posture: {text}\n")
