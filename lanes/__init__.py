"""Lanes: which checks a change deserves (DOCS, STANDARD or HEAVY), and the pre-push hook."""
