"""Summaries of dialogues and transcripts of any length (`mapreduce`), on top of a generator."""
