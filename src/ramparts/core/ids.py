"""Opaque identifiers: random UUIDs that reveal nothing and cannot be guessed."""

from __future__ import annotations

import uuid

from ramparts.errors import InputError

__all__ = ["new_id", "parse_id"]


def new_id() -> str:
    """A fresh random id (UUID version 4, canonical text form)."""
    return str(uuid.uuid4())


def parse_id(text: str) -> str:
    """Check that ``text`` is an id we could have issued and return its canonical form."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InputError(f"malformed id {text!r}") from None
