"""Helpers that build test data and tiny models."""
