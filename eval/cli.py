"""``rag-eval``: measure the service on a question set."""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from rag_service.config import Settings, load_settings
from rag_service.errors import RagError
from rag_service.index.embeddings import build_embedder
from rag_service.index.store import Store

from .dataset import Question, load_questions
from .kbset import load_kb_set


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


@main.command()
@click.option("--dataset", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kb",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Evaluate over a fresh index of this folder.",
)
@click.option(
    "--kb-set",
    "kb_set",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A KB set folder (docs/ + questions.jsonl, eval/kbs/README.md): its docs in a fresh index, its questions.",
)
@click.option("--url", envvar="RAG_EVAL_URL", help="Evaluate a running service (black box) instead of in process.")
@click.option("--api-key", envvar="RAG_EVAL_API_KEY", help="Bearer key for --url.")
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Report folder (resumes from its cache).",
)
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions.")
@click.option("--sample", type=click.IntRange(1), help="A random sample of N questions (with --seed).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--split", help="Only questions whose `split` field has this value (dev or test).")
@click.option("--fail-under", multiple=True, metavar="METRIC=VALUE", help="Gate: exit 1 when METRIC < VALUE.")
@click.option("--fail-over", multiple=True, metavar="METRIC=VALUE", help="Gate: exit 1 when METRIC > VALUE.")
@click.option(
    "--max-gap",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Language parity gate: exit 1 when one language is measurably worse on METRIC by more than VALUE.",
)
@click.option(
    "--judge/--no-judge", default=True, show_default=True, help="Claim-level judged metrics (faithfulness, ...)."
)
@click.option("--judge-url", envvar="RAG_JUDGE_URL", help="OpenAI-compatible judge instead of the local model.")
@click.option(
    "--threshold", default=0.5, show_default=True, type=click.FloatRange(0, 1), help="Judge score for 'supported'."
)
@click.option(
    "--ragas/--no-ragas",
    default=True,
    show_default=True,
    help="Also ragas' Faithfulness on the judge model (2 generations per answer; slow on a CPU).",
)
def run(
    dataset: Path | None,
    kb: Path | None,
    kb_set: Path | None,
    url: str | None,
    api_key: str | None,
    out: Path,
    limit: int | None,
    sample: int | None,
    seed: int,
    split: str | None,
    fail_under: tuple[str, ...],
    fail_over: tuple[str, ...],
    max_gap: tuple[str, ...],
    judge: bool,
    judge_url: str | None,
    threshold: float,
    ragas: bool,
) -> None:
    """Answer every question of DATASET (or of a KB set) and score the answers; writes report.json and
    report.html.

    Exit code 1 when a gate fails (the failed gates are listed)."""
    import sys

    from .report import check_gates, gates_json, parse_gates, write_html, write_json

    if (dataset is None) == (kb_set is None):
        raise click.UsageError("give --dataset or --kb-set")
    if kb_set and kb:
        raise click.UsageError("--kb-set brings its own docs/; drop --kb")
    if url and kb:
        raise click.UsageError("--kb indexes a folder for an in-process run; a service at --url has its own index")
    from .parity import check_max_gaps, parse_max_gaps

    try:
        gates = parse_gates(fail_under, fail_over)
        gap_gates = parse_max_gaps(max_gap)
        if kb_set:
            loaded = load_kb_set(kb_set)
            questions, source = loaded.questions, loaded.root
            kb = None if url else loaded.docs
        else:
            assert dataset is not None
            questions, source = load_questions(dataset), dataset
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    questions = _select(questions, split=split, sample=sample, seed=seed, limit=limit)
    report = evaluate(
        questions,
        source=source,
        kb=kb,
        url=url,
        api_key=api_key,
        out=out,
        judge=judge,
        judge_url=judge_url,
        threshold=threshold,
        ragas=ragas,
        selection={"sample": sample, "seed": seed, "limit": limit, "split": split},
    )
    checked = check_gates(gates, report["metrics"])
    report["gates"] = gates_json(checked)
    gaps = check_max_gaps(gap_gates, report["parity"])
    report["parity_gates"] = [g.__dict__ for g in gaps]
    write_json(out / "report.json", report)
    write_html(out / "report.html", report)
    console = Console()
    table = Table(title=f"rag-eval {source.name} ({len(report['questions'])} questions)")
    table.add_column("metric")
    table.add_column("value")
    for name, value in report["metrics"].items():
        table.add_row(name, _fmt(value))
    console.print(table)
    if kb_set:
        Console(width=220).print(_suite_table({loaded.name: report["kb"]}))
    Console(width=200).print(_parity_table(report["parity"], f"language parity ({source.name})"))
    console.print(f"reports: {out / 'report.json'}, {out / 'report.html'}")
    failed = [g for g in checked if not g.passed]
    for g in failed:
        console.print(f"[bold red]gate failed[/]: {g.metric} = {_fmt(g.value)}, required {g.op} {g.threshold}")
    if _gap_failures(gaps) or failed:
        sys.exit(1)


@main.command()
@click.argument("sets", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Report folder.")
@click.option(
    "--split",
    type=click.Choice(["dev", "test", "all"]),
    default="dev",
    show_default=True,
    help="Which half of every set: develop on dev; run test only to confirm a change.",
)
@click.option("--url", envvar="RAG_EVAL_URL", help="A running service (its own index must hold the set's docs).")
@click.option("--api-key", envvar="RAG_EVAL_API_KEY", help="Bearer key for --url.")
@click.option("--limit", type=click.IntRange(1), help="Only the first N questions of every set.")
@click.option("--judge/--no-judge", default=False, show_default=True, help="Also the judged claim-level metrics.")
@click.option(
    "--max-gap",
    multiple=True,
    metavar="METRIC=VALUE",
    help="Language parity gate on every knowledge base and on all of them together (exit 1 when one fails).",
)
def suite(
    sets: tuple[Path, ...],
    out: Path,
    split: str,
    url: str | None,
    api_key: str | None,
    limit: int | None,
    judge: bool,
    max_gap: tuple[str, ...],
) -> None:
    """Run several KB sets (each: its docs in a fresh index, its questions) and print one table, a row
    per knowledge base; writes OUT/<set>/report.{json,html} and OUT/suite.{json,html}. The worst
    knowledge base counts, not the average."""
    import sys

    from .report import write_html, write_json, write_suite_html

    try:
        loaded = [load_kb_set(path) for path in sets]
        _max_gaps(max_gap)  # a wrong gate is said before hours of answering
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    rows: dict[str, dict[str, Any]] = {}
    answered: dict[str, list[dict[str, Any]]] = {}
    for kb_set in loaded:
        questions = _select(kb_set.questions, split=None if split == "all" else split, limit=limit)
        click.echo(f"{kb_set.name}: {len(questions)} questions ({split})", err=True)
        report = evaluate(
            questions,
            source=kb_set.root,
            kb=None if url else kb_set.docs,
            url=url,
            api_key=api_key,
            out=out / kb_set.name,
            judge=judge,
            judge_url=None,
            threshold=0.5,
            ragas=False,
            selection={"split": split, "limit": limit},
        )
        write_json(out / kb_set.name / "report.json", report)
        write_html(out / kb_set.name / "report.html", report)
        rows[kb_set.name] = report["kb"]
        answered[kb_set.name] = report["questions"]
    result: dict[str, Any] = {"split": split, "sets": [str(p) for p in sets], "table": rows}
    failed = _parity_of(answered, max_gap, result)
    write_json(out / "suite.json", result)
    write_suite_html(out / "suite.html", result, {name: f"{name}/report.html" for name in rows})
    Console(width=220).print(_suite_table(rows))  # one line per knowledge base, also in CI logs
    click.echo(f"reports: {out / 'suite.json'}, {out / 'suite.html'}", err=True)
    if failed:
        sys.exit(1)


# the parity rows printed for a suite (every metric is in suite.json)
SUITE_PARITY = ("right", "key_fact_recall", "invented", "false_refusal_rate", "action_accuracy", "total_ms_p50")


def _max_gaps(specs: Sequence[str]) -> list[Any]:
    from .parity import parse_max_gaps

    return parse_max_gaps(specs)


def _gap_failures(gates: Sequence[Any]) -> list[Any]:
    failed = [g for g in gates if not g.passed]
    for g in failed:
        if g.gap is None:
            click.echo(f"parity gate failed: the report has no per-language {g.metric}", err=True)
        else:
            low, high = g.interval or (float("nan"), float("nan"))
            click.echo(
                f"parity gate failed: {g.metric} is {g.gap:.3f} worse in {g.worse} (95% interval {low:.3f} to "
                f"{high:.3f}), allowed {g.max_gap}",
                err=True,
            )
    return failed


def _parity_of(answered: dict[str, list[dict[str, Any]]], max_gap: Sequence[str], result: dict[str, Any]) -> bool:
    """Parity per knowledge base and over all of them together, into ``result``; prints the tables
    and the failed gates; whether any gate failed."""
    from .parity import check_max_gaps, parity

    tables = {name: parity(rows) for name, rows in answered.items()}
    tables["all"] = parity([r for rows in answered.values() for r in rows])
    result["parity"] = tables
    failed = False
    gates_out: dict[str, list[dict[str, Any]]] = {}
    for name, table in tables.items():
        Console(width=200).print(_parity_table(table, f"language parity ({name})", only=SUITE_PARITY))
        gates = check_max_gaps(_max_gaps(max_gap), table)
        gates_out[name] = [g.__dict__ for g in gates]
        failed = bool(_gap_failures(gates)) or failed
    result["parity_gates"] = gates_out
    return failed


def _parity_table(table: dict[str, dict[str, Any]], title: str, only: Sequence[str] = ()) -> Table:
    languages = sorted({lang for row in table.values() for lang in row["languages"]})
    t = Table(title=title)
    t.add_column("metric")
    for lang in languages:
        t.add_column(f"{lang} (n)")
    t.add_column("gap (worse)")
    t.add_column("95% interval")
    for name, row in table.items():
        if only and name not in only:
            continue
        cells = [
            f"{_fmt(row['languages'][lang]['value'])} ({row['languages'][lang]['n']})"
            if lang in row["languages"]
            else "–"
            for lang in languages
        ]
        interval = row["interval"]
        t.add_row(
            name,
            *cells,
            f"{_fmt(row['gap'])} ({row['worse'] or '–'})",
            "–" if interval is None else f"{_fmt(interval[0])} to {_fmt(interval[1])}",
        )
    return t


@main.command("parity")
@click.argument("reports", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--max-gap", multiple=True, metavar="METRIC=VALUE", help="Exit 1 when a language is measurably worse.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the tables as JSON.")
def parity_command(reports: tuple[Path, ...], max_gap: tuple[str, ...], out: Path | None) -> None:
    """Language parity of finished runs: REPORTS are report.json files or report folders of
    ``rag-eval run`` / ``rag-eval suite`` (every set's report.json in them). Every metric per language,
    the gap and its 95% interval, per report and over all of them together."""
    import sys

    answered: dict[str, list[dict[str, Any]]] = {}
    for path in reports:
        files = [path] if path.is_file() else sorted(path.glob("**/report.json"))
        for f in files:
            try:
                answered[f.parent.name] = json.loads(f.read_text(encoding="utf-8"))["questions"]
            except (OSError, ValueError, KeyError) as exc:
                raise click.ClickException(f"{f}: not a rag-eval report ({exc})") from exc
    if not answered:
        raise click.ClickException("no report.json found")
    try:
        _max_gaps(max_gap)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    result: dict[str, Any] = {"reports": [str(p) for p in reports]}
    failed = _parity_of(answered, max_gap, result)
    if out:
        from .report import write_json

        write_json(out, result)
    if failed:
        sys.exit(1)


def _suite_table(rows: dict[str, dict[str, Any]]) -> Table:
    from .kbset import COLUMNS, cell

    table = Table(title="rag-eval suite (share and hits/n; calls per question; wall seconds per question)")
    table.add_column("knowledge base", no_wrap=True)
    for _, label in COLUMNS:
        table.add_column(label, overflow="fold")
    for name, row in rows.items():
        table.add_row(name, *(cell(key, row[key]) for key, _ in COLUMNS))
    return table


def _select(
    questions: list[Question],
    *,
    split: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> list[Question]:
    import random

    if split:
        questions = [q for q in questions if q.extra.get("split") == split]
        if not questions:
            raise click.ClickException(f"no question has split {split!r}")
    if sample:
        questions = random.Random(seed).sample(questions, min(sample, len(questions)))
    if limit:
        questions = questions[:limit]
    return questions


def evaluate(
    questions: list[Question],
    *,
    source: Path,
    kb: Path | None,
    url: str | None,
    api_key: str | None,
    out: Path,
    judge: bool,
    judge_url: str | None,
    threshold: float,
    ragas: bool,
    selection: dict[str, object],
) -> dict[str, Any]:
    """Answer and score ``questions`` in process (over a fresh index of ``kb`` when given) or against
    ``url``; the report dict of report.json (without gates)."""
    import sys
    from datetime import datetime

    from tqdm import tqdm

    from .judge import Judge, build_judge, ragas_llm
    from .kbset import summary
    from .parity import parity
    from .ragas_faithfulness import RagasFaithfulness
    from .runner import CountingGenerator, HttpTarget, InProcessTarget, Target, aggregate, grouped
    from .runner import run as run_questions

    started = datetime.now(UTC)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        components = None
        target: Target
        if url:
            target = HttpTarget(url, api_key=api_key)
        else:
            from ingest.pipeline import ingest_paths
            from rag_service.components import Components, build_generator

            try:
                # every question answered on its own: a cached answer would score another question's
                # answering (the cache is measured by `rag-eval cache`)
                overrides: dict[str, object] = {"database_url": f"sqlite:///{tmp}/eval.db", "answer_cache": False}
                if kb:
                    overrides["data_dir"] = Path(tmp)
                    overrides["llm_model_path"] = load_settings().llm_model_path or _default_model()
                settings = load_settings(**overrides)
                generator = CountingGenerator(build_generator(settings))
                components = Components.build(settings, embedder=build_embedder(settings), generator=generator)
            except RagError as exc:
                raise click.ClickException(str(exc)) from exc
            if kb:
                indexed = ingest_paths(components.store, [kb], settings=settings)
                if indexed.failed:
                    click.echo(f"{len(indexed.failed)} file(s) of {kb} could not be indexed", err=True)
            target = InProcessTarget(components.pipeline, name=f"in-process:{_fingerprint(settings)}")
        the_judge: Judge | None = None
        if judge:
            try:
                base = load_settings()
                the_judge = build_judge(
                    url=judge_url, model_path=base.llm_model_path or _default_model(), threads=base.threads
                )
            except RagError as exc:
                raise click.ClickException(f"{exc} (or run with --no-judge)") from exc
        ragas_metric = RagasFaithfulness(ragas_llm(the_judge)) if the_judge and ragas else None
        with tqdm(total=len(questions), unit="q", desc=f"answering {source.name}", file=sys.stderr) as bar:
            rows = run_questions(
                questions,
                target,
                out / "cache.jsonl",
                judge=the_judge,
                threshold=threshold,
                ragas=ragas_metric,
                on_done=lambda row: bar.update(1),
            )
        if components:
            components.close()
    totals = aggregate(rows)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "run": {
            "dataset": str(source),
            "kb": str(kb) if kb else None,
            "target": target.name,
            "questions": len(rows),
            "started": started.isoformat(timespec="seconds"),
            "wall_s": round(time.perf_counter() - wall, 1),
            **selection,
            "judge": the_judge.name if the_judge else None,
            "judge_threshold": threshold if the_judge else None,
            "ragas": ragas_metric is not None,
        },
        **totals,
        "kb": summary(rows),
        "by_type": grouped(rows, "type"),
        "by_language": grouped(rows, "language"),
        "parity": parity(rows),
        "by_tag": grouped(rows, "tags"),
        "by_split": grouped(rows, "split"),
        "gates": [],
        "questions": rows,
    }


@main.command()
@click.argument("a", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("b", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def compare(a: Path, b: Path) -> None:
    """Metric deltas B − A between two report.json files. For rates, the 95% interval of the delta
    (Newcombe): an interval that contains 0 means the runs do not differ beyond noise."""
    from .metrics import difference_interval

    ra, rb = (json.loads(p.read_text(encoding="utf-8")) for p in (a, b))
    table = Table(title=f"{a} → {b}")
    for col in ("metric", "A", "B", "B − A", "95% interval of B − A"):
        table.add_column(col)
    for name in sorted(set(ra["metrics"]) | set(rb["metrics"])):
        va, vb = ra["metrics"].get(name), rb["metrics"].get(name)
        delta = None if va is None or vb is None else vb - va
        interval = ""
        if delta is not None and name in ra.get("intervals", {}) and name in rb.get("intervals", {}):
            ci = difference_interval(va, ra["counts"].get(name, 0), vb, rb["counts"].get(name, 0))
            interval = "" if ci is None else f"{ci[0]:+.2f} … {ci[1]:+.2f}" + ("" if ci[0] <= 0 <= ci[1] else "  *")
        table.add_row(name, _fmt(va), _fmt(vb), "—" if delta is None else f"{delta:+.3f}", interval)
    Console().print(table)
    Console().print("* the interval excludes 0: a difference beyond sampling noise")


@main.command("judge-check")
@click.option("--dataset", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--limit", type=click.IntRange(1), help="Only the first N pairs.")
@click.option("--sample", type=click.IntRange(1), help="A random sample of N pairs, balanced by label (with --seed).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--threshold", default=0.5, show_default=True, type=click.FloatRange(0, 1), help="Flag below this score.")
@click.option("--judge-url", envvar="RAG_JUDGE_URL", help="OpenAI-compatible judge instead of the local model.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Write figures and per-pair scores as JSON."
)
@click.option(
    "--check",
    type=click.Choice(["judge", "guard"]),
    default="judge",
    show_default=True,
    help="judge: the eval judge's prompt; guard: the service's hallucination guard (rag_service/answer/check.py).",
)
def judge_check(
    dataset: Path,
    limit: int | None,
    sample: int | None,
    seed: int,
    threshold: float,
    judge_url: str | None,
    out: Path | None,
    check: str,
) -> None:
    """How accurate the judge is on human-labelled (context, claim, label) pairs: balanced accuracy,
    precision and recall for "unsupported", the confusion matrix (per group when the data has groups).
    ``--check guard`` measures the service's hallucination guard (its prompt) instead of the judge."""
    import random
    import sys

    from tqdm import tqdm

    from .judge import build_judge
    from .labelled import load_pairs
    from .metrics import detection_report

    try:
        pairs = load_pairs(dataset)
        settings = load_settings()
        judge = build_judge(
            url=judge_url,
            model_path=settings.llm_model_path or _default_model(),
            threads=settings.threads,
            kind=check,
        )
    except (ValueError, RagError) as exc:
        raise click.ClickException(str(exc)) from exc
    if sample:
        rng = random.Random(seed)
        by_label = {0: [p for p in pairs if p.label == 0], 1: [p for p in pairs if p.label == 1]}
        pairs = [p for lab in (0, 1) for p in rng.sample(by_label[lab], min(len(by_label[lab]), sample // 2))]
        rng.shuffle(pairs)
    if limit:
        pairs = pairs[:limit]
    started = time.perf_counter()
    # pairs sharing a context run back to back, so the judge reuses its KV prefix
    order = sorted(range(len(pairs)), key=lambda i: pairs[i].context)
    scores = [0.0] * len(pairs)
    for i in tqdm(order, unit="pair", desc="judging", file=sys.stderr):
        scores[i] = judge.support(pairs[i].context, pairs[i].claim)
    labels = [p.label for p in pairs]
    overall = detection_report(labels, scores, threshold)
    groups = sorted({p.group for p in pairs if p.group})
    per_group = {
        g: detection_report(
            [p.label for p in pairs if p.group == g],
            [s for p, s in zip(pairs, scores, strict=True) if p.group == g],
            threshold,
        )
        for g in groups
    }
    sweep = {f"{t / 20:.2f}": detection_report(labels, scores, t / 20)["balanced_accuracy"] for t in range(1, 20)}
    table = Table(
        title=f"judge {judge.name} on {dataset.name} ({len(pairs)} pairs, {time.perf_counter() - started:.0f} s)"
    )
    for col in ("group", "n", "balanced acc", "precision unsup.", "recall unsup.", "tp/fn/fp/tn"):
        table.add_column(col)
    for name, r in [("all", overall), *per_group.items()]:
        table.add_row(
            name,
            str(r["n"]),
            _fmt(r["balanced_accuracy"]),
            _fmt(r["precision_unsupported"]),
            _fmt(r["recall_unsupported"]),
            f"{r['tp']}/{r['fn']}/{r['fp']}/{r['tn']}",
        )
    console = Console()
    console.print(table)
    best = max(sweep.items(), key=lambda kv: kv[1] or 0)
    console.print(f"threshold sweep (same data; tune on dev only): best {best[0]} → balanced accuracy {_fmt(best[1])}")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            json.dumps(
                {
                    "dataset": str(dataset),
                    "judge": judge.name,
                    "overall": overall,
                    "groups": per_group,
                    "sweep": sweep,
                    "pairs": [{"id": p.id, "label": p.label, "score": s} for p, s in zip(pairs, scores, strict=True)],
                },
                indent=1,
            ),
            encoding="utf-8",
        )


@main.command()
@click.option("--dataset", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--errors", "show_errors", is_flag=True, help="List every misclassified message.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
@click.option("--patterns-only", is_flag=True, help="Measure the hand-written patterns without the trained classifier.")
def intents(dataset: Path, show_errors: bool, out: Path | None, patterns_only: bool) -> None:
    """Precision and recall of the handoff detectors (explicit request for a person, frustration,
    account access) per language, on messages labelled ``human``, ``frustrated``, ``account``;
    the same detectors as the service (patterns + the classifier on the configured embedder)."""
    from rag_service.answer.route import LABELS, IntentModel, Router

    from .intents import evaluate, load_messages

    try:
        messages = load_messages(dataset)
        detector = Router() if patterns_only else Router(build_embedder(load_settings()), IntentModel.load())
    except (ValueError, RagError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = evaluate(messages, detector)
    table = Table(title=f"handoff detectors on {dataset.name} ({len(messages)} messages)")
    for col in ("label", "language", "n", "positives", "precision", "recall", "f1", "tp", "fp", "fn"):
        table.add_column(col)
    for label in LABELS:
        for language, m in report[label].items():
            table.add_row(
                label,
                language,
                str(m["n"]),
                str(m["positives"]),
                *(_fmt(m[k]) for k in ("precision", "recall", "f1")),
                *(str(m[k]) for k in ("tp", "fp", "fn")),
            )
    Console().print(table)
    if show_errors:
        for e in report["errors"]:
            click.echo(f"{e['id']} {e['label']} {e['kind']}: {e['text']}")
    if out:
        from .report import write_json

        write_json(out, report)


@main.command()
@click.option(
    "--dataset",
    default=Path(__file__).resolve().parent / "pii" / "messages.jsonl",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="all", show_default=True)
@click.option("--errors", "show_errors", is_flag=True, help="List every missed and every wrong span.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
def pii(dataset: Path, split: str, show_errors: bool, out: Path | None) -> None:
    """Recall and precision of the personal-data redaction (``rag_service.pii``) per entity type and
    language, on messages labelled with their entities (``eval/pii/README.md``)."""
    from .pii import evaluate

    try:
        report = evaluate(dataset, split)
    except (ValueError, KeyError) as exc:
        raise click.ClickException(f"{dataset}: {exc}") from exc
    table = Table(title=f"personal data in {dataset.name} ({report['messages']} messages, {split})")
    for col in ("type", "language", "labelled", "recall", "redacted", "predicted", "precision"):
        table.add_column(col)
    for key, m in report["table"].items():
        kind, language = key.split("/")
        table.add_row(
            kind,
            language,
            str(m.get("labelled", 0)),
            _fmt(m["recall"], 2),
            _fmt(m["redacted"], 2),
            str(m.get("predicted", 0)),
            _fmt(m["precision"], 2),
        )
    Console().print(table)
    if show_errors:
        for e in report["errors"]:
            kind = f"missed {e['missed']}" if "missed" in e else f"wrong {e['wrong']}"
            click.echo(f"{e['id']} {kind}: {e['text']!r}")
    if out:
        from .report import write_json

        write_json(out, report)


@main.command()
@click.argument("sets", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True)
@click.option("--asks", default=1000, show_default=True, type=click.IntRange(1), help="Asks in the repeat stream.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
def cache(sets: tuple[Path, ...], split: str, asks: int, seed: int, out: Path | None) -> None:
    """How the answer cache matches questions on knowledge-base sets: false hits (a cached answer
    given to a question with another right answer; must be 0) and the hit rate on a stream of
    repeated questions typed again in the ways customers do (``eval/cache.py``)."""

    from .cache import VARIANTS, measure

    settings = load_settings()
    rows = measure(
        list(sets), build_embedder(settings), settings, split=None if split == "all" else split, asks=asks, seed=seed
    )
    table = Table(title=f"answer cache (similarity {settings.cache_similarity}, {split} questions, {asks} asks)")
    for col in ("set", "questions", "pairs", "false hits", "repeats", "hit rate", "stream false hits", *VARIANTS):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["set"],
            str(r["questions"]),
            str(r["pairs"]),
            str(r["false_hits"]),
            str(r["repeats"]),
            _fmt(r["hit_rate"], 2),
            str(r["stream_false_hits"]),
            *(_fmt(r["hit_rate_by_variant"][k], 2) for k in VARIANTS),
        )
    Console(width=200).print(table)
    for r in rows:
        for e in r["false_hit_examples"]:
            click.echo(f"{r['set']}: false hit: {e['asked']!r} got the answer of {e['got_answer_of']!r}")
    if out:
        from .report import write_json

        write_json(out, {"similarity": settings.cache_similarity, "split": split, "sets": rows})


@main.command()
@click.option(
    "--dataset",
    default=Path(__file__).resolve().parent / "triage" / "tickets.jsonl",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--taxonomy",
    default=Path(__file__).resolve().parent.parent / "examples" / "triage-nordwind.toml",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--kb",
    default=Path(__file__).resolve().parent.parent / "kb_docs",
    show_default=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The knowledge base the articles come from (indexed afresh).",
)
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True)
@click.option("--errors", "show_errors", is_flag=True, help="List every ticket with a wrong field.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures as JSON.")
def triage(dataset: Path, taxonomy: Path, kb: Path, split: str, show_errors: bool, out: Path | None) -> None:
    """Accuracy and macro-F1 of ticket triage (``POST /v1/triage``) per field and language on
    labelled tickets (``eval/triage/README.md``)."""
    from rag_service.errors import ConfigError

    from .triage import FIELDS, evaluate

    settings = load_settings()
    try:
        report = evaluate(dataset, taxonomy, kb, build_embedder(settings), settings, split=split)
    except (ValueError, ConfigError) as exc:
        raise click.ClickException(f"{dataset}: {exc}") from exc
    title = f"triage of {dataset.name} ({report['tickets']} tickets, {split}, {report['ms_per_ticket']:.0f} ms each)"
    table = Table(title=title)
    table.add_column("field")
    for group in ("all", *report["by_language"]):
        table.add_column(f"{group} accuracy")
        table.add_column(f"{group} macro-F1")
    for f in FIELDS:
        cells = []
        for scores in (report["all"], *report["by_language"].values()):
            cells += [_fmt(scores[f]["accuracy"], 2), _fmt(scores[f]["macro_f1"], 2)]
        table.add_row(f, *cells)
    Console(width=200).print(table)
    if show_errors:
        for r in report["rows"]:
            wrong = {f: (r["gold"][f], r["got"][f]) for f in FIELDS if r["gold"][f] != r["got"][f]}
            if wrong:
                click.echo(f"{r['id']}: " + ", ".join(f"{f} {g} -> {p}" for f, (g, p) in wrong.items()))
    if out:
        from .report import write_json

        write_json(out, report)


def _fingerprint(settings: Settings) -> str:
    """What makes in-process answers comparable: settings (minus scratch paths), the core's code and
    prompts. Part of the cache key, so a resumed run never mixes answers of two configurations."""
    import hashlib

    import rag_service

    core = Path(rag_service.__file__).parent
    parts = [settings.model_dump_json(exclude={"data_dir", "database_url"})]
    parts += [p.read_text(encoding="utf-8") for p in sorted(core.rglob("*")) if p.suffix in {".py", ".txt", ".toml"}]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _default_model() -> Path:
    """The generator assembled by `make models` in the configured data dir (an in-process run over
    a temporary index still uses the real model)."""
    from rag_service.model.model_files import DEFAULT_GENERATOR, model_path

    return model_path(load_settings().models_dir, DEFAULT_GENERATOR)


def _fmt(value: object, digits: int = 3) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
