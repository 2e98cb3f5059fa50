"""Chroma access: clients (embedded or server), collections, queries."""
