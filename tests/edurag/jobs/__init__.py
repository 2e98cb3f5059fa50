"""Tests of the `edurag.jobs` package."""
