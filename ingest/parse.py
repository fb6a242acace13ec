"""Parsing with unstructured, configured in this one place.

unstructured's defaults do not work offline: its sentence splitter downloads a spaCy model on first
use, and it sends telemetry. Here it gets a blank multilingual spaCy pipeline with a rule-based
sentencizer instead (same sentence splits for German and English, nothing to download), and its
English-only "does this line contain a verb" heuristic is switched off because a blank pipeline has
no part-of-speech tags and German text would fail it anyway.

Every way a file can be unusable ends as ``DocumentError(name, reason)`` with a reason a support
lead can act on; the caller skips the file and keeps going.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rag_service.errors import DocumentError

for _var, _val in (("DO_NOT_TRACK", "true"), ("SCARF_NO_ANALYTICS", "true"), ("UNSTRUCTURED_DISABLE_NOTICE", "1")):
    os.environ.setdefault(_var, _val)

log = logging.getLogger(__name__)

PARSER_VERSION = "4"  # bump when parsing or chunking changes output, so unchanged files are re-ingested

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx", ".pptx", ".html", ".htm", ".eml"}


@dataclass(frozen=True)
class Element:
    """A structural piece of a document, independent of unstructured's class hierarchy."""

    category: str  # Title, NarrativeText, ListItem, Table, Text, ...
    text: str
    depth: int | None = None  # heading level (0 = top) where the format knows it
    page: int | None = None
    table_html: str | None = None


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    elements: list[Element]

    @property
    def text(self) -> str:
        return "\n".join(e.text for e in self.elements)


def _reads_like_a_sentence(text: str) -> bool:
    """Language-neutral stand-in for unstructured's English verb test: a line is prose when it ends
    like a sentence or is too long for a heading."""
    stripped = text.rstrip()
    return len(stripped.split()) > 10 or stripped[-1:] in {".", "!", "?", ":", ";"}


@lru_cache(maxsize=1)
def _offline_unstructured() -> Any:
    """Patch unstructured's NLP hooks once per process (see the module docstring)."""
    import importlib.metadata

    import catalogue

    # A blank pipeline loads every package's spaCy factories; presidio's imports transformers (~5 s
    # per process, the larger part of ingesting a small folder). A sentencizer needs none of them.
    available: Any = catalogue.AVAILABLE_ENTRY_POINTS  # by group (Python 3.11) or a flat list (3.12+)
    every = [ep for group in available.values() for ep in group] if hasattr(available, "values") else list(available)
    catalogue.AVAILABLE_ENTRY_POINTS = importlib.metadata.EntryPoints(
        ep for ep in every if ep.group != "spacy_factories"
    )
    import spacy
    import unstructured.nlp.tokenize as tokenize
    import unstructured.partition.text_type as text_type

    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    tokenize._get_nlp = lambda: nlp  # type: ignore[assignment]
    text_type.contains_verb = _reads_like_a_sentence
    from unstructured.partition.auto import partition

    return partition


def _check_pdf(path: Path, name: str, max_pages: int) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise DocumentError(name, "the PDF is encrypted (password-protected); save an unprotected copy")
        pages = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as exc:
        raise DocumentError(name, f"the PDF is corrupt or not a PDF ({type(exc).__name__})") from exc
    if pages > max_pages:
        raise DocumentError(name, f"the PDF has {pages:,} pages; the limit is {max_pages:,} (RAG_MAX_PAGES)")


def _check_text(path: Path, name: str) -> None:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            name,
            f"not UTF-8 text (byte 0x{data[exc.start]:02X} at offset {exc.start}); re-save the file as UTF-8",
        ) from exc


def parse_file(path: Path, *, name: str, max_pages: int, max_bytes: int) -> ParsedDocument:
    """Elements of one file, in reading order, or DocumentError saying why the file cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            name,
            f"unsupported file type {suffix or '(no extension)'}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}",
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(name, f"cannot read the file ({exc.strerror})") from exc
    if size == 0:
        raise DocumentError(name, "the file is empty")
    if size > max_bytes:
        raise DocumentError(
            name, f"the file has {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB (RAG_MAX_FILE_MB)"
        )
    if suffix == ".pdf":
        _check_pdf(path, name, max_pages)
    elif suffix in TEXT_SUFFIXES:
        _check_text(path, name)

    partition = _offline_unstructured()
    # explicit languages: no per-file language guessing inside unstructured (we detect per chunk)
    kwargs: dict[str, Any] = {"strategy": "fast", "languages": ["eng", "deu"]}
    if suffix in TEXT_SUFFIXES:
        kwargs["encoding"] = "utf-8-sig"
    try:
        raw = partition(filename=str(path), **kwargs)
    except DocumentError:
        raise
    except Exception as exc:  # unstructured and its parsers raise anything from KeyError to zipfile errors
        log.debug("partition failed for %s", name, exc_info=True)
        kind = suffix.lstrip(".").upper()
        raise DocumentError(
            name, f"could not be read as {kind} ({type(exc).__name__}); the file may be damaged"
        ) from exc

    elements = [c for c in (_convert(e) for e in raw if (e.text or "").strip()) if c.text]
    if not elements:
        hint = " (a scanned PDF needs OCR, which is not supported)" if suffix == ".pdf" else ""
        raise DocumentError(name, f"no extractable text{hint}")
    return ParsedDocument(title=_title(raw, elements, path), elements=elements)


def _pdf_title(path: Path) -> str | None:
    from pypdf import PdfReader

    try:
        meta = PdfReader(str(path)).metadata
    except Exception:  # the title is a nicety; parsing already succeeded
        return None
    title = meta.title if meta else None
    return str(title).strip() if title and str(title).strip() and str(title).strip().lower() != "untitled" else None


# pdfminer writes a glyph it cannot map to a character (a bullet, mostly) as "(cid:127)"
_CID = re.compile(r"\(cid:\d+\)")


def _convert(el: Any) -> Element:
    meta = el.metadata
    return Element(
        category=str(el.category),
        text=" ".join(_CID.sub(" ", str(el.text)).split()),
        depth=getattr(meta, "category_depth", None),
        page=getattr(meta, "page_number", None),
        table_html=getattr(meta, "text_as_html", None) if el.category == "Table" else None,
    )


def _title(raw: list[Any], elements: list[Element], path: Path) -> str:
    """The document's own title if it states one, else its file name in words."""
    for el in raw:
        title = getattr(el.metadata, "title", None)  # docx core properties, eml subject
        if title:
            return str(title).strip()
    if path.suffix.lower() == ".pdf" and (pdf_title := _pdf_title(path)):
        return pdf_title
    first = elements[0]
    if first.category == "Title" and len(first.text) <= 150:
        return first.text
    return path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
