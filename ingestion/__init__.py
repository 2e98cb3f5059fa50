"""Turn standards and transcripts into chunks and keep Chroma in step with their sources."""
