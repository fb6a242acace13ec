"""``rag-serve``: run the API with uvicorn, honouring every ``RAG_*`` setting."""

from __future__ import annotations

import ipaddress
import logging
import os
import tempfile

import click
import uvicorn
from fastapi import FastAPI

from ..components import llama_spec
from ..config import load_settings
from ..errors import RagError
from ..logs import configure as configure_logs
from ..model.llm_worker import self_check


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_factory() -> FastAPI:
    """Entry point for uvicorn workers: settings from the environment, built once per process."""
    from .app import create_app

    settings = load_settings()
    configure_logs(settings.log_format)  # each worker process configures its own
    return create_app(settings)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", envvar="RAG_HOST", default="127.0.0.1", show_default=True)
@click.option("--port", envvar="RAG_PORT", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16), help="Each loads its own models.")
def main(host: str, port: int, workers: int) -> None:
    """Serve the answer API (OpenAPI docs at /docs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()  # fail fast, with a readable message, before uvicorn starts
        configure_logs(settings.log_format)
        if settings.auth == "off" and not is_loopback(host):
            raise click.ClickException(
                f"RAG_AUTH=off serves everyone as the operator: allowed only on loopback, not on {host}. "
                "Create keys with `rag-admin keys create` and drop RAG_AUTH=off."
            )
        if not settings.llm_url:
            # a llama.cpp build that does not fit this CPU dies by a signal at the first prompt: find out
            # now, in a child process, and say so in one line instead of serving requests that would crash
            started = self_check(llama_spec(settings))
            click.echo(
                f"model self-check passed: {started.load_s + started.check_s:.1f} s; {started.system_info}", err=True
            )
    except RagError as exc:
        raise click.ClickException(str(exc)) from exc
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics sums every worker's figures
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rag-metrics-")
    if workers > 1 and settings.rate_limit_storage == "memory://":  # one count per key, not one per worker
        os.environ["RAG_RATE_LIMIT_STORAGE"] = "database"
        click.echo("rate limits counted in the database, shared by the workers (RAG_RATE_LIMIT_STORAGE)", err=True)
    uvicorn.run(
        "rag_service.api.serve:app_factory", factory=True, host=host, port=port, workers=workers, log_config=None
    )


if __name__ == "__main__":
    main()
