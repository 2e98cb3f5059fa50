"""Tests of the `edurag.alignment` package."""
