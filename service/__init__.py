"""The FastAPI query API."""
