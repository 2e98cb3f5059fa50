"""The sentence-transformers embedder shared by ingestion, retrieval and the extractive summarizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from edurag.models import default_embedding_model, load_sentence_transformer
from edurag.settings import Settings


@dataclass
class Embedder:
    """A loaded bi-encoder that returns unit-length float32 vectors."""

    model: Any
    name: str
    batch_size: int = 64

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.model.get_embedding_dimension())

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer (used for token-aware chunking)."""
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Word pieces the encoder reads before truncating."""
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as normalized vectors, batched."""
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces in a text, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


class LangchainEmbeddings(Embeddings):
    """Adapter so LangChain's indexing API and Chroma wrapper embed with our Embedder."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed documents for storage."""
        return self.embedder.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        """Embed a query."""
        return self.embedder.encode([text])[0].tolist()


def load_embedder(settings: Settings) -> Embedder:
    """Build the embedder named by EDURAG_EMBEDDING_MODEL (default: the packaged all-MiniLM-L6-v2)."""
    name = settings.embedding_model or default_embedding_model()
    model = load_sentence_transformer(name, settings.allow_downloads)
    label = settings.embedding_model or "sentence-transformers/all-MiniLM-L6-v2"
    return Embedder(model=model, name=label, batch_size=settings.embedding_batch_size)
