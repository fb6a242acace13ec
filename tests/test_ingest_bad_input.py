"""Broken files are reported by name with a reason, skipped, and nothing already indexed is lost."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from ingest.cli import main as rag_ingest
from ingest.pipeline import ingest_paths
from rag_service.config import Settings
from rag_service.index.store import Store

from .conftest import KB_DOCS


def _make_bad_files(folder: Path) -> dict[str, str]:
    """File name -> a word the reason must contain."""
    from pypdf import PdfReader, PdfWriter

    (folder / "kaputt.pdf").write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 20)
    writer = PdfWriter(clone_from=PdfReader(str(KB_DOCS / "billing-explained.pdf")))
    writer.encrypt("secret")
    with (folder / "geheim.pdf").open("wb") as f:
        writer.write(f)
    monster = PdfWriter()
    for _ in range(10_000):
        monster.add_blank_page(width=200, height=200)
    with (folder / "monster.pdf").open("wb") as f:
        monster.write(f)
    (folder / "leer.md").write_bytes(b"")
    (folder / "tabelle.xlsx").write_bytes(b"PK\x03\x04 not really")
    (folder / "latin1.txt").write_bytes("Kündigung per Fax möglich.".encode("latin-1"))
    return {
        "kaputt.pdf": "corrupt",
        "geheim.pdf": "encrypted",
        "monster.pdf": "10,000 pages",
        "leer.md": "empty",
        "tabelle.xlsx": "unsupported file type .xlsx",
        "latin1.txt": "UTF-8",
    }


def test_each_bad_file_is_reported_and_the_run_goes_on(tmp_path: Path, store: Store, settings: Settings) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    shutil.copy(KB_DOCS / "umzug.md", folder)
    expected = _make_bad_files(folder)
    report = ingest_paths(store, [folder], settings=settings)
    failed = {r.doc_id: r.reason for r in report.failed}
    assert set(failed) == set(expected)
    for name, word in expected.items():
        assert word in failed[name], (name, failed[name])
    assert [r.doc_id for r in report.results if r.status == "added"] == ["umzug.md"]
    assert any("6 Wochen" in h.chunk.text for h in store.dense_search("Umzug melden Frist", k=3))


def test_a_broken_new_version_keeps_the_old_one_searchable(tmp_path: Path, store: Store, settings: Settings) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    shutil.copy(KB_DOCS / "rechnung-und-zahlung.pdf", folder)
    ingest_paths(store, [folder], settings=settings)
    (folder / "rechnung-und-zahlung.pdf").write_bytes(b"%PDF-1.7 truncated")
    report = ingest_paths(store, [folder], settings=settings, prune_missing=True)
    assert [(r.doc_id, r.status) for r in report.results] == [("rechnung-und-zahlung.pdf", "failed")]
    assert any("Mahngebühr" in h.chunk.text for h in store.dense_search("Mahngebühr", k=3))


def test_cli_exit_code_and_summary_name_the_failures(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    shutil.copy(KB_DOCS / "umzug.md", folder)
    (folder / "leer.txt").write_bytes(b"")
    runner = CliRunner()
    data_dir = str(tmp_path / "data")
    result = runner.invoke(rag_ingest, [str(folder), "--data-dir", data_dir, "--quiet"])
    assert result.exit_code == 1, result.output
    assert "leer.txt" in result.output and "empty" in result.output
    assert "1 added" in result.output
    again = runner.invoke(rag_ingest, [str(folder / "umzug.md"), "--data-dir", data_dir, "--quiet"])
    assert again.exit_code == 0, again.output
    assert "1 unchanged" in again.output
    gone = runner.invoke(rag_ingest, ["--delete", "umzug.md", "--data-dir", data_dir, "--quiet"])
    assert gone.exit_code == 0 and "1 deleted" in gone.output
    missing = runner.invoke(rag_ingest, ["--delete", "umzug.md", "--data-dir", data_dir, "--quiet"])
    assert missing.exit_code == 1 and "no such document" in missing.output
