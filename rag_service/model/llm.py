"""Text generation behind one small interface: the in-process llama.cpp backend, an
OpenAI-compatible HTTP backend (``RAG_LLM_URL``), and typed fakes in the tests.

One llama.cpp context serves one caller at a time. Callers queue on a lock; the queue is bounded
(``RAG_MAX_QUEUE``): the request that would exceed it fails at once with ``Overloaded`` (HTTP 429)
instead of piling up. A stream holds the model only while it is iterated: closing it (a client
that disconnected) releases the model for the next request.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypedDict, runtime_checkable

import httpx

from ..errors import BackendUnavailable, ConfigError, RagError
from ..metrics import QUEUE

log = logging.getLogger(__name__)


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass
class Usage:
    """Filled in by a generator while it streams; read after the stream ended."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_s: float | None = None


class Overloaded(RagError):
    """Too many requests are already waiting for the model; the client should retry later."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__("the model is busy; retry shortly")
        self.retry_after_s = retry_after_s


class Generator(Protocol):
    """A chat model. ``stream`` yields text pieces; it fills ``usage`` as it goes."""

    name: str

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]: ...


@runtime_checkable
class YesNo(Protocol):
    """A model that can be asked a yes/no question; the hallucination guard's judged check."""

    def yes_probability(self, messages: Sequence[Message]) -> float:
        """P(the reply starts with yes) against P(no), from the first token's distribution."""
        ...


YES_WORDS = ("YES", "Yes", "yes", " YES", " Yes", "JA", "Ja")
NO_WORDS = ("NO", "No", "no", " NO", " No", "NEIN", "Nein")


def first_token_ids(llama: Any, words: Sequence[str]) -> list[int]:
    return sorted({llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})


def yes_no_probability(llama: Any, tokens: Sequence[int], yes: Sequence[int], no: Sequence[int]) -> float:
    """Evaluate ``tokens`` (reusing the longest prefix already in the KV cache) and compare the
    next-token logits of the yes and no words: one forward pass, no sampling, no text to parse.
    The caller holds the model."""
    import numpy as np

    cached = llama.input_ids[: llama.n_tokens].tolist()
    prefix = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        prefix += 1
    prefix = min(prefix, len(tokens) - 1)  # always evaluate at least the last token
    llama.n_tokens = prefix
    llama.eval(list(tokens[prefix:]))
    # logits of the last position; llama.cpp keeps them even without logits_all
    raw = llama._ctx.get_logits()
    logits = np.ctypeslib.as_array(raw, shape=(llama.n_vocab(),))
    y = _logsumexp([float(logits[i]) for i in yes])
    n = _logsumexp([float(logits[i]) for i in no])
    return 1.0 / (1.0 + math.exp(n - y))


def yes_probability_of_choice(choice: dict[str, Any]) -> float:
    """The same for an OpenAI-compatible server: top logprobs of the first token when it sends
    them, else the first word of the reply (then 0 or 1)."""
    top = ((choice.get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs") or []
    yes = [t["logprob"] for t in top if t["token"].strip().upper() in ("YES", "JA")]
    no = [t["logprob"] for t in top if t["token"].strip().upper() in ("NO", "NEIN")]
    if yes or no:
        y = _logsumexp(yes) if yes else -30.0
        n = _logsumexp(no) if no else -30.0
        return 1.0 / (1.0 + math.exp(n - y))
    text = (choice.get("message") or {}).get("content") or ""
    return 1.0 if text.strip().upper().startswith(("YES", "JA")) else 0.0


def _logsumexp(xs: Sequence[float]) -> float:
    m = max(xs)
    return m + math.log(sum(math.exp(x - m) for x in xs))


def compact_ram_cache(capacity_bytes: int) -> Any:
    """A ``LlamaRAMCache`` whose size limit holds. llama-cpp-python counts only the KV bytes of a
    saved state, but every state also carries a copy of the whole logits buffer (n_batch x n_vocab
    float32: 311 MB for Qwen2.5 at n_batch 512), so a "256 MB" cache grew to several GB and an eval
    run with the judge's cache reached 22 GB. The copy is cut to one row (a restored prompt is
    always evaluated again from its first new token, which recomputes the logits) and every byte is
    counted."""
    from llama_cpp.llama_cache import LlamaRAMCache

    class _CompactRAMCache(LlamaRAMCache):
        @property
        def cache_size(self) -> int:
            return sum(
                int(st.llama_state_size) + int(st.scores.nbytes) + int(st.input_ids.nbytes)
                for st in self.cache_state.values()
            )

        def __setitem__(self, key: Sequence[int], value: Any) -> None:
            value.scores = value.scores[-1:].copy()
            super().__setitem__(key, value)

    return _CompactRAMCache(capacity_bytes=capacity_bytes)


class Gate:
    """The model's waiting room: one holder, at most ``max_waiting`` queued behind it."""

    def __init__(self, max_waiting: int, *, retry_after_s: int = 5) -> None:
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0
        self._max_waiting = max_waiting
        self._retry_after_s = retry_after_s

    def enter(self) -> None:
        with self._count:
            if self._waiting > self._max_waiting:
                raise Overloaded(self._retry_after_s)
            self._waiting += 1
        QUEUE.inc()
        self._lock.acquire()

    def leave(self) -> None:
        self._lock.release()
        with self._count:
            self._waiting -= 1
        QUEUE.dec()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the model outside the request queue (a restart of the model process)."""
        with self._lock:
            yield


def chat_formatter(llama: Any) -> Any:
    """The chat template stored in the GGUF file, as a formatter (the judge uses it too)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        raise ConfigError(f"{llama.model_path} carries no chat template")
    vocab = llama._model
    eos = vocab.token_get_text(llama.token_eos()) if llama.token_eos() >= 0 else ""
    bos = vocab.token_get_text(llama.token_bos()) if llama.token_bos() >= 0 else ""
    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)


def require_model(path: Path) -> Path:
    """The GGUF file, or a ConfigError that says how to get one."""
    if not path.is_file():
        raise ConfigError(f"no GGUF model at {path}; run `make models` or set RAG_LLM_MODEL_PATH")
    return path


class LlamaGenerator:
    """llama-cpp-python in process. The prompt is rendered with the chat template stored in the GGUF
    file, so the number of prompt tokens is known exactly and a shared prefix (system prompt,
    passages) is reused from the KV cache."""

    def __init__(self, model_path: Path, *, threads: int, n_ctx: int, max_waiting: int, cache_mb: int = 256) -> None:
        require_model(model_path)
        from llama_cpp import Llama

        self._llama = Llama(
            str(model_path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False
        )
        if cache_mb > 0:
            self._llama.set_cache(compact_ram_cache(cache_mb * 1024 * 1024))
        self._format = chat_formatter(self._llama)
        self._stop = [self._format.eos_token] if self._format.eos_token else []
        self._yes = first_token_ids(self._llama, YES_WORDS)
        self._no = first_token_ids(self._llama, NO_WORDS)
        self._gate = Gate(max_waiting)
        self.name = model_path.stem
        self.n_ctx = n_ctx

    def render(self, messages: Sequence[Message]) -> str:
        return str(self._format(messages=list(messages)).prompt)

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def yes_probability(self, messages: Sequence[Message]) -> float:
        """Messages that extend the last prompt (its passages, the answer just written) cost only
        their new tokens: the prefix is still in the KV cache."""
        tokens = self._llama.tokenize(self.render(messages).encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:
            raise RagError("verification prompt longer than the model's context")
        self._gate.enter()
        try:
            return yes_no_probability(self._llama, tokens, self._yes, self._no)
        finally:
            self._gate.leave()

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        prompt = self.render(messages)
        tokens = self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = max(16, self.n_ctx - len(tokens))
        usage.prompt_tokens = len(tokens)
        self._gate.enter()
        try:
            started = time.perf_counter()
            pieces: Any = self._llama.create_completion(
                tokens,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                repeat_penalty=1.05,
                stop=self._stop,
                stream=True,
            )
            try:
                for piece in pieces:
                    choice = piece["choices"][0]
                    text = choice["text"]
                    if not text and choice.get("finish_reason"):
                        continue  # the closing chunk has no token; run on to the end, where the KV state is saved
                    if usage.first_token_s is None:
                        usage.first_token_s = time.perf_counter() - started
                    usage.completion_tokens += 1
                    if text:
                        yield text
            finally:
                pieces.close()
        finally:
            self._gate.leave()


class OpenAICompatGenerator:
    """Any OpenAI-compatible chat server (llama.cpp's server, vLLM, a hosted model) at RAG_LLM_URL."""

    def __init__(
        self, base_url: str, *, model: str, api_key: str | None, max_waiting: int, client: httpx.Client | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=120)
        self._model = model
        self._gate = Gate(max_waiting)
        self.name = model

    def yes_probability(self, messages: Sequence[Message]) -> float:
        body = {
            "model": self._model,
            "messages": list(messages),
            "max_tokens": 2,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 10,
        }
        self._gate.enter()
        try:
            r = self._client.post("/v1/chat/completions", json=body)
        except httpx.HTTPError as exc:
            raise BackendUnavailable("LLM server unreachable") from exc
        finally:
            self._gate.leave()
        if r.status_code != 200:
            raise BackendUnavailable(f"LLM server answered {r.status_code}")
        return yes_probability_of_choice(r.json()["choices"][0])

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": list(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        self._gate.enter()
        try:
            started = time.perf_counter()
            try:
                with self._client.stream("POST", "/v1/chat/completions", json=body) as response:
                    if response.status_code != 200:
                        raise BackendUnavailable(f"LLM server answered {response.status_code}")
                    for line in response.iter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        event = json.loads(data)
                        if event.get("usage"):
                            usage.prompt_tokens = int(event["usage"].get("prompt_tokens", 0))
                            usage.completion_tokens = int(event["usage"].get("completion_tokens", 0))
                        for choice in event.get("choices", []):
                            text = (choice.get("delta") or {}).get("content") or ""
                            if text:
                                if usage.first_token_s is None:
                                    usage.first_token_s = time.perf_counter() - started
                                yield text
            except httpx.HTTPError as exc:
                raise BackendUnavailable("LLM server unreachable") from exc
        finally:
            self._gate.leave()
