"""The KV-state cache keeps to its size: llama-cpp-python's own counts only the KV bytes and holds
a full logits-buffer copy per state (311 MB each for the default model)."""

from __future__ import annotations

import numpy as np
from llama_cpp.llama import LlamaState

from rag_service.model.llm import compact_ram_cache


def _state(n: int) -> LlamaState:
    return LlamaState(
        input_ids=np.arange(64, dtype=np.intc) + n,
        scores=np.ones((512, 2000), dtype=np.single),  # 4 MB: the logits buffer a state copies
        n_tokens=64,
        llama_state=b"\0" * 10_000,
        llama_state_size=10_000,
        seed=0,
    )


def test_states_are_stored_without_the_logits_buffer_and_counted_in_full() -> None:
    cache = compact_ram_cache(100_000)
    cache[tuple(range(64))] = _state(0)
    stored = cache[tuple(range(64))]
    assert stored.scores.shape == (1, 2000)
    assert cache.cache_size == 10_000 + 2000 * 4 + 64 * np.dtype(np.intc).itemsize
    for n in range(1, 10):  # each ~18 KB: older states are evicted to stay under 100 KB
        cache[tuple(range(n, 64 + n))] = _state(n)
    assert cache.cache_size <= 100_000 and len(cache.cache_state) == 5
