"""Blue-green re-index of the standards: build a new versioned collection, check it, switch the alias, keep one spare."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from chromadb.api import ClientAPI
from langchain_core.documents import Document

from edurag.chunk_ids import chunk_id
from edurag.components import Components, embedder_for
from edurag.embedder import Embedder
from edurag.settings import STANDARDS_COLLECTION, Settings
from edurag.standards import load_catalog
from edurag.framework_store import FrameworkStore
from ingestion.indexer import record_manager, sync
from ingestion.standards_docs import standard_documents
from vectorstore.aliases import Target, current_target, switch, version_name, versions
from vectorstore.chroma import get_collection, query
from vectorstore.lexical import lexical_store

logger = logging.getLogger(__name__)

PROBES = 5
PROBE_K = 3
PROGRESS_EVERY = 32

Progress = Callable[[int, "int | None"], None]  # (standards embedded so far, total when it becomes known)


class ReindexCheckError(RuntimeError):
    """The new version failed its checks; the alias was not switched."""


class ReindexCancelled(RuntimeError):
    """The caller cancelled the re-index while it ran; the new version was dropped."""


class RollbackError(RuntimeError):
    """There is no previous version to roll back to."""


@dataclass
class IndexState:
    """What the standards alias points at and which versions exist with their sizes."""

    current: str
    previous: str | None
    embedding_model: str | None
    collections: dict[str, int]


def _tracked(docs: list[Document], progress: Progress, running: Callable[[], bool]) -> Iterator[Document]:
    """Yield documents, reporting progress and stopping when the caller says the work was cancelled."""
    for n, doc in enumerate(docs):
        if n % PROGRESS_EVERY == 0:
            if not running():
                raise ReindexCancelled
            progress(n, None)
        yield doc


def check_version(client: ClientAPI, name: str, embedder: Embedder, docs: list[Document]) -> dict[str, int]:
    """Counts must match the sources and probe standards must retrieve themselves; raises ReindexCheckError."""
    count = get_collection(client, name).count()
    expected = len({chunk_id(d) for d in docs})
    if count != expected:
        raise ReindexCheckError(f"{name} holds {count} chunks, expected {expected}")
    step = max(len(docs) // PROBES, 1)
    probes = docs[::step][:PROBES]
    vectors = embedder.encode([d.page_content for d in probes])
    collection = get_collection(client, name)
    for doc, vector in zip(probes, vectors):
        hits = query(collection, vector.tolist(), PROBE_K)
        if chunk_id(doc) not in {h.id for h in hits}:
            raise ReindexCheckError(f"probe {doc.metadata['code']} is not in its own top {PROBE_K} in {name}")
    return {"chunks": count, "probes": len(probes)}


def drop_collection(client: ClientAPI, settings: Settings, name: str) -> None:
    """Delete a collection and its record-manager namespace."""
    manager = record_manager(settings, name)
    manager.delete_keys(manager.list_keys())
    if name in {col.name for col in client.list_collections()}:
        client.delete_collection(name)
    lexical_store(settings).drop(name)
    logger.info("dropped collection %s", name)


def next_version(client: ClientAPI) -> int:
    """The version number a new standards collection gets: one above the highest existing one."""
    existing = versions(client, STANDARDS_COLLECTION)
    return max(existing, default=0) + 1


def run_reindex(c: Components, version: int, embedding_model: str | None, progress: Progress,
                running: Callable[[], bool]) -> dict[str, Any]:
    """Build standards__v{version} from the standards sources, check it, switch the alias, drop versions older than the
    spare; returns what was built. Raises ReindexCancelled (when `running()` turns false) or ReindexCheckError, after
    dropping the new version; the live version is untouched then."""
    name = version_name(STANDARDS_COLLECTION, version)
    model = embedding_model or c.embedder.name
    try:
        embedder = embedder_for(c, model)
        docs = standard_documents(load_catalog(c.settings.standards_dir, FrameworkStore(c.settings.framework_store)))
        progress(0, len(docs))
        logger.info("re-index: building %s with %s (%d standards)", name, model, len(docs))
        report = sync(_tracked(docs, progress, running), name, client=c.client, embedder=embedder, settings=c.settings,
                      cleanup="full", total=len(docs))
        checks = check_version(c.client, name, embedder, docs)
        get_collection(c.client, name).modify(metadata={"embedding_model": model, "version": version})
        progress(len(docs), None)
        old = current_target(c.client, STANDARDS_COLLECTION)
        if not running():
            raise ReindexCancelled
        switch(c.client, STANDARDS_COLLECTION, Target(name=name, previous=old.name, embedding_model=model))
        c.aliases.invalidate()
        logger.info("standards alias switched %s -> %s", old.name, name)
    except (ReindexCancelled, ReindexCheckError):
        drop_collection(c.client, c.settings, name)
        raise
    for stale in _stale(c.client, keep={name, old.name}):
        drop_collection(c.client, c.settings, stale)
    return {"collection": name, "previous": old.name, "embedding_model": model,
            **checks, **{k: v for k, v in report.as_dict().items() if k != "collection"}}


def _stale(client: ClientAPI, keep: Iterable[str]) -> list[str]:
    """Standards versions (and the pre-alias collection) that are neither live nor the spare."""
    keep = set(keep)
    names = list(versions(client, STANDARDS_COLLECTION).values())
    if STANDARDS_COLLECTION in {col.name for col in client.list_collections()}:
        names.append(STANDARDS_COLLECTION)
    return [n for n in names if n not in keep]


def rollback(client: ClientAPI) -> Target:
    """Point the standards alias back at the spare version (the current one becomes the spare)."""
    current = current_target(client, STANDARDS_COLLECTION)
    if not current.previous or current.previous not in {col.name for col in client.list_collections()}:
        raise RollbackError("no previous standards version to roll back to")
    old_model = _model_of(client, current.previous)
    target = Target(name=current.previous, previous=current.name, embedding_model=old_model)
    switch(client, STANDARDS_COLLECTION, target)
    logger.info("standards alias rolled back %s -> %s", current.name, target.name)
    return target


def _model_of(client: ClientAPI, name: str) -> str | None:
    """The embedding model recorded for a version by the re-index that built it (None for the pre-alias index)."""
    return (get_collection(client, name).metadata or {}).get("embedding_model")


def index_state(client: ClientAPI) -> IndexState:
    """The alias, its spare, and every standards collection with its chunk count."""
    target = current_target(client, STANDARDS_COLLECTION)
    names = list(versions(client, STANDARDS_COLLECTION).values())
    if STANDARDS_COLLECTION in {col.name for col in client.list_collections()}:
        names.insert(0, STANDARDS_COLLECTION)
    return IndexState(current=target.name, previous=target.previous, embedding_model=target.embedding_model,
                      collections={n: get_collection(client, n).count() for n in names})
