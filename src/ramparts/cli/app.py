"""The ``ramparts`` command, its global options, and the process entry point."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ramparts._version import __version__
from ramparts.cli.errors import report_failure
from ramparts.cli.output import FAIL_ON_HELP, FORMAT_HELP
from ramparts.cli.parsing import ExitRequest, Parser, lower_choice
from ramparts.cli.state import FORMATS, SEVERITIES, AppState
from ramparts.core.types import Severity

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["build_parser", "main"]

DESCRIPTION = """\
ramparts: secure AI workflows end to end.

Scan model files and code before anyone loads them, sign and verify models,
and report in table, JSON or SARIF form. Exit codes: 0 clean, 1 findings at or
above --fail-on (for verify: any mismatch), 2 errors, 3 nothing scanned, 4 usage.
"""

# Global options that take a value: the word after them is not a command.
_VALUED = frozenset({"-f", "--format", "-o", "--output", "--fail-on", "--config"})


_ADDERS = (
    "scan_cmd", "redact_cmd", "sign_cmd", "attest_cmd", "bom_cmd", "discover_cmd",
    "fingerprint_cmd", "audit_cmd", "policy_cmd", "identity_cmd", "registry_cmd",
    "serve_cmd", "gateway_cmd", "posture_cmd", "db_cmd", "config_cmd",
)  # fmt: skip
"""Every command module of ``ramparts.cli``, in the order ``ramparts --help`` lists
their commands."""

COMMANDS: dict[str, str] = {
    "scan": "scan_cmd", "redact": "redact_cmd", "sign": "sign_cmd", "verify": "sign_cmd",
    "keygen": "sign_cmd", "attest": "attest_cmd", "bom": "bom_cmd",
    "discover": "discover_cmd", "fingerprint": "fingerprint_cmd", "audit": "audit_cmd",
    "policy": "policy_cmd", "identity": "identity_cmd", "registry": "registry_cmd",
    "lineage": "registry_cmd", "serve": "serve_cmd", "gateway": "gateway_cmd",
    "posture": "posture_cmd", "db": "db_cmd", "config": "config_cmd",
}  # fmt: skip
"""The module that adds each top-level command (a test keeps it complete).

A run imports only its command's module: importing all sixteen, with the layers
their option helpers reach, costs more than scanning a small model file.
"""


def _adder(module: str) -> Any:
    return importlib.import_module(f"ramparts.cli.{module}")


def build_parser(command: str | None = None, subcommand: str | None = None) -> Parser:
    """The command tree; with ``command``, only the parsers of the module that adds it
    (and for ``scan``, with ``subcommand``, only that scanner's parser).

    Building all 19 commands' parsers costs more than scanning a small model file, and a
    run needs one; ``--help`` and unknown words still get the whole tree. Command
    modules import their layers only when run.
    """
    parser = Parser(prog="ramparts", description=DESCRIPTION)
    parser.add_argument(
        "-V", "--version", action="version", version=f"ramparts, version {__version__}"
    )
    parser.add_argument(
        "-f",
        "--format",
        type=lower_choice(FORMATS),
        metavar="{" + ",".join(FORMATS) + "}",
        help=FORMAT_HELP,
    )
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    parser.add_argument(
        "--fail-on", type=lower_choice(SEVERITIES), metavar="SEVERITY", help=FAIL_ON_HELP
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or summary on stderr"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="settings file (default: ./ramparts.toml)"
    )
    parser.set_defaults(handler=parser.help_handler())
    commands = parser.add_command_parsers()
    chosen = COMMANDS.get(command or "")
    if chosen == "scan_cmd":
        _adder(chosen).add_parser(commands, only=subcommand)
        return parser
    for module in _ADDERS if chosen is None else (chosen,):
        _adder(module).add_parser(commands)
    return parser


def _command_words(args: Sequence[str]) -> tuple[str | None, str | None]:
    """The first word of ``args`` that is not a global option or its value, and the
    word right after it."""
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return None, None
        if word.startswith("-"):
            i += 2 if word in _VALUED else 1
            continue
        return word, args[i + 1] if i + 1 < len(args) else None
    return None, None


def _with_default_scan(args: Sequence[str]) -> list[str]:
    """``ramparts scan PATH`` means ``ramparts scan all PATH``."""
    out = list(args)
    i = 0
    while i < len(out):
        word = out[i]
        if word == "--":
            return out
        if word.startswith("-"):
            i += 2 if word in _VALUED else 1
            continue
        if word == "scan":
            nxt = out[i + 1] if i + 1 < len(out) else None
            scan_cmd = _adder("scan_cmd")
            if nxt is None or nxt not in (*scan_cmd.subcommands(), "-h", "--help"):
                out.insert(i + 1, scan_cmd.DEFAULT_SUBCOMMAND)
        return out
    return out


def _run(args: Sequence[str], state: AppState) -> int:
    argv = _with_default_scan(args)
    ns = build_parser(*_command_words(argv)).parse_args(argv)
    config = ns.config
    if config is not None and not config.is_file():
        raise _usage(f"argument --config: file '{config}' does not exist")
    state.format = ns.format or state.format
    state.output = ns.output
    state.fail_on = Severity.parse(ns.fail_on) if ns.fail_on else None
    state.quiet = ns.quiet
    state.config = config
    state.environ = dict(os.environ)
    code: int = ns.handler(state, ns)
    return code


def _usage(message: str) -> Exception:
    from ramparts.cli.parsing import UsageError  # noqa: PLC0415

    return UsageError(message, "ramparts")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI and exit with its code; the only place ramparts calls ``sys.exit``."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = AppState(debug="--debug" in args)
    try:
        code = _run(args, state)
    except ExitRequest as request:
        code = request.code
    except BaseException as exc:  # noqa: BLE001 - the one place that turns any failure into an exit code
        code = report_failure(exc, debug=state.debug)
    sys.exit(code)
