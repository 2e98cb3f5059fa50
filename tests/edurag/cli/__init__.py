"""Tests of the `edurag.cli` package."""
