"""Sigstore keyless signing and verification (the ``sigstore`` extra).

Signing asks an OpenID Connect identity token (given, found in the CI environment, or
obtained in a browser), gets a short-lived Fulcio certificate for it, signs the model
statement as a DSSE envelope and logs it in Rekor: that needs the network. Verification
needs none: the bundle carries the certificate, the log entry with its inclusion proof
and signed timestamp, and the trusted root (given as a file, or the production root
that the ``sigstore`` package ships) says which CAs and logs to trust. The signer's
identity and its OIDC issuer must both match what the verifier was told to expect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ramparts.sign.bundle import Bundle
from ramparts.sign.interface import SignError, VerificationError

__all__ = ["SigstoreSigner", "SigstoreVerifier"]


def _sigstore() -> Any:
    try:
        import sigstore.verify  # noqa: PLC0415 - optional extra, loaded only when asked for
    except ImportError as exc:
        raise SignError(
            "Sigstore signing and verification need the 'sigstore' extra: "
            "pip install 'ramparts[sigstore]'"
        ) from exc
    return sigstore


class SigstoreVerifier:
    """Checks a Sigstore bundle offline against a trusted root and an identity policy."""

    def __init__(
        self, identity: str, issuer: str, *, trusted_root: Path | None = None, staging: bool = False
    ) -> None:
        if not identity or not issuer:
            raise SignError("Sigstore verification needs the signer's identity and OIDC issuer")
        _sigstore()
        from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
        from sigstore.models import TrustedRoot  # noqa: PLC0415
        from sigstore.verify import Verifier  # noqa: PLC0415
        from sigstore.verify.policy import Identity  # noqa: PLC0415

        try:
            if trusted_root is not None:
                self._verifier = Verifier(trusted_root=TrustedRoot.from_file(str(trusted_root)))
            elif staging:
                self._verifier = Verifier.staging(offline=True)
            else:
                self._verifier = Verifier.production(offline=True)
        except (OSError, ValueError, SigstoreError) as exc:
            raise SignError(f"cannot load the Sigstore trusted root: {exc}") from exc
        self._policy = Identity(identity=identity, issuer=issuer)

    def verify_bundle(self, bundle: Bundle) -> bytes:
        """The payload, once certificate, transparency log, signature and identity check out."""
        from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
        from sigstore.models import Bundle as SigstoreBundle  # noqa: PLC0415

        if not bundle.raw:
            raise VerificationError("a Sigstore signature must be checked from its bundle file")
        try:
            parsed = SigstoreBundle.from_json(bundle.raw)
            payload_type, payload = self._verifier.verify_dsse(parsed, self._policy)
        except (SigstoreError, ValueError) as exc:
            raise VerificationError(f"the Sigstore signature does not verify: {exc}") from exc
        if payload_type != bundle.envelope.payload_type or payload != bundle.envelope.payload:
            raise VerificationError("the Sigstore bundle's envelope is not the one that was read")
        return bytes(payload)


class SigstoreSigner:
    """Signs statements with Sigstore (Fulcio certificate, Rekor entry): needs the network.

    The identity token is the one given, else an ambient one from the CI environment
    (GitHub Actions and others that sigstore-python detects), else one obtained through
    the browser flow of the OIDC issuer.
    """

    def __init__(self, *, identity_token: str | None = None, staging: bool = False) -> None:
        _sigstore()
        self._token = identity_token
        self._staging = staging

    def sign_statement(self, statement: bytes) -> Bundle:
        """A Sigstore bundle holding ``statement`` in a DSSE envelope."""
        from sigstore import dsse, oidc  # noqa: PLC0415
        from sigstore.errors import Error as SigstoreError  # noqa: PLC0415
        from sigstore.models import ClientTrustConfig  # noqa: PLC0415
        from sigstore.sign import SigningContext  # noqa: PLC0415

        try:
            trust = ClientTrustConfig.staging() if self._staging else ClientTrustConfig.production()
            context = SigningContext.from_trust_config(trust)
            raw = self._token or oidc.detect_credential()
            if raw:
                token = oidc.IdentityToken(raw)
            else:
                token = oidc.Issuer(trust.signing_config.get_oidc_url()).identity_token()
            with context.signer(token) as signer:
                result = signer.sign_dsse(dsse.Statement(statement))
        except (SigstoreError, OSError, ValueError) as exc:
            raise SignError(f"Sigstore signing failed: {exc}") from exc
        return Bundle.from_bytes(str(result.to_json()).encode("utf-8"))
