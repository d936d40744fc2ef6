"""Static scanners that never execute what they read.

``ramparts.scan.run_scan`` walks a tree (respecting .gitignore and excludes), opens
archives within limits, hands each file to the scanners that recognise its content,
and returns a :class:`ramparts.core.Report`.
"""
