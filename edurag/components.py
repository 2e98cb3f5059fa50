"""The heavy resources the API, CLI and eval share, built once from settings."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from chromadb.api import ClientAPI

from edurag.embedder import DEFAULT_EMBEDDER_NAME, Embedder, load_embedder
from edurag.generators import Generator, build_generator
from edurag.models import QUERY_ENCODER_CONFIG, query_encoder_folder, set_offline
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


def query_embedder_for(settings: Settings, embedder: Embedder, adapter_dir: Path | None) -> Embedder:
    """The encoder of /align's passages: the distilled query encoder in adapter_dir (models.query_encoder_folder,
    built once into the ONNX cache dir, then loaded once per process on `embedder`'s backend) when it was distilled
    from `embedder`'s model, else `embedder` itself."""
    if adapter_dir is None or not (adapter_dir / QUERY_ENCODER_CONFIG).exists():
        return embedder
    key = f"{adapter_dir.resolve()}|{embedder.name}|{embedder.backend}"
    with _embedders_lock:
        if key not in _embedders:
            base = json.loads((adapter_dir / QUERY_ENCODER_CONFIG).read_text(encoding="utf-8")).get("base") or ""
            if (base or DEFAULT_EMBEDDER_NAME) != embedder.name:
                logger.warning("the query encoder in %s was distilled from %s, the standards index uses %s: not used",
                               adapter_dir, base or DEFAULT_EMBEDDER_NAME, embedder.name)
                _embedders[key] = embedder
            else:
                folder = query_encoder_folder(adapter_dir, settings.resolved_onnx_dir, settings.allow_downloads)
                _embedders[key] = load_embedder(settings.model_copy(update={"embedding_model": str(folder),
                                                                             "embedding_backend": embedder.backend}))
        return _embedders[key]


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
