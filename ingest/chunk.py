"""Chunking by tokens of the embedding model, along the document's own structure.

Elements become *blocks* first: a heading starts a new section, consecutive list items form one
block, a table is one block rendered as a Markdown table (one line per row, header kept), and a run
of short label-like lines (what a PDF table or bullet list becomes under the fast strategy) is kept
together. Blocks are then packed into chunks that never exceed ``max_tokens`` *including* the
header line ``"<title> — <section>"`` that every chunk starts with, so a passage always says which
document and section it comes from. A new section starts a new chunk; a block that alone exceeds
the budget is split (tables by rows, repeating the header row; prose by sentences). Consecutive
chunks of one section overlap by up to ``overlap_tokens`` of trailing sentences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .parse import Element

CountTokens = Callable[[str], int]

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
_LABEL_MAX_WORDS = 8


@dataclass
class Block:
    text: str
    section: str
    page: int | None
    kind: str  # "text" | "list" | "table" | "heading"


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it has ids: text with its header, the section and first page it comes from."""

    text: str
    body: str
    section: str
    page: int | None


def table_to_text(html: str | None, fallback: str) -> str:
    """A table as Markdown rows, which a small LLM reads far better than space-joined cells."""
    if not html:
        return fallback
    import lxml.html

    try:
        root = lxml.html.fromstring(html)
    except Exception:  # malformed table markup: the flat text still carries the cells
        return fallback
    rows = []
    for tr in root.iter("tr"):
        cells = [" ".join(c.text_content().split()) for c in tr if c.tag in ("td", "th")]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    if not rows:
        return fallback
    if len(rows) > 1:
        n = rows[0].count(" | ") + 1
        rows.insert(1, "|" + " --- |" * n)
    return "\n".join(rows)


def _is_label(el: Element) -> bool:
    return el.category in {"Title", "UncategorizedText", "Text"} and len(el.text.split()) <= _LABEL_MAX_WORDS


def build_blocks(elements: Sequence[Element], title: str) -> list[Block]:
    """Group elements into blocks that must not be torn apart, each tagged with its section path."""
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    i = 0
    start = 1 if elements and elements[0].category == "Title" and elements[0].text == title else 0
    els = list(elements[start:])

    def section() -> str:
        return " > ".join(h for _, h in headings)

    while i < len(els):
        el = els[i]
        if el.category == "Title":
            # a run of >= 3 short label-like lines with no prose between them is a flattened table or list
            j = i
            while j < len(els) and _is_label(els[j]):
                j += 1
            if j - i >= 3:
                blocks.append(Block("\n".join(e.text for e in els[i:j]), section(), el.page, "list"))
                i = j
                continue
            depth = el.depth if el.depth is not None else 1
            headings = [(d, h) for d, h in headings if d < depth] + [(depth, el.text)]
            blocks.append(Block(el.text, section(), el.page, "heading"))
            i += 1
            continue
        if el.category == "ListItem":
            j = i
            while j < len(els) and els[j].category == "ListItem":
                j += 1
            text = "\n".join(f"- {e.text}" for e in els[i:j])
            blocks.append(Block(text, section(), el.page, "list"))
            i = j
            continue
        if el.category == "Table":
            blocks.append(Block(table_to_text(el.table_html, el.text), section(), el.page, "table"))
        elif el.category not in {"Header", "Footer", "PageBreak", "PageNumber"}:
            blocks.append(Block(el.text, section(), el.page, "text"))
        i += 1
    return blocks


def _header(title: str, section: str) -> str:
    return f"{title} — {section}" if section and section != title else title


def _split_oversized(block: Block, budget: int, overlap: int, count: CountTokens) -> list[str]:
    if block.kind == "table":
        lines = block.text.split("\n")
        head = lines[:2] if len(lines) > 2 and lines[1].startswith("| ---") else lines[:1]
        parts: list[str] = []
        current = list(head)
        for row in lines[len(head) :]:
            if len(current) > len(head) and count("\n".join([*current, row])) > budget:
                parts.append("\n".join(current))
                current = list(head)
            current.append(row)
        parts.append("\n".join(current))
        return parts
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=budget,
        chunk_overlap=overlap,
        length_function=count,
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""],
        keep_separator="end",
    )
    return splitter.split_text(block.text)


def _tail_sentences(body: str, overlap: int, count: CountTokens) -> str:
    """The last whole sentences of ``body`` that fit in ``overlap`` tokens (may be empty)."""
    if overlap <= 0 or body.split("\n")[-1].startswith("|"):
        return ""  # a table row out of its table misleads; a split table repeats its header instead
    tail: list[str] = []
    for sentence in reversed(_SENTENCE_END.split(body.split("\n")[-1])):
        if count(" ".join([sentence, *tail])) > overlap:
            break
        tail.insert(0, sentence)
    return " ".join(tail)


def chunk_blocks(
    blocks: Sequence[Block], *, title: str, max_tokens: int, overlap_tokens: int, count: CountTokens
) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    body: list[str] = []
    section = ""
    page: int | None = None

    def flush(keep_overlap: bool) -> str:
        nonlocal body
        text = "\n".join(body).strip()
        carry = ""
        if text:
            drafts.append(ChunkDraft(f"{_header(title, section)}\n{text}", text, section, page))
            if keep_overlap:
                carry = _tail_sentences(text, overlap_tokens, count)
        body = []
        return carry

    for block in blocks:
        top_section = block.section.split(" > ")[0]
        if body and top_section != section.split(" > ")[0]:
            flush(keep_overlap=False)
        if not body:
            section, page = block.section, block.page
        if block.kind == "heading" and block.section == section:
            continue  # the chunk header already names this heading
        budget = max_tokens - count(_header(title, section) + "\n")
        pieces = [block.text] if count(block.text) <= budget else _split_oversized(block, budget, overlap_tokens, count)
        for piece in pieces:
            candidate = "\n".join([*body, piece])
            if body and count(candidate) > budget:
                carry = flush(keep_overlap=True)
                section, page = block.section, block.page
                if carry and count(f"{carry}\n{piece}") <= budget:
                    body = [carry]
            body.append(piece)
    flush(keep_overlap=False)
    return drafts
