"""Tests of the `edurag` package."""
