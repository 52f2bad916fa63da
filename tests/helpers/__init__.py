"""Builders shared by the tests: hand-made run records, trend histories, real git
repositories. A package of its own, not modules named like tests, so pytest collects no
test from them and a test file imports no other test file."""
