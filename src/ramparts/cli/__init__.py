"""The composition root: reads settings and the environment, wires layers, prints.

Nothing imports this package; it imports every layer it wires. ``main`` is the
console-script entry point and the only place that calls ``sys.exit``.
"""

from ramparts.cli.app import main

__all__ = ["main"]
