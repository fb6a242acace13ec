"""The judge: decides whether a claim is supported by a context. Built here and nowhere else.

Default: the local GGUF (same weights as the service, its own llama.cpp instance). It is asked a
YES/NO question and we read the probabilities of its first token instead of parsing text, so a
small model never "fails to follow the format" and every verdict has a score that a threshold can
be tuned on. The context comes first in the prompt, so the claims of one answer reuse its KV prefix.
Any OpenAI-compatible server can judge instead (``--judge-url``), for teams with a bigger model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from rag_service.model.llm import (
    NO_WORDS,
    YES_WORDS,
    YesNo,
    compact_ram_cache,
    first_token_ids,
    yes_no_probability,
    yes_probability_of_choice,
)

SYSTEM = "You are a strict fact checker. You answer only YES or NO."
USER = (
    "Context:\n{context}\n\nStatement: {claim}\n\n"
    "Is everything in the statement (every number, name, date and condition) supported by the context? "
    "Answer YES or NO."
)


@dataclass(frozen=True)
class Verdict:
    claim: str
    supported: bool
    score: float  # probability the judge gives to "supported"
    reason: str = ""


class Judge(Protocol):
    name: str

    def support(self, context: str, claim: str) -> float:
        """Probability (0..1) that ``claim`` is supported by ``context``."""
        ...


def verdicts(judge: Judge, context: str, claims: Sequence[str], *, threshold: float = 0.5) -> list[Verdict]:
    out = []
    for claim in claims:
        p = judge.support(context, claim)
        out.append(Verdict(claim, p >= threshold, p, f"P(supported)={p:.2f}"))
    return out


class LlamaJudge:
    """Scores with one forward pass per claim; reuses the longest prompt prefix already evaluated."""

    def __init__(self, model_path: Path, *, threads: int, n_ctx: int = 4096) -> None:
        from llama_cpp import Llama

        from rag_service.model.llm import chat_formatter

        self._llama = Llama(str(model_path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, verbose=False)
        # ragas' prompts share long instructions across questions; the claim checks in between would
        # evict them from the KV cache, so completions keep their states here
        self._llama.set_cache(compact_ram_cache(512 << 20))
        self._format = chat_formatter(self._llama)
        self._yes = first_token_ids(self._llama, YES_WORDS)
        self._no = first_token_ids(self._llama, NO_WORDS)
        self._lock = threading.Lock()
        self.n_ctx = n_ctx
        self.name = f"llama:{model_path.name}"

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        """An OpenAI chat completion on the judge's own weights (for ragas, see ``ragas_llm``);
        ``response_format`` json_object becomes a llama.cpp JSON grammar."""
        allowed = ("messages", "max_tokens", "temperature", "top_p", "stop", "seed", "response_format")
        args = {k: body[k] for k in allowed if body.get(k) is not None}
        args.setdefault("max_tokens", 512)
        args.setdefault("temperature", 0.0)
        with self._lock:
            return dict(self._llama.create_chat_completion(**args))  # type: ignore[arg-type]

    def support(self, context: str, claim: str) -> float:
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": USER.format(context=context, claim=claim)},
        ]
        prompt = self._format(messages=messages).prompt
        tokens = self._llama.tokenize(prompt.encode(), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:  # keep the claim and the question; cut the context's tail
            keep = self.n_ctx - 1
            tokens = tokens[: keep // 2] + tokens[-(keep - keep // 2) :]
        with self._lock:
            return yes_no_probability(self._llama, tokens, self._yes, self._no)


class OpenAICompatJudge:
    """A judge behind any OpenAI-compatible chat endpoint; uses top logprobs when the server gives
    them, else the first word of the reply (then scores are 0 or 1)."""

    def __init__(
        self, url: str, *, model: str = "default", api_key: str | None = None, client: httpx.Client | None = None
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = client or httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=120)
        self._model = model
        self.url, self.api_key, self.model = url.rstrip("/"), api_key, model
        self.name = f"http:{url}"

    def support(self, context: str, claim: str) -> float:
        body: dict[str, Any] = {
            "model": self._model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": USER.format(context=context, claim=claim)},
            ],
            "max_tokens": 2,
            "temperature": 0,
            "logprobs": True,
            "top_logprobs": 10,
        }
        r = self._client.post("/v1/chat/completions", json=body)
        r.raise_for_status()
        return yes_probability_of_choice(r.json()["choices"][0])


class GuardJudge:
    """The service's hallucination guard as a judge: its prompt on the service's generator, so
    ``rag-eval judge-check --judge guard`` measures exactly the check that runs in production."""

    def __init__(self, scorer: YesNo, name: str) -> None:
        self._scorer = scorer
        self.name = f"guard:{name}"

    def support(self, context: str, claim: str) -> float:
        from rag_service.answer.check import judge_messages

        return self._scorer.yes_probability(judge_messages([context], claim))


def build_judge(
    *, url: str | None, model_path: Path | None, threads: int, api_key: str | None = None, kind: str = "judge"
) -> Judge:
    """``kind`` "judge": the eval judge's own prompt; "guard": the service's guard prompt."""
    if kind == "guard":
        from rag_service.model.llm import LlamaGenerator, OpenAICompatGenerator

        scorer: YesNo
        if url:
            scorer = OpenAICompatGenerator(url, model="default", api_key=api_key, max_waiting=0)
        else:
            _require(model_path)
            assert model_path is not None
            scorer = LlamaGenerator(model_path, threads=threads, n_ctx=4096, max_waiting=0, cache_mb=0)
        return GuardJudge(scorer, url or (model_path.name if model_path else "model"))
    if url:
        return OpenAICompatJudge(url, api_key=api_key)
    _require(model_path)
    assert model_path is not None
    return LlamaJudge(model_path, threads=threads)


def _require(model_path: Path | None) -> None:
    if model_path is None or not model_path.is_file():
        from rag_service.errors import ConfigError

        raise ConfigError(f"no judge model at {model_path}; run `make models` or pass --judge-url")


class _InProcessChat(httpx.AsyncBaseTransport):
    """Answers ``POST .../chat/completions`` in process, so the OpenAI client that ragas drives
    reaches the local judge without a server or a port."""

    def __init__(self, complete: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self._complete = complete

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return httpx.Response(404, json={"error": {"message": f"no route {request.url.path}"}})
        body = json.loads(await request.aread())
        try:
            return httpx.Response(200, json=self._complete(body))
        except ValueError as exc:  # e.g. prompt longer than the context window
            return httpx.Response(400, json={"error": {"message": str(exc), "type": "invalid_request_error"}})


def ragas_llm(judge: Judge, *, max_tokens: int = 512) -> Any:
    """The LLM that ragas' metrics call, on the same model as ``judge``: the local GGUF in process,
    or the judge's OpenAI-compatible endpoint. Temperature 0, so reruns agree."""
    from openai import AsyncOpenAI
    from ragas.llms.base import llm_factory

    if isinstance(judge, OpenAICompatJudge):
        client = AsyncOpenAI(base_url=judge.url + "/v1", api_key=judge.api_key or "none", max_retries=2)
        model = judge.model
    elif hasattr(judge, "chat"):
        transport = _InProcessChat(judge.chat)
        client = AsyncOpenAI(
            base_url="http://judge.local/v1",
            api_key="none",
            max_retries=0,
            http_client=httpx.AsyncClient(transport=transport, timeout=None),
        )
        model = "local"
    else:
        raise TypeError(f"judge {judge.name} cannot drive ragas")
    return llm_factory(model, provider="openai", client=client, temperature=0.0, max_tokens=max_tokens)
