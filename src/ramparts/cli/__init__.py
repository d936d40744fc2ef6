"""The composition root: reads settings and the environment, wires layers, prints.

Nothing imports this package; it imports every layer it wires. ``main`` runs the CLI
and is the only place that calls ``sys.exit``; ``console`` is the console-script entry
point, ``main`` in a process that ends with it.
"""

from __future__ import annotations

import gc

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["console", "main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI on ``argv`` (default: the process's arguments) and exit with its code."""
    from ramparts.cli.app import main as run  # noqa: PLC0415 - see console()

    run(argv)


def console() -> None:
    """The ``ramparts`` command (and ``python -m ramparts``): :func:`main`, then exit.

    Importing the CLI creates some 16,000 long-lived objects (modules, classes,
    functions), and the cycle collector would traverse them again and again while they
    are made, and once more while the interpreter exits. So the import runs with
    collection paused, what exists then is frozen (``gc.freeze``: left out of every
    later collection), and everything is frozen again before the exit. The command's
    own work is collected as usual. This saves about a tenth of the instructions of a
    scan of one model file. ``main`` leaves the collector alone: a process that goes on
    after it (tests, embedding) keeps its garbage collectable.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        from ramparts.cli.app import main as run  # noqa: PLC0415 - imported while paused
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    try:
        run(None)
    finally:
        gc.freeze()
