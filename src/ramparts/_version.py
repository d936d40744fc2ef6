"""The single source of ramparts' version."""

__version__ = "0.1.0"
