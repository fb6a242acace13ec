"""The long-lived objects of a running service, loaded once (in the app lifespan or a CLI) and
passed to whoever needs them; tests pass fakes instead."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .config import Settings
from .embeddings import Embedder, build_embedder
from .store import Store

log = logging.getLogger(__name__)


@dataclass
class Components:
    settings: Settings
    embedder: Embedder
    store: Store

    @classmethod
    def load(cls, settings: Settings) -> Components:
        embedder = build_embedder(settings)
        store = Store(settings, embedder)
        log.info(
            "index %s: %d documents, %d chunks", store.collection_name, len(store.documents()), store.chunk_count()
        )
        return cls(settings=settings, embedder=embedder, store=store)

    def close(self) -> None:
        self.store.close()
