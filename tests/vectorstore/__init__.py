"""Tests of the `vectorstore` package."""
