"""Provenance: manifests of model files, signatures (OpenSSF Model Signing, DSSE, in-toto)."""
