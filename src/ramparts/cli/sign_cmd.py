"""``ramparts sign``, ``ramparts verify`` and ``ramparts keygen``: OpenSSF Model Signing."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ramparts.cli.attest_cmd import (
    PASSWORD_VARIABLE,
    add_provenance_options,
    check_provenance,
    key_password,
)
from ramparts.cli.output import (
    DelayedProgress,
    add_report_options,
    apply_report_options,
    echo,
    emit_report,
)
from ramparts.cli.parsing import Parser, existing_path
from ramparts.cli.state import AppState
from ramparts.core.files import write_atomic
from ramparts.core.types import Severity
from ramparts.errors import InputError

__all__ = ["add_parser"]


SIGN_DESCRIPTION = f"""\
Hash a model file or folder into an OpenSSF Model Signing v1.0 manifest and sign it.

The signature is a Sigstore bundle (DSSE envelope of an in-toto statement) that
'model_signing verify' also accepts. It is written to MODEL/model.sig for a folder
and MODEL.sig beside a file, unless --signature says otherwise.

  ramparts keygen signing-key.pem
  ramparts sign models/classifier --key signing-key.pem
  ramparts sign model.safetensors --key signing-key.pem --shard-size 500000000
  ramparts sign models/classifier --key leaf-key.pem --certificate leaf.pem \\
      --certificate-chain intermediate.pem
  ramparts sign models/classifier --sigstore        # keyless, in CI or with a browser

An encrypted private key is opened with the password in ${PASSWORD_VARIABLE}.
.git, .gitattributes, .github and .gitignore are left out, as the specification says.
"""

VERIFY_DESCRIPTION = """\
Check a model against its signature: the signature must verify with the given public
key (or chain to one of the given root certificates), and every file hashed again with
the recorded parameters must match. Changed, missing and extra files are each named.

Exit codes: 0 verified, 1 the model or the signature does not verify, 2 the signature
file or key cannot be used. There is no way to verify and only warn.

  ramparts verify models/classifier --key signing-key.pub.pem
  ramparts verify models/classifier --certificate-chain ca.pem -f sarif -o verify.sarif
  ramparts verify models/classifier --sigstore-identity ci@acme.example \\
      --sigstore-issuer https://accounts.google.com
  ramparts verify models/classifier --key signing.pub.pem \\
      --builder https://github.com/actions/runner/github-hosted \\
      --repo https://github.com/acme/models --branch main

Any provenance option requires signed SLSA provenance (from 'ramparts attest') that
covers this model and meets every given condition.
"""


def add_parser(commands: Any) -> None:
    """Add ``sign``, ``verify`` and ``keygen`` to the top-level parser."""
    sign: Parser = commands.add_parser(
        "sign",
        help="sign a model file or folder (OpenSSF Model Signing)",
        description=SIGN_DESCRIPTION,
    )
    sign.add_argument("path", metavar="PATH", type=existing_path, help="model file or folder")
    how = sign.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--key",
        type=Path,
        metavar="PRIVATE.pem",
        help="PEM elliptic-curve private key (P-256, P-384, P-521)",
    )
    how.add_argument(
        "--sigstore",
        action="store_true",
        help="Sigstore keyless signing (needs the network and the 'sigstore' extra)",
    )
    sign.add_argument(
        "--identity-token",
        metavar="TOKEN",
        help="OIDC token for --sigstore (default: the CI's ambient token, else a browser login)",
    )
    sign.add_argument("--staging", action="store_true", help="use Sigstore's staging instance")
    sign.add_argument(
        "--certificate",
        type=Path,
        metavar="CERT.pem",
        help="sign with this certificate for --key (certificate method)",
    )
    sign.add_argument(
        "--certificate-chain",
        type=Path,
        action="append",
        default=[],
        metavar="PEM",
        help="intermediate certificates to include (repeatable)",
    )
    _common(sign)
    sign.add_argument(
        "--hash",
        choices=("sha256", "blake2b", "blake3"),
        default="sha256",
        help="hash algorithm (default: sha256; blake3 needs the 'blake3' extra)",
    )
    sign.add_argument(
        "--shard-size",
        type=_positive,
        metavar="BYTES",
        help="hash files in shards of this size (the 'shards' method) instead of whole",
    )
    sign.add_argument(
        "--ignore-paths",
        action="append",
        default=[],
        metavar="PATH",
        help="leave this file or folder out of the signature (repeatable)",
    )
    sign.add_argument(
        "--no-ignore-git-paths",
        action="store_true",
        help="sign .git, .github, .gitignore and .gitattributes too",
    )
    sign.add_argument(
        "--allow-symlinks",
        action="store_true",
        help="follow symbolic links instead of refusing them",
    )
    sign.set_defaults(handler=run_sign)

    verify: Parser = commands.add_parser(
        "verify", help="verify a model against its signature", description=VERIFY_DESCRIPTION
    )
    verify.add_argument("path", metavar="PATH", type=existing_path, help="model file or folder")
    trust = verify.add_mutually_exclusive_group(required=True)
    trust.add_argument("--key", type=Path, metavar="PUBLIC.pem", help="the signer's PEM public key")
    trust.add_argument(
        "--certificate-chain",
        type=Path,
        action="append",
        metavar="PEM",
        help="trusted root certificates (repeatable)",
    )
    trust.add_argument(
        "--sigstore-identity",
        metavar="ID",
        help="Sigstore keyless: the signer's identity (e-mail or workflow URI)",
    )
    keyless = verify.add_argument_group("Sigstore keyless verification (offline)")
    keyless.add_argument("--sigstore-issuer", metavar="URL", help="the identity's OIDC issuer")
    keyless.add_argument(
        "--trusted-root",
        type=Path,
        metavar="FILE",
        help="Sigstore trusted root JSON (default: the public instance's, as shipped)",
    )
    keyless.add_argument(
        "--staging", action="store_true", help="trust Sigstore's staging instance instead"
    )
    _common(verify)
    add_provenance_options(verify)
    add_report_options(verify, fail_on=False)
    verify.set_defaults(handler=run_verify)

    keygen: Parser = commands.add_parser(
        "keygen",
        help="create an elliptic-curve key pair for signing",
        description="Write PRIVATE.pem (mode 0600) and its public key beside it as NAME.pub.pem.",
    )
    keygen.add_argument(
        "private", metavar="PRIVATE.pem", type=Path, help="where the private key is written"
    )
    keygen.add_argument(
        "--curve", choices=("p256", "p384", "p521"), default="p256", help="curve (default: p256)"
    )
    keygen.set_defaults(handler=run_keygen)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--signature",
        type=Path,
        metavar="FILE",
        help="signature file (default: MODEL/model.sig or MODEL.sig)",
    )
    parser.add_argument(
        "--workers", type=_positive, metavar="N", help="files hashed at once (default: one per CPU)"
    )


def _positive(value: str) -> int:
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"'{value}' must be positive")
    return number


class _Counter:
    """Progress callback that counts bytes hashed and feeds a delayed progress bar."""

    def __init__(self, state: AppState, model: Path) -> None:
        self.bytes = 0
        self.bar = DelayedProgress(enabled=not state.quiet, label="hashing")
        shown = not state.quiet and sys.stderr.isatty()
        self.bar.start(0, _size(model) if shown else 0)

    def __call__(self, nbytes: int) -> None:
        self.bytes += nbytes
        self.bar.advance("", nbytes)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _write_signature(path: Path, data: bytes) -> None:
    if path.is_dir():
        raise InputError(f"cannot write the signature to {path}: it is a directory")
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise InputError(f"cannot write the signature {path}: {exc.strerror or exc}") from exc


def run_sign(state: AppState, args: argparse.Namespace) -> int:
    """Sign ``args.path`` and write the bundle."""
    from ramparts.sign.interface import DEFAULT_IGNORES, Serialization, Signer  # noqa: PLC0415
    from ramparts.sign.keyless import SigstoreSigner  # noqa: PLC0415
    from ramparts.sign.keys import KeySigner  # noqa: PLC0415
    from ramparts.sign.model import default_signature_path, sign_model  # noqa: PLC0415

    model: Path = args.path
    signature: Path = args.signature or default_signature_path(model)
    ignores = [] if args.no_ignore_git_paths else list(DEFAULT_IGNORES)
    ignores += [_relative_ignore(model, p) for p in args.ignore_paths]
    serialization = Serialization(
        method="files" if args.shard_size is None else "shards",
        hash_type=args.hash,
        allow_symlinks=args.allow_symlinks,
        shard_size=args.shard_size,
        ignore_paths=tuple(p for p in ignores if p),
    )
    password = key_password(state)
    signer: Signer | SigstoreSigner
    if args.sigstore:
        signer = SigstoreSigner(identity_token=args.identity_token, staging=args.staging)
    elif args.certificate is None:
        signer = KeySigner(args.key, password=password)
    else:
        from ramparts.sign.certificates import CertificateSigner  # noqa: PLC0415

        chain = args.certificate_chain
        signer = CertificateSigner(args.key, args.certificate, chain, password=password)
    counter = _Counter(state, model)
    try:
        signed = sign_model(
            model,
            signer,
            serialization,
            signature=signature,
            workers=args.workers,
            progress=counter,
        )
    finally:
        counter.bar.close()
    _write_signature(signature, signed.bundle.to_bytes())
    manifest = signed.manifest
    summary = {
        "signature": str(signature),
        "model": manifest.model_name,
        "digest": {"sha256": manifest.root_digest},
        "method": manifest.serialization.method,
        "hash_type": manifest.serialization.hash_type,
        "resources": len(manifest.resources),
        "bytes": counter.bytes,
        "hash_seconds": round(signed.hash_seconds, 3),
    }
    if state.format == "table":
        echo(
            f"signed {model} ({_files(len(manifest.resources), manifest.serialization.method)}, "
            f"{_human(counter.bytes)}, {manifest.serialization.hash_type}) -> {signature}"
        )
        echo(f"  subject sha256:{manifest.root_digest}")
    else:
        echo(json.dumps(summary, indent=2))
    return 0


def _relative_ignore(model: Path, given: str) -> str:
    """An ignore path as the manifest records it: relative to the model folder."""
    path = Path(given)
    if path.is_absolute() or path.exists():
        try:
            return path.resolve().relative_to(model.resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix().strip("/")


def _files(count: int, method: str) -> str:
    unit = "shard" if method == "shards" else "file"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def run_verify(state: AppState, args: argparse.Namespace) -> int:
    """Verify ``args.path`` against its signature; exit 0 only when everything matches."""
    from ramparts.sign.bundle import Bundle  # noqa: PLC0415
    from ramparts.sign.interface import VerificationError, Verifier  # noqa: PLC0415
    from ramparts.sign.keys import KeyVerifier  # noqa: PLC0415
    from ramparts.sign.model import default_signature_path, verify_model  # noqa: PLC0415
    from ramparts.sign.report import verification_report, verified_report  # noqa: PLC0415

    apply_report_options(state, args.cmd_format, args.cmd_output, None)
    model: Path = args.path
    signature: Path = args.signature or default_signature_path(model)
    try:
        data = signature.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the signature {signature}: {exc.strerror or exc}") from exc
    verifier: Verifier
    if args.key is not None:
        verifier = KeyVerifier(args.key)
    elif args.sigstore_identity is not None:
        from ramparts.sign.keyless import SigstoreVerifier  # noqa: PLC0415

        if not args.sigstore_issuer:
            raise InputError("--sigstore-identity needs --sigstore-issuer (the OIDC issuer URL)")
        verifier = SigstoreVerifier(
            args.sigstore_identity,
            args.sigstore_issuer,
            trusted_root=args.trusted_root,
            staging=args.staging,
        )
    else:
        from ramparts.sign.certificates import CertificateVerifier  # noqa: PLC0415

        verifier = CertificateVerifier(args.certificate_chain)
    started = datetime.now(UTC)
    bundle = Bundle.from_bytes(data)
    counter = _Counter(state, model)
    try:
        signed = verify_model(
            model, bundle, verifier, signature=signature, workers=args.workers, progress=counter
        )
        provenance = check_provenance(args, model, signed)
    except VerificationError as error:
        report = verification_report(error, str(model), started, files=0)
        if state.format == "table" and state.output is None:
            sys.stdout.write(f"FAILED {model}: {error.reason}\n")
            for diff in error.differences:
                sys.stdout.write(f"  {diff}\n")
            return int(report.exit_code(Severity.INFO))
        return int(emit_report(state, report, Severity.INFO))
    finally:
        counter.bar.close()
    report = verified_report(signed, str(model), started, counter.bytes)
    if state.format == "table" and state.output is None:
        manifest = signed.manifest
        count = len(manifest.resources)
        verb = "matches" if count == 1 else "match"
        echo(
            f"verified {model}: {_files(count, manifest.serialization.method)} {verb} the "
            f"signature ({_human(counter.bytes)}, subject sha256:{manifest.root_digest})"
        )
        if provenance:
            echo(f"  {provenance}")
        return 0
    return int(emit_report(state, report, Severity.INFO))


def run_keygen(state: AppState, args: argparse.Namespace) -> int:
    """Write a new key pair."""
    from ramparts.sign.keys import generate_key  # noqa: PLC0415

    private: Path = args.private
    public = private.with_name(private.name.removesuffix(".pem") + ".pub.pem")
    hint = generate_key(private, public, args.curve)
    echo(f"wrote {private} (private, keep it secret) and {public} (public)")
    echo(f"  key hint {hint}")
    return 0
