"""The sentence-transformers embedder shared by ingestion, retrieval and the extractive summarizer."""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from edurag.chunking import split_by_tokens
from edurag.models import ENCODER_INPUTS, default_embedding_model, load_sentence_transformer, onnx_encoder_file, onnx_session
from edurag.settings import Settings, usable_cores

DEFAULT_EMBEDDER_NAME = "sentence-transformers/all-MiniLM-L6-v2"  # the name of the packaged default's vectors
INT8_BACKEND = "onnx-int8"
_GLUE = re.compile("[\x0b\x0c\x1c-\x1f\x85]")  # whitespace to str.split, deleted by BERT's normalizer


@dataclass
class Passages:
    """A long text split into encoder-sized passages: their texts and their tokens, ready for encode_tokens."""

    texts: list[str]
    tokens: dict[str, list[list[int]]]


@dataclass
class Embedder:
    """A loaded bi-encoder that returns unit-length float32 vectors.

    ONNX: a call that makes one batch runs on `session` (ONNX Runtime's intra-op pool). With `parallel_session` (a
    single-threaded session of the same model) and `workers` > 1, a call of several batches runs them at once on it
    (ONNX Runtime releases the GIL): the calling thread and up to workers - 1 helper threads each take the next batch,
    so a text's 2-4 passages are encoded side by side instead of one after the other on the intra-op pool, which made
    2 cores only ~1.1-1.4x as fast as one and burned ~1.4x the CPU (bench/query_results.md).

    The int8 backend encodes each text in a batch of its own: dynamic quantization scales a batch's activations
    together, so a text's vector depended on its batch companions and padding (cosine 0.990-0.995 to itself encoded
    alone). A standard's vector in the index then depended on what ingestion happened to batch it with, and /align's
    ranker, trained on vectors of other batches, read dense scores up to 0.035 off from /align's."""

    model: Any
    name: str
    batch_size: int = 64
    session: Any = None
    backend: str = "torch"
    workers: int = 1
    parallel_session: Any = None

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return int(self.model.get_embedding_dimension())

    @property
    def tokenizer(self) -> Any:
        """The model's Hugging Face tokenizer (tokenizes and pads encoder input)."""
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        """Word pieces the encoder reads before truncating."""
        return int(self.model.max_seq_length)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts as normalized vectors, in batches of similar length."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.encode_tokens(self.tokenizer(list(texts), truncation=True, max_length=self.max_tokens))

    def encode_tokens(self, encoded: Mapping[str, list[list[int]]]) -> np.ndarray:
        """Embed already tokenized texts (with special tokens) as normalized vectors, in batches of similar length.

        In parallel (see the class) batches hold at most len(texts) // (2 * workers) texts, so a few passages become
        one batch each; the int8 backend always runs one text per batch (see the class)."""
        names = [k for k in ENCODER_INPUTS if k in encoded]
        lengths = [len(ids) for ids in encoded["input_ids"]]
        out = np.zeros((len(lengths), self.dim), dtype=np.float32)
        parallel = self.parallel_session is not None and self.workers > 1
        if self.backend == INT8_BACKEND:
            size = 1
        else:
            size = max(1, min(self.batch_size, len(lengths) // (2 * self.workers))) if parallel else self.batch_size
        batches = _padding_free_batches(lengths, size)
        parallel = parallel and len(batches) > 1
        session = self.parallel_session if parallel else self.session

        def pad(batch: list[int]) -> tuple[list[int], Any]:
            return batch, self.tokenizer.pad({k: [encoded[k][i] for i in batch] for k in names}, return_tensors="np")

        def run(padded: tuple[list[int], Any]) -> None:
            batch, tokens = padded
            pooled = self._run_onnx(session, tokens) if session is not None else self._run_torch(tokens)
            out[batch] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

        if parallel:  # padded up front on this thread: the helpers only run the session (no GIL) and pool
            largest_first = sorted(batches, key=lambda b: len(b) * max(lengths[i] for i in b), reverse=True)
            self._in_parallel(run, [pad(batch) for batch in largest_first])
        else:
            for batch in batches:
                run(pad(batch))
        return out

    def _in_parallel(self, run: Callable[[Any], None], batches: list[Any]) -> None:
        """Run every batch, largest first, on the calling thread and on the helpers that are free. A helper still
        queued behind other calls' work when the caller has finished is cancelled: a call never waits for the pool."""
        pending = deque(batches)
        failed: list[BaseException] = []

        def drain() -> None:
            while not failed:
                try:
                    batch = pending.popleft()
                except IndexError:
                    return
                try:
                    run(batch)
                except BaseException as error:
                    failed.append(error)
                    raise

        helpers = [self._pool.submit(drain) for _ in range(min(self.workers, len(batches)) - 1)]
        try:
            drain()
        finally:
            for helper in helpers:
                if not helper.cancel():
                    helper.exception()
        if failed:
            raise failed[0]

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        """The helper threads of parallel encoding (workers - 1), shared by every call of this embedder."""
        return ThreadPoolExecutor(max_workers=max(1, self.workers - 1), thread_name_prefix="edurag-encoder")

    def passages(self, text: str, size: int, overlap: int) -> Passages:
        """The text split at paragraph, line, then word ends into passages of at most `size` word pieces, tokenized once."""
        size = max(1, min(size, self.max_tokens - 2))  # [CLS] and [SEP] count toward the encoder's limit
        texts = split_by_tokens(text, size, overlap, self.piece_counter(text)) or [text]
        encoded = self.tokenizer(texts, truncation=True, max_length=self.max_tokens)
        return Passages(texts=texts, tokens={k: encoded[k] for k in ENCODER_INPUTS if k in encoded})

    def _run_torch(self, tokens: Mapping[str, np.ndarray]) -> np.ndarray:
        """The sentence-transformers modules (transformer, pooling) on a padded batch."""
        import torch

        with torch.inference_mode():
            features = self.model({k: torch.from_numpy(v.astype(np.int64)) for k, v in tokens.items()})
        return features["sentence_embedding"].float().numpy()

    def _run_onnx(self, session: Any, tokens: Mapping[str, np.ndarray]) -> np.ndarray:
        """The same mean pooling as the sentence-transformers modules, over an ONNX session of the encoder."""
        inputs = {i.name for i in session.get_inputs()}
        hidden = session.run(None, {k: v.astype(np.int64) for k, v in tokens.items() if k in inputs})[0]
        mask = tokens["attention_mask"][..., None].astype(np.float32)
        return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)

    def count_tokens(self, text: str) -> int:
        """Word pieces in a text, without special tokens."""
        return len(self._word_pieces.encode(text, add_special_tokens=False).ids)

    def piece_counter(self, text: str) -> Callable[[str], int]:
        """count_tokens for pieces of `text` (what LangChain's splitter asks about: ~1,400 counts for an IM lesson), from
        one tokenizer call over the text's distinct words; plain count_tokens when that would not be exact.

        Hand-written because no splitter library counts this way: a BERT tokenizer (BertNormalizer + BertPreTokenizer,
        MiniLM's) never lets a word piece cross whitespace, so a piece's count is the sum of its words' counts. Python's
        str.split also breaks at control characters BERT deletes (vertical tab, form feed, information separators, NEL:
        they glue their neighbours into one word); texts holding one are counted piece by piece.
        """
        if not self._counts_by_word or _GLUE.search(text):
            return self.count_tokens
        words = list(set(text.split()))
        counts = dict(zip(words, (len(e.ids) for e in self._word_pieces.encode_batch(words, add_special_tokens=False))))

        def count(piece: str) -> int:
            """Word pieces of a piece of the text (a piece of another text: counted by the tokenizer)."""
            total = 0
            for word in piece.split():
                known = counts.get(word)
                total += self.count_tokens(word) if known is None else known
            return total

        return count

    @cached_property
    def _counts_by_word(self) -> bool:
        """Whether the tokenizer splits at whitespace before anything else (piece_counter's word sums are exact)."""
        normalizer, pre_tokenizer = (json.loads(self._word_pieces.to_str()).get(key) or {}
                                     for key in ("normalizer", "pre_tokenizer"))
        return normalizer.get("type") in (None, "BertNormalizer") and pre_tokenizer.get("type") == "BertPreTokenizer"

    @cached_property
    def _word_pieces(self) -> Any:
        """The Rust tokenizer behind self.tokenizer, without truncation: counting through it skips the transformers
        wrapper, which made LangChain's splitter (one count per word) take 121 instead of 29 ms on a 2,000-word lesson."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer


def _padding_free_batches(lengths: list[int], batch_size: int, max_waste: float = 0.02, free_tokens: int = 16) -> list[list[int]]:
    """Indices in batches of similar length; a batch takes a text while its padding stays under 2% (or 16 word pieces).

    A padding word piece costs as much as a real one, and one more encoder run costs about 20 (bench/query_results.md);
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


def encoder_workers(settings: Settings, cores: int | None = None) -> int:
    """How many encoder batches run at once (EDURAG_ENCODER_WORKERS; 0 = one per usable core, 1 when
    EDURAG_TORCH_THREADS pins the process's threads)."""
    if settings.encoder_workers:
        return settings.encoder_workers
    if settings.torch_threads:
        return 1
    return usable_cores() if cores is None else max(1, cores)


def load_embedder(settings: Settings) -> Embedder:
    """Build the embedder named by EDURAG_EMBEDDING_MODEL (default: the packaged all-MiniLM-L6-v2). An ONNX backend
    gets a session on torch_threads and, when encoder_workers > 1, a single-threaded one for parallel batches."""
    name = settings.embedding_model or default_embedding_model()
    model = load_sentence_transformer(name, settings.allow_downloads)
    label = settings.embedding_model or DEFAULT_EMBEDDER_NAME
    embedder = Embedder(model=model, name=label, batch_size=settings.embedding_batch_size, backend=settings.embedding_backend)
    if settings.embedding_backend != "torch":
        modules = [type(m).__name__ for m in model]
        if modules[:2] != ["Transformer", "Pooling"] or model[1].get_config_dict().get("pooling_mode") != "mean":
            raise ValueError(f"the ONNX backend supports mean-pooled encoders; {label} has {modules}")
        path = onnx_encoder_file(model, settings.resolved_onnx_dir, int8=settings.embedding_backend == INT8_BACKEND)
        embedder.session = onnx_session(path, settings.torch_threads)
        embedder.workers = encoder_workers(settings)
        if embedder.workers > 1:
            embedder.parallel_session = onnx_session(path, 1)
    return embedder
