"""Tests of the `edurag.ask` package."""
