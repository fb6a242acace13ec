"""``rag-ingest``: bring the index up to date with folders of help-center files."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from rag_service.config import load_settings
from rag_service.errors import RagError
from rag_service.index.embeddings import build_embedder
from rag_service.index.store import Store

from .pipeline import FileResult, IngestReport, delete, discover, ingest_paths

_STYLE = {"added": "green", "updated": "cyan", "unchanged": "dim", "failed": "bold red", "deleted": "yellow"}


def _summary(console: Console, report: IngestReport, seconds: float, store: Store) -> None:
    table = Table(title="Ingestion summary", show_lines=False)
    for col in ("document", "status", "chunks", "reason"):
        table.add_column(col, overflow="fold")
    interesting = [r for r in report.results if r.status != "unchanged"]
    for r in interesting:
        table.add_row(r.doc_id, f"[{_STYLE[r.status]}]{r.status}[/]", str(r.chunks), r.reason)
    if interesting:
        console.print(table)
    counts = ", ".join(f"{report.count(s)} {s}" for s in ("added", "updated", "unchanged", "deleted", "failed"))
    console.print(
        f"{counts}; {report.chunks_written} chunks embedded in {seconds:.1f} s; "
        f"index: {len(store.documents())} documents, {store.chunk_count()} chunks"
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Remove documents whose files are gone from the given folders.")
@click.option("--delete", "delete_ids", multiple=True, metavar="DOC_ID", help="Remove this document (repeatable).")
@click.option(
    "--audience",
    type=click.Choice(["public", "internal"]),
    default=None,
    help="Who may see answers from these files (default RAG_AUDIENCE, public).",
)
@click.option(
    "--data-dir", type=click.Path(path_type=Path), envvar="RAG_DATA_DIR", help="Index location (RAG_DATA_DIR)."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar; summary only.")
def main(
    paths: tuple[Path, ...],
    prune: bool,
    delete_ids: tuple[str, ...],
    audience: str | None,
    data_dir: Path | None,
    quiet: bool,
) -> None:
    """Parse, chunk, embed and index PATHS (files or folders), incrementally.

    Unchanged files are skipped, changed ones replace all their old chunks, broken ones are reported
    and skipped. Exit code 1 when any file failed (the others are still indexed).
    """
    if not paths and not delete_ids:
        raise click.UsageError("give at least one PATH or --delete DOC_ID")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    overrides = {"data_dir": data_dir} if data_dir else {}
    try:
        settings = load_settings(**overrides)
        store = Store(settings, build_embedder(settings))
    except RagError as exc:
        raise click.ClickException(str(exc)) from exc
    console = Console(stderr=True)
    started = time.perf_counter()
    report = IngestReport(delete(store, delete_ids))
    if paths:
        sources, _ = discover(list(paths))
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[chunks]} chunks"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=quiet or not console.is_terminal,
        )
        with progress:
            task = progress.add_task("ingesting", total=len(sources), chunks=0)
            chunks = 0

            def on_result(result: FileResult) -> None:
                nonlocal chunks
                chunks += result.chunks if result.status in ("added", "updated") else 0
                progress.update(task, advance=1, chunks=chunks, description=result.doc_id[-40:])

            sub = ingest_paths(
                store,
                list(paths),
                settings=settings,
                audience=audience,  # type: ignore[arg-type]
                prune_missing=prune,
                on_result=on_result,
            )
        report.results.extend(sub.results)
    _summary(console, report, time.perf_counter() - started, store)
    store.close()
    sys.exit(1 if report.failed else 0)


if __name__ == "__main__":
    main()
