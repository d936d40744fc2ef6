"""Model-file scanning: content sniffing, containers, and one reader per format.

Pickles (PyTorch, joblib, NumPy object arrays, plain pickle) are read by a static
interpreter (:mod:`.pickle_vm`) and judged by an allowlist policy (:mod:`.pickle_policy`)
into findings (:mod:`.pickle_scan`); nothing is ever unpickled or loaded.
"""
