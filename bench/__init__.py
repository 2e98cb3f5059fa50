"""Benchmarks that print tables of ratios measured in one run on this machine (not tests)."""
