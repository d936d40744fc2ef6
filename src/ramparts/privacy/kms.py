"""Customer-managed keys: key-encryption keys that only a KMS can open.

Three levels of keys::

    customer master key (CMK)   in AWS KMS, Google Cloud KMS or Vault transit; never leaves it
    └── key-encryption key      32 bytes; on disk only wrapped by the CMK, <root>/<name>.kek
        └── data key            one per artifact; in the artifact's header, wrapped by the KEK

:class:`WrappedKeyStore` implements the :class:`~ramparts.privacy.keystore.KeyStore`
protocol, so :mod:`ramparts.privacy.envelope` and the registry use it like the local key
store. A KEK is unwrapped by the KMS once per process and kept in memory. Whoever
controls the CMK controls every artifact: disabling or revoking it makes them unreadable
(crypto-shredding at the customer's will) as soon as running processes forget their
cached KEKs (restart, or :meth:`WrappedKeyStore.forget`).

The KEK's name is bound to its wrapping as encryption context (AWS), additional
authenticated data (Google Cloud) or associated data (Vault transit with an AEAD key
type), so a ``.kek`` file renamed to another key's name does not open.

A wrapped KEK file (JSON, mode 0600)::

    {"format": "ramparts-wrapped-kek", "version": 1, "kek": NAME,
     "provider": "aws-kms", "key_id": "arn:aws:kms:...", "ciphertext": BASE64}

Errors are :class:`~ramparts.privacy.interface.PrivacyError` with one-line messages;
each adapter translates its SDK's exceptions. Adapters import their SDK when built, so
``ramparts`` installs and imports without them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import os
import re
import secrets
import stat
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx

from ramparts.core.files import write_secret_file
from ramparts.core.records import record
from ramparts.privacy.interface import PrivacyError
from ramparts.privacy.keystore import KEY_BYTES, check_key_name

__all__ = [
    "AwsKmsWrapper",
    "GcpKmsWrapper",
    "KeyWrapper",
    "VaultTransitWrapper",
    "WrappedKeyStore",
    "context_bytes",
    "crc32c",
]

_FORMAT = "ramparts-wrapped-kek"
_VERSION = 1
_SUFFIX = ".kek"
_CONTEXT_KEY = "ramparts-kek"
_MAX_FILE = 64 << 10
_MESSAGE_MAX = 300


def _one_line(text: str) -> str:
    """``text`` on one line, cut to a readable length (SDK messages span several)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MESSAGE_MAX else flat[: _MESSAGE_MAX - 3] + "..."


def context_bytes(context: Mapping[str, str]) -> bytes:
    """``context`` as canonical bytes (sorted compact JSON), for providers whose
    additional data is one byte string rather than a map."""
    return json.dumps(dict(sorted(context.items())), separators=(",", ":")).encode("utf-8")


class KeyWrapper(Protocol):
    """A customer master key in a KMS: wraps and unwraps small secrets, never shows itself.

    ``name`` is ``PROVIDER:KEY_ID`` (``aws-kms:arn:aws:kms:...``); it is written in each
    wrapped file so that a file is never handed to another key. ``context`` must be
    given again, unchanged, to unwrap.
    """

    @property
    def name(self) -> str:
        """``PROVIDER:KEY_ID``, recorded in the files this key wraps."""
        ...

    def wrap(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        """``plaintext`` encrypted under the CMK, bound to ``context``."""
        ...

    def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """The plaintext of ``ciphertext``; PrivacyError if the CMK refuses or it was changed."""
        ...


@record
class _Record:
    """One wrapped KEK file."""

    kek: str
    provider: str
    key_id: str
    ciphertext: bytes

    @property
    def wrapper(self) -> str:
        return f"{self.provider}:{self.key_id}"

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "format": _FORMAT,
                "version": _VERSION,
                "kek": self.kek,
                "provider": self.provider,
                "key_id": self.key_id,
                "ciphertext": base64.b64encode(self.ciphertext).decode("ascii"),
            },
            indent=2,
        ).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes, path: Path) -> _Record:
        bad = PrivacyError(f"{path} is not a ramparts wrapped key file")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise bad from exc
        if not isinstance(data, dict) or (data.get("format"), data.get("version")) != (
            _FORMAT,
            _VERSION,
        ):
            raise bad
        fields = [data.get(k) for k in ("kek", "provider", "key_id", "ciphertext")]
        if not all(isinstance(field, str) and field for field in fields):
            raise bad
        try:
            ciphertext = base64.b64decode(data["ciphertext"], validate=True)
        except (ValueError, binascii.Error) as exc:
            raise bad from exc
        return cls(data["kek"], data["provider"], data["key_id"], ciphertext)


def _split_name(name: str) -> tuple[str, str]:
    provider, colon, key_id = name.partition(":")
    if not (provider and colon and key_id):
        raise PrivacyError(f"key wrapper name {name!r} must read PROVIDER:KEY_ID")
    return provider, key_id


class WrappedKeyStore:
    """Key-encryption keys under ``root``, each wrapped by the customer master key ``wrapper``.

    ``get(name, create=True)`` makes a new KEK of 32 random bytes, has the CMK wrap it,
    checks that the CMK unwraps it again (a key that can encrypt but not decrypt would
    otherwise lose every artifact), and writes ``<root>/<name>.kek`` (mode 0600, never
    over an existing file). ``get(name)`` reads and unwraps it once, then serves it
    from memory. A file wrapped by another provider or key than ``wrapper`` is refused.
    """

    def __init__(self, root: Path, wrapper: KeyWrapper) -> None:
        self._root = root
        self._wrapper = wrapper
        self._provider, self._key_id = _split_name(wrapper.name)
        self._cache: dict[str, bytes] = {}
        # One KMS call at a time per store: concurrent first uses of a KEK unwrap it once.
        self._lock = threading.Lock()

    @property
    def wrapper(self) -> KeyWrapper:
        """The customer master key this store uses."""
        return self._wrapper

    def path(self, name: str) -> Path:
        """Where the wrapped KEK ``name`` is kept."""
        return self._root / f"{check_key_name(name)}{_SUFFIX}"

    def names(self) -> list[str]:
        """The names of the KEKs kept under ``root``, sorted."""
        if not self._root.is_dir():
            return []
        return sorted(p.name[: -len(_SUFFIX)] for p in self._root.glob(f"*{_SUFFIX}"))

    def get(self, name: str, *, create: bool = False) -> bytes:
        """The KEK called ``name``; with ``create``, a new one if there is none.

        Raises PrivacyError if it is missing (without ``create``), its file is
        unreadable, malformed, readable by others or wrapped by another key, or the
        KMS refuses to unwrap it.
        """
        path = self.path(name)
        with self._lock:
            key = self._cache.get(name)
            if key is None:
                key = self._load(name, path, create=create)
                self._cache[name] = key
            return key

    def forget(self, name: str | None = None) -> None:
        """Drop the cached KEK ``name`` (all of them by default): the next use asks the KMS
        again, so a CMK disabled since then takes effect in this process too."""
        with self._lock:
            if name is None:
                self._cache.clear()
            else:
                self._cache.pop(name, None)

    def rotate_wrapping(self, new_wrapper: KeyWrapper) -> WrappedKeyStore:
        """Rewrap every KEK under ``root`` with ``new_wrapper`` and return a store using it.

        Neither the KEKs nor the artifacts change: only the ``.kek`` files are rewritten,
        each atomically. ``new_wrapper`` may be a new CMK, or the same one to wrap again
        under its newest version (before retiring older versions in the KMS). Files
        already wrapped by ``new_wrapper`` are rewrapped too when it is the current
        wrapper, and skipped otherwise, so an interrupted rotation can simply be rerun.
        """
        provider, key_id = _split_name(new_wrapper.name)
        same = new_wrapper.name == self._wrapper.name
        rotated = WrappedKeyStore(self._root, new_wrapper)
        with self._lock:
            for name in self.names():
                path = self.path(name)
                record = _Record.from_json(self._read(name, path), path)
                if record.wrapper == new_wrapper.name and not same:
                    continue
                key = self._cache.get(name) or self._open(name, path, record)
                ciphertext = _wrap_checked(new_wrapper, name, key)
                _replace_secret(path, _Record(name, provider, key_id, ciphertext).to_json())
                rotated._cache[name] = key
        return rotated

    def _load(self, name: str, path: Path, *, create: bool) -> bytes:
        try:
            raw = self._read(name, path)
        except FileNotFoundError:
            if not create:
                raise PrivacyError(f"no key named {name!r} in {self._root}") from None
            return self._create(name, path)
        return self._open(name, path, _Record.from_json(raw, path))

    def _read(self, name: str, path: Path) -> bytes:
        """The file's bytes; FileNotFoundError passes through for ``create``."""
        try:
            with path.open("rb") as fh:
                info = os.fstat(fh.fileno())
                if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                    raise PrivacyError(
                        f"key file {path} can be read by other users; run: chmod 600 {path}"
                    )
                return fh.read(_MAX_FILE)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise PrivacyError(f"cannot read key {name!r}: {exc.strerror or exc}") from exc

    def _open(self, name: str, path: Path, record: _Record) -> bytes:
        if record.kek != name:
            raise PrivacyError(f"{path} holds the key {record.kek!r}, not {name!r}")
        if record.wrapper != self._wrapper.name:
            raise PrivacyError(
                f"key {name!r} is wrapped by {record.wrapper}, not by the configured "
                f"{self._wrapper.name}"
            )
        try:
            key = self._wrapper.unwrap(record.ciphertext, context=_context(name))
        except PrivacyError as exc:
            raise PrivacyError(
                f"cannot unwrap key {name!r} with {self._wrapper.name}: {exc}"
            ) from exc
        if len(key) != KEY_BYTES:
            raise PrivacyError(f"key {name!r} did not unwrap to a {KEY_BYTES}-byte key")
        return key

    def _create(self, name: str, path: Path) -> bytes:
        key = secrets.token_bytes(KEY_BYTES)
        ciphertext = _wrap_checked(self._wrapper, name, key)
        record = _Record(name, self._provider, self._key_id, ciphertext)
        try:
            # O_EXCL: two processes creating the same KEK never overwrite each other.
            write_secret_file(path, record.to_json())
        except FileExistsError:
            return self._load(name, path, create=False)
        except OSError as exc:
            raise PrivacyError(f"cannot create key {path}: {exc.strerror or exc}") from exc
        return key


def _context(name: str) -> dict[str, str]:
    return {_CONTEXT_KEY: name}


def _wrap_checked(wrapper: KeyWrapper, name: str, key: bytes) -> bytes:
    """``key`` wrapped by ``wrapper``, once the wrapper proved it can unwrap it again."""
    context = _context(name)
    try:
        ciphertext = wrapper.wrap(key, context=context)
        back = wrapper.unwrap(ciphertext, context=context)
    except PrivacyError as exc:
        raise PrivacyError(f"cannot wrap key {name!r} with {wrapper.name}: {exc}") from exc
    if not hmac.compare_digest(back, key):
        raise PrivacyError(f"{wrapper.name} did not give back the key {name!r} it wrapped")
    return ciphertext


def _replace_secret(path: Path, data: bytes) -> None:
    """Replace ``path`` by a synced 0600 file holding ``data``; readers see old or new."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.unlink(missing_ok=True)  # left by a crashed run of this same pid
        write_secret_file(tmp, data)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PrivacyError(f"cannot rewrite key {path}: {exc.strerror or exc}") from exc


# -- AWS KMS ------------------------------------------------------------------------

_AWS_HINTS = {
    "AccessDeniedException": "the caller's IAM policy lacks kms:Encrypt or kms:Decrypt",
    "DisabledException": "the key is disabled: artifacts stay unreadable until it is enabled",
    "KMSInvalidStateException": "the key is disabled or pending deletion",
    "NotFoundException": "no such key in this account and region",
    "InvalidCiphertextException": "the wrapped key was changed or belongs to another name",
    "IncorrectKeyException": "the wrapped key belongs to another KMS key",
}


class AwsKmsWrapper:
    """An AWS KMS symmetric key (key id, key ARN, alias name or alias ARN).

    ``Encrypt`` and ``Decrypt`` carry the KEK's name as ``EncryptionContext``, which
    CloudTrail records with each call. ``client`` is a boto3 ``kms`` client (built from
    the default credential chain and ``region`` when not given). Needs the ``aws``
    extra.
    """

    def __init__(self, key_id: str, *, region: str | None = None, client: Any = None) -> None:
        if not key_id:
            raise PrivacyError("an AWS KMS key id, key ARN or alias is needed")
        try:
            import boto3  # noqa: PLC0415 - an optional extra
            from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415
        except ImportError as exc:
            raise PrivacyError("AWS KMS needs boto3: pip install 'ramparts[aws]'") from exc
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        if client is None:
            try:
                client = boto3.client("kms", region_name=region)
            except BotoCoreError as exc:
                raise PrivacyError(_one_line(f"cannot set up AWS KMS: {exc}")) from exc
        self._client = client
        self._key_id = key_id

    @property
    def name(self) -> str:
        """``aws-kms:KEY_ID``."""
        return f"aws-kms:{self._key_id}"

    def __repr__(self) -> str:
        return f"AwsKmsWrapper({self._key_id!r})"

    def wrap(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        """KMS ``Encrypt`` of ``plaintext`` (at most 4 KiB) under this key."""
        try:
            reply = self._client.encrypt(
                KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=dict(context)
            )
        except self._errors as exc:
            raise self._error("encrypt", exc) from exc
        return _bytes_field(reply, "CiphertextBlob", "AWS KMS Encrypt")

    def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """KMS ``Decrypt``, pinned to this key."""
        try:
            reply = self._client.decrypt(
                KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=dict(context)
            )
        except self._errors as exc:
            raise self._error("decrypt", exc) from exc
        return _bytes_field(reply, "Plaintext", "AWS KMS Decrypt")

    def _error(self, verb: str, exc: Exception) -> PrivacyError:
        error = getattr(exc, "response", {}).get("Error", {})
        code = str(error.get("Code", ""))
        if not code:
            return PrivacyError(_one_line(f"AWS KMS could not {verb} with {self._key_id}: {exc}"))
        hint = _AWS_HINTS.get(code)
        detail = f"{code}: {error.get('Message', '')}".rstrip(": ")
        return PrivacyError(
            _one_line(
                f"AWS KMS refused to {verb} with {self._key_id}: {detail}"
                + (f" ({hint})" if hint else "")
            )
        )


def _bytes_field(reply: Any, field: str, what: str) -> bytes:
    value = reply.get(field) if isinstance(reply, Mapping) else None
    if not isinstance(value, bytes | bytearray) or not value:
        raise PrivacyError(f"{what} answered without {field}")
    return bytes(value)


# -- Google Cloud KMS -----------------------------------------------------------------

_GCP_KEY = re.compile(r"projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+")


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, as Cloud KMS checks requests and answers with."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC32C[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


class GcpKmsWrapper:
    """A Google Cloud KMS symmetric ``ENCRYPT_DECRYPT`` key.

    ``key_name`` is the CryptoKey's resource name,
    ``projects/P/locations/L/keyRings/R/cryptoKeys/K`` (not a version: Cloud KMS
    encrypts with the primary version and decrypts with whichever one wrapped).
    The KEK's name goes in ``additional_authenticated_data``; every request and answer
    is checked with CRC-32C as Google advises. ``client`` is a
    ``google.cloud.kms.KeyManagementServiceClient`` (built from Application Default
    Credentials when not given). Needs the ``gcp`` extra.
    """

    def __init__(self, key_name: str, *, client: Any = None) -> None:
        if not _GCP_KEY.fullmatch(key_name):
            raise PrivacyError(
                f"Cloud KMS key {key_name!r} must read "
                "projects/P/locations/L/keyRings/R/cryptoKeys/K"
            )
        try:
            from google.api_core.exceptions import GoogleAPIError  # noqa: PLC0415
            from google.auth.exceptions import GoogleAuthError  # noqa: PLC0415
            from google.cloud import kms  # noqa: PLC0415 - an optional extra
        except ImportError as exc:
            raise PrivacyError(
                "Google Cloud KMS needs google-cloud-kms: pip install 'ramparts[gcp]'"
            ) from exc
        self._errors: tuple[type[Exception], ...] = (GoogleAPIError, GoogleAuthError)
        if client is None:
            try:
                client = kms.KeyManagementServiceClient()
            except GoogleAuthError as exc:
                raise PrivacyError(_one_line(f"cannot set up Google Cloud KMS: {exc}")) from exc
        self._client = client
        self._key = key_name

    @property
    def name(self) -> str:
        """``gcp-kms:projects/.../cryptoKeys/K``."""
        return f"gcp-kms:{self._key}"

    def __repr__(self) -> str:
        return f"GcpKmsWrapper({self._key!r})"

    def wrap(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        """Cloud KMS ``Encrypt`` of ``plaintext`` under the key's primary version."""
        aad = context_bytes(context)
        request = {
            "name": self._key,
            "plaintext": plaintext,
            "additional_authenticated_data": aad,
            "plaintext_crc32c": crc32c(plaintext),
            "additional_authenticated_data_crc32c": crc32c(aad),
        }
        try:
            reply = self._client.encrypt(request=request)
        except self._errors as exc:
            raise self._error("encrypt", exc) from exc
        ciphertext = bytes(reply.ciphertext)
        if not (
            reply.verified_plaintext_crc32c
            and reply.verified_additional_authenticated_data_crc32c
            and reply.ciphertext_crc32c == crc32c(ciphertext)
        ):
            raise PrivacyError("Cloud KMS Encrypt was corrupted in transit (CRC-32C mismatch)")
        return ciphertext

    def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """Cloud KMS ``Decrypt``."""
        aad = context_bytes(context)
        request = {
            "name": self._key,
            "ciphertext": ciphertext,
            "additional_authenticated_data": aad,
            "ciphertext_crc32c": crc32c(ciphertext),
            "additional_authenticated_data_crc32c": crc32c(aad),
        }
        try:
            reply = self._client.decrypt(request=request)
        except self._errors as exc:
            raise self._error("decrypt", exc) from exc
        plaintext = bytes(reply.plaintext)
        if reply.plaintext_crc32c != crc32c(plaintext):
            raise PrivacyError("Cloud KMS Decrypt was corrupted in transit (CRC-32C mismatch)")
        return plaintext

    def _error(self, verb: str, exc: Exception) -> PrivacyError:
        return PrivacyError(_one_line(f"Cloud KMS could not {verb} with {self._key}: {exc}"))


# -- HashiCorp Vault transit --------------------------------------------------------------

_VAULT_NAME = re.compile(r"[\w.@-]+")
_VAULT_MOUNT = re.compile(r"[\w.-]+(?:/[\w.-]+)*")
_VAULT_HINTS = {
    403: "the token is invalid or expired, or its policy does not allow this key",
    429: "Vault's rate limit was reached",
    503: "Vault is sealed or unavailable",
}


class VaultTransitWrapper:
    """A HashiCorp Vault (or OpenBao) transit key, over Vault's HTTP API.

    ``POST {url}/v1/{mount}/encrypt/{key}`` with ``{"plaintext": BASE64}`` answers
    ``{"data": {"ciphertext": "vault:vN:..."}}``; ``decrypt`` is the reverse. The
    ``vault:vN:`` string is what the ``.kek`` file keeps, so a key rotated in Vault still
    decrypts older wrappings until ``min_decryption_version`` retires them.

    The KEK's name is sent as ``associated_data`` (Vault 1.13+), which only AEAD key
    types accept (``aes128-gcm96``, ``aes256-gcm96``, the default, and
    ``chacha20-poly1305``); for other key types pass ``associated_data=False`` and the
    name is not bound. Vault's ``context`` is not used: it only serves keys created
    with ``derived=true``.

    ``token`` is sent as ``X-Vault-Token`` (and ``namespace`` as ``X-Vault-Namespace``)
    and never appears in messages or ``repr``. ``url`` must be https, except on the
    loopback interface. ``http`` is an ``httpx.Client`` to use (a new one by default).
    """

    def __init__(
        self,
        url: str,
        key: str,
        *,
        token: str,
        mount: str = "transit",
        namespace: str | None = None,
        associated_data: bool = True,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        base = url.rstrip("/")
        try:
            parsed = httpx.URL(base)
        except httpx.InvalidURL as exc:
            raise PrivacyError(f"invalid Vault URL {url!r}") from exc
        if parsed.scheme != "https" and not (parsed.scheme == "http" and _loopback(parsed.host)):
            raise PrivacyError(
                f"Vault URL {url!r} must use https (plain http only on loopback): "
                "the token travels with every request"
            )
        if not _VAULT_NAME.fullmatch(key):
            raise PrivacyError(f"invalid Vault transit key name {key!r}")
        mount = mount.strip("/")
        if not _VAULT_MOUNT.fullmatch(mount) or ".." in mount.split("/"):
            raise PrivacyError(f"invalid Vault mount path {mount!r}")
        if not token:
            raise PrivacyError("a Vault token is needed")
        self._base = base
        self._key = key
        self._mount = mount
        self._namespace = namespace.strip("/") if namespace else None
        self._token = token
        self._aad = associated_data
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        self._owns_http = http is None

    @property
    def name(self) -> str:
        """``vault-transit:[NAMESPACE/]MOUNT/KEY``."""
        where = f"{self._mount}/{self._key}"
        if self._namespace:
            where = f"{self._namespace}/{where}"
        return f"vault-transit:{where}"

    def __repr__(self) -> str:
        return f"VaultTransitWrapper({self._base!r}, {self.name!r})"

    def close(self) -> None:
        """Close the HTTP client this wrapper made (not one it was given)."""
        if self._owns_http:
            self._http.close()

    def wrap(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        """Transit ``encrypt``; the answer is Vault's ``vault:vN:...`` string, as bytes."""
        body = {"plaintext": base64.b64encode(plaintext).decode("ascii")}
        ciphertext = self._call("encrypt", body, context).get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:v"):
            raise PrivacyError("Vault transit encrypt answered without a vault:v ciphertext")
        return ciphertext.encode("ascii")

    def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        """Transit ``decrypt`` of a ``vault:vN:...`` ciphertext."""
        try:
            text = ciphertext.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if not text.startswith("vault:v"):
            raise PrivacyError("not a Vault transit ciphertext (vault:vN:...)")
        plaintext = self._call("decrypt", {"ciphertext": text}, context).get("plaintext")
        missing = PrivacyError("Vault transit decrypt answered without a plaintext")
        if not isinstance(plaintext, str):
            raise missing
        try:
            return base64.b64decode(plaintext, validate=True)
        except (ValueError, binascii.Error) as exc:
            raise missing from exc

    def _call(self, op: str, body: dict[str, str], context: Mapping[str, str]) -> dict[str, Any]:
        if self._aad:
            body["associated_data"] = base64.b64encode(context_bytes(context)).decode("ascii")
        headers = {"X-Vault-Token": self._token}
        if self._namespace:
            headers["X-Vault-Namespace"] = self._namespace
        url = f"{self._base}/v1/{self._mount}/{op}/{self._key}"
        try:
            response = self._http.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PrivacyError(
                self._scrub(f"cannot reach Vault at {self._base}: {type(exc).__name__}: {exc}")
            ) from exc
        if response.status_code != 200:
            raise self._error(op, response)
        missing = PrivacyError(f"Vault transit {op} answered without data")
        try:
            answer = response.json()
        except ValueError as exc:
            raise missing from exc
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise missing
        return data

    def _error(self, op: str, response: httpx.Response) -> PrivacyError:
        try:
            errors = response.json().get("errors") or []
        except (ValueError, AttributeError):
            errors = []
        detail = "; ".join(str(e) for e in errors) if isinstance(errors, list) else ""
        hint = _VAULT_HINTS.get(response.status_code)
        message = (
            f"Vault transit {op} with {self.name} failed: HTTP {response.status_code}"
            + (f": {detail}" if detail else f" {response.reason_phrase}")
            + (f" ({hint})" if hint else "")
        )
        return PrivacyError(self._scrub(message))

    def _scrub(self, text: str) -> str:
        """``text`` on one line, the token masked should a server or proxy echo it."""
        return _one_line(text.replace(self._token, "[token]"))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
