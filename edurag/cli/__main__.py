"""`python -m edurag.cli ...` runs the same command line as the `edurag` script."""

from edurag.cli import app

app()
