"""ramparts: secure AI workflows end to end.

The library's public names live in the layer packages (``ramparts.core``,
``ramparts.scan``, ...). Importing ``ramparts`` itself stays cheap: it pulls in no
layer, so ``ramparts --version`` and small library uses start fast.
"""

from ramparts._version import __version__
from ramparts.errors import RampartsError

__all__ = ["RampartsError", "__version__"]
