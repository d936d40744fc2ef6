"""Sensitive data in text: credentials and personal data, found and redacted.

Tier 2: imports only ``core`` and ``errors``. The ``scan`` layer decodes files into
text and applies these recognizers.
"""
