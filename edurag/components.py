"""The heavy resources the API, CLI and eval share, built once from settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from chromadb.api import ClientAPI

from edurag.embedder import Embedder, load_embedder
from edurag.generators import Generator, build_generator
from edurag.models import set_offline
from edurag.prompts import Shot, load_shots
from edurag.settings import Settings
from edurag.standards import Catalog, load_catalog
from edurag.framework_store import FrameworkStore
from vectorstore.aliases import AliasCache
from vectorstore.chroma import MetadataCache, open_client
from vectorstore.lexical import LexicalStore, lexical_store

logger = logging.getLogger(__name__)

_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


@dataclass
class Components:
    """Settings plus everything that loads a model or opens a store."""

    settings: Settings
    embedder: Embedder
    client: ClientAPI
    catalog: Catalog
    shots: list[Shot]
    generator: Generator
    aliases: AliasCache = field(default_factory=AliasCache)
    lexical_indexes: LexicalStore | None = None  # the data dir's persistent BM25 indexes; from the settings when not given
    chunk_metadata: MetadataCache = field(default_factory=MetadataCache)  # candidates' metadata, read once per process

    def __post_init__(self) -> None:
        if self.lexical_indexes is None:
            self.lexical_indexes = lexical_store(self.settings)
        if self.chunk_metadata.index_of is None:  # looked up in the collection's BM25 index before Chroma
            self.chunk_metadata.index_of = self.lexical_indexes.get


def build_components(settings: Settings, generator: Generator | None = None, embedder: Embedder | None = None) -> Components:
    """Load the embedder, open Chroma, read the catalog and pick the generator (any of them may be passed in)."""
    set_offline(settings.allow_downloads)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    embedder = embedder or load_embedder(settings)
    shots = load_shots(settings.shots_file)
    return Components(
        settings=settings, embedder=embedder, client=open_client(settings), catalog=load_catalog(settings.standards_dir, FrameworkStore(settings.framework_store)),
        shots=shots, generator=generator or build_generator(settings, embedder, shots),
    )


def limit_blas_threads(threads: int) -> None:
    """Cap the BLAS thread pools of this process (threadpoolctl: OpenBLAS's pool is process-wide) at `threads`;
    0 leaves them as they are. Serving calls it with EDURAG_BLAS_THREADS."""
    if threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")


def embedder_for(c: Components, model: str | None) -> Embedder:
    """The embedder a collection was built with: the loaded one, or another model loaded once per process."""
    if not model or model == c.embedder.name:
        return c.embedder
    with _embedders_lock:
        if model not in _embedders:
            logger.info("loading embedding model %s for a re-indexed collection", model)
            _embedders[model] = load_embedder(c.settings.model_copy(update={"embedding_model": model}))
        return _embedders[model]
