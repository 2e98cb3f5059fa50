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
        """Embed texts as normalized vectors, in batches of similar length."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_tokens)
        for batch in _padding_free_batches([len(ids) for ids in encoded["input_ids"]], self.batch_size):
            if self.session is None:
                out[batch] = self.model.encode([texts[i] for i in batch], batch_size=len(batch), normalize_embeddings=True,
                                               convert_to_numpy=True, show_progress_bar=False)
            else:
                out[batch] = self._encode_onnx({k: [encoded[k][i] for i in batch] for k in encoded.keys()})
        return out

    def _encode_onnx(self, encoded: dict[str, list]) -> np.ndarray:
        """The same mean pooling + normalization as the sentence-transformers modules, over the ONNX encoder."""
        inputs = {i.name for i in self.session.get_inputs()}
        tokens = self.tokenizer.pad(encoded, return_tensors="np")
        hidden = self.session.run(None, {k: v.astype(np.int64) for k, v in tokens.items() if k in inputs})[0]
        mask = tokens["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def count_tokens(self, text: str) -> int:
        """Word pieces in a text, without special tokens."""
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])


def _padding_free_batches(lengths: list[int], batch_size: int, max_waste: float = 0.1, free_tokens: int = 128) -> list[list[int]]:
    """Indices in batches of similar length whose padding stays under 10% (or 128 tokens, cheaper than another call).

    sentence-transformers only sorts by length, so the few mixed-length passages of one /align text paid ~30% padding.
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batches: list[list[int]] = []
    real = 0
    for i in order:
        batch = batches[-1] if batches else None
        waste = (len(batch) + 1) * lengths[i] - (real + lengths[i]) if batch else 0
        if batch and len(batch) < batch_size and waste <= max(max_waste * (real + lengths[i]), free_tokens):
            batch.append(i)
            real += lengths[i]
        else:
            batches.append([i])
            real = lengths[i]
    return batches


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
