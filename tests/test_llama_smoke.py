"""The real llama.cpp path end to end, with the tiny SmolLM2-135M GGUF (its answers are poor; what
is checked is the plumbing: chat template from the file, streaming, token counts, the queue)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag_service.model.llm import LlamaGenerator, Overloaded, Usage
from rag_service.model.model_files import tiny_model_path


@pytest.fixture(scope="module")
def tiny() -> LlamaGenerator:
    return LlamaGenerator(tiny_model_path(), threads=2, n_ctx=1024, max_waiting=0, cache_mb=16)


def test_streams_text_with_token_counts(tiny: LlamaGenerator) -> None:
    usage = Usage()
    pieces = list(
        tiny.stream(
            [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Say hello."}],
            max_tokens=12,
            temperature=0.0,
            usage=usage,
        )
    )
    assert "".join(pieces).strip()
    assert usage.prompt_tokens > 5 and 0 < usage.completion_tokens <= 12
    assert usage.first_token_s is not None
    assert "<|im_start|>" in tiny.render([{"role": "user", "content": "x"}])  # the template stored in the GGUF


def test_a_closed_stream_frees_the_model_and_a_full_queue_refuses(tiny: LlamaGenerator) -> None:
    messages = [{"role": "user", "content": "Count from one to twenty."}]
    stream = tiny.stream(messages, max_tokens=40, temperature=0.0, usage=Usage())  # type: ignore[arg-type]
    next(stream)
    with pytest.raises(Overloaded):  # max_waiting=0: nobody may queue behind a running stream
        next(tiny.stream(messages, max_tokens=4, temperature=0.0, usage=Usage()))  # type: ignore[arg-type]
    stream.close()  # type: ignore[attr-defined]
    assert list(tiny.stream(messages, max_tokens=4, temperature=0.0, usage=Usage()))  # type: ignore[arg-type]


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    from rag_service.errors import ConfigError

    with pytest.raises(ConfigError, match="make models"):
        LlamaGenerator(tmp_path / "nope.gguf", threads=1, n_ctx=512, max_waiting=0)


def test_the_real_model_answers_from_its_worker_process() -> None:
    """llama.cpp in the supervised child: the self-check ran, text streams, the guard's score comes back."""
    from rag_service.model.llm_worker import WorkerGenerator, WorkerSpec

    kwargs = {"model_path": tiny_model_path(), "threads": 2, "n_ctx": 1024, "max_waiting": 0, "cache_mb": 16}
    worker = WorkerGenerator(WorkerSpec("rag_service.model.llm:LlamaGenerator", kwargs, label="smollm2"), max_waiting=0)
    try:
        assert worker.started is not None and "CPU :" in worker.started.system_info
        usage = Usage()
        messages: list = [{"role": "user", "content": "Say hello."}]  # type: ignore[type-arg]
        assert "".join(worker.stream(messages, max_tokens=8, temperature=0.0, usage=usage)).strip()
        assert usage.prompt_tokens > 3 and 0 < usage.completion_tokens <= 8
        assert 0.0 <= worker.yes_probability(messages) <= 1.0
    finally:
        worker.close()
