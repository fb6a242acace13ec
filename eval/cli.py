"""``rag-eval``: measure the service on a question set."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from rag_service.config import load_settings
from rag_service.embeddings import build_embedder
from rag_service.errors import RagError
from rag_service.store import Store

from .dataset import load_questions


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Evaluate retrieval and answers on a JSONL question set (schema in DESIGN.md)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--dataset", "datasets", required=True, multiple=True, type=click.Path(exists=True, path_type=Path))
@click.option("--kb", type=click.Path(exists=True, file_okay=False, path_type=Path), help="Index this folder first.")
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Index location, reused between runs (default: a fresh temporary directory with --kb, else RAG_DATA_DIR).",
)
@click.option("--embedder", "embedders", multiple=True, help="Embedder(s) to compare (default RAG_EMBEDDER).")
@click.option("-k", default=5, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(["dense", "lexical", "hybrid", "hybrid-0.5", "hybrid-1.0"]),
    default=("dense", "lexical", "hybrid"),
    help="Search to measure; hybrid = the service's fusion (lexical weight 0.25), hybrid-0.5/1.0 for comparison.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Write the figures and per-question rows as JSON.")
def retrieval(
    datasets: tuple[Path, ...],
    kb: Path | None,
    data_dir: Path | None,
    embedders: tuple[str, ...],
    k: int,
    modes: tuple[str, ...],
    out: Path | None,
) -> None:
    """hit@k, recall@k and MRR of each embedder and search mode against the gold doc_ids."""
    from ingest.pipeline import ingest_paths

    from .retrieval import evaluate, searches, summarise

    console = Console()
    results: dict[str, object] = {}
    table = Table(title=f"Retrieval (k={k})")
    for col in ("dataset", "embedder", "mode", "n", f"hit@{k}", f"recall@{k}", "MRR", "query ms", "ingest s"):
        table.add_column(col)
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        base = data_dir or (Path(tmp) if kb else None)
        try:
            base_settings = load_settings(**({"data_dir": base} if base else {}))
        except RagError as exc:
            raise click.ClickException(str(exc)) from exc
        for name in embedders or (base_settings.embedder,):
            try:
                settings = base_settings.model_copy(update={"embedder": name})
                store = Store(settings, build_embedder(settings))
            except RagError as exc:
                raise click.ClickException(str(exc)) from exc
            ingest_s = 0.0
            if kb:
                started = time.perf_counter()
                report = ingest_paths(store, [kb], settings=settings, prune_missing=True)
                ingest_s = time.perf_counter() - started
                for failed in report.failed:
                    console.print(f"[red]failed[/] {failed.doc_id}: {failed.reason}")
            for dataset in datasets:
                questions = load_questions(dataset)
                for mode in modes:
                    rows = evaluate(searches(store)[mode], questions, k=k)
                    summary = summarise(rows, k)
                    results[f"{dataset.name}/{name}/{mode}"] = {"summary": summary, "rows": [r.__dict__ for r in rows]}
                    table.add_row(
                        dataset.name,
                        name,
                        mode,
                        str(summary["n"]),
                        _fmt(summary[f"hit@{k}"]),
                        _fmt(summary[f"recall@{k}"]),
                        _fmt(summary["mrr"]),
                        _fmt(summary["query_ms_p50"], 1),
                        f"{ingest_s:.0f}",
                    )
            store.close()
    console.print(table)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")


def _fmt(value: object, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
