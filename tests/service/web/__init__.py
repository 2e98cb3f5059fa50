"""Tests of the `service.web` package (the web app)."""
