"""``python -m ramparts`` runs the CLI."""

from ramparts.cli import console

console()
