"""Posture: controls as data, evidence, scores and framework mappings (tier 5)."""
