"""The sentence-transformers embedder shared by ingestion, retrieval and the extractive summarizer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from edurag.models import default_embedding_model, load_sentence_transformer, onnx_encoder_file, onnx_session
from edurag.settings import Settings


@dataclass
class Embedder:
    """A loaded bi-encoder that returns unit-length float32 vectors."""

    model: Any
    name: str
    batch_size: int = 64
    session: Any = None
    backend: str = "torch"

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
        if self.session is not None:
            return self._encode_onnx(texts)
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        """The same mean pooling + normalization as the sentence-transformers modules, over the ONNX encoder."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch: less padding
        inputs = {i.name for i in self.session.get_inputs()}
        for start in range(0, len(order), self.batch_size):
            batch = order[start:start + self.batch_size]
            tokens = self.tokenizer([texts[i] for i in batch], padding=True, truncation=True, max_length=self.max_tokens,
                                    return_tensors="np")
            hidden = self.session.run(None, {k: v.astype(np.int64) for k, v in tokens.items() if k in inputs})[0]
            mask = tokens["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            out[batch] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out

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
    embedder = Embedder(model=model, name=label, batch_size=settings.embedding_batch_size, backend=settings.embedding_backend)
    if settings.embedding_backend != "torch":
        modules = [type(m).__name__ for m in model]
        if modules[:2] != ["Transformer", "Pooling"] or model[1].get_config_dict().get("pooling_mode") != "mean":
            raise ValueError(f"the ONNX backend supports mean-pooled encoders; {label} has {modules}")
        path = onnx_encoder_file(model, settings.resolved_onnx_dir, int8=settings.embedding_backend == "onnx-int8")
        embedder.session = onnx_session(path, settings.torch_threads)
    return embedder
