"""The README documents every setting (a new RAG_ variable without a row fails here)."""

from __future__ import annotations

from rag_service.config import Settings

from .conftest import ROOT


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [f"RAG_{name.upper()}" for name in Settings.model_fields if f"`RAG_{name.upper()}`" not in readme]
    assert missing == []


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8")[:600]
    assert "make run" in head and "make test" in head
