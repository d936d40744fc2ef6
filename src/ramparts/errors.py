"""The root of every error ramparts raises on purpose.

Each layer derives its base error from :class:`RampartsError` in its own
``interface.py``; callers catch the layer's base or the root, never bare ``Exception``.

Tree (layers add their own subtrees)::

    RampartsError
    ├── ConfigError            bad settings, unreadable ramparts.toml
    ├── InputError             a file or argument the user gave cannot be used
    ├── AuditError             an event could not be made durable (callers fail closed)
    ├── store.StoreError       the database or Redis refused or is unreachable
    │   └── store.MigrationError
    ├── scan.ScanError         a scanner was misconfigured (never raised for a bad file)
    └── sign.SignError         a key, signature file or model cannot be used for signing
        └── sign.VerificationError  a model does not match its signature
"""

from __future__ import annotations


class RampartsError(Exception):
    """Root of every error ramparts raises deliberately; its message is one line for users."""


class ConfigError(RampartsError):
    """Settings could not be read or do not validate."""


class InputError(RampartsError):
    """A path or argument given by the user cannot be used."""


class AuditError(RampartsError):
    """An audit event could not be recorded durably; the action it describes must not proceed."""
