"""The heavy resources the API, CLI and eval share, built once from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chromadb.api import ClientAPI

from edurag.embedder import Embedder, load_embedder
from edurag.generators import Generator, build_generator
from edurag.models import set_offline
from edurag.prompts import Shot, load_shots
from edurag.settings import Settings
from edurag.standards import Catalog, load_catalog
from vectorstore.aliases import AliasCache
from vectorstore.chroma import open_client
from vectorstore.lexical import LexicalStore, lexical_store

logger = logging.getLogger(__name__)


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
    lexical: LexicalStore = field(init=False)

    def __post_init__(self) -> None:
        self.lexical = lexical_store(self.settings)


def build_components(settings: Settings, generator: Generator | None = None, embedder: Embedder | None = None) -> Components:
    """Load the embedder, open Chroma, read the catalog and pick the generator (any of them may be passed in)."""
    set_offline(settings.allow_downloads)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    embedder = embedder or load_embedder(settings)
    shots = load_shots(settings.shots_file)
    return Components(
        settings=settings, embedder=embedder, client=open_client(settings), catalog=load_catalog(settings.standards_dir),
        shots=shots, generator=generator or build_generator(settings, embedder, shots),
    )
