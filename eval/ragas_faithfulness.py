"""ragas' ``Faithfulness`` on our judge model, reported beside our own claim-level check.

ragas asks the model for JSON twice per answer (the statements, then one verdict per statement).
A small model sometimes returns JSON that does not fit the schema, or no statements; ragas then
raises or returns NaN. Each outcome is kept per question (``status``) and counted in the report,
never folded into the score, so a QA team sees how much of the figure is real.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "nan", "error"]


@dataclass(frozen=True)
class RagasScore:
    value: float | None
    status: Status
    detail: str = ""


class RagasFaithfulness:
    """Share of the answer's statements (as ragas extracts them) that the passages support."""

    name = "ragas_faithfulness"

    def __init__(self, llm: Any) -> None:
        from ragas.metrics.collections import Faithfulness

        self._metric = Faithfulness(llm=llm)

    def score(self, question: str, answer: str, contexts: Sequence[str]) -> RagasScore:
        if not answer.strip() or not contexts:
            return RagasScore(None, "nan", "no answer or no passages")
        try:
            result = asyncio.run(
                self._metric.ascore(user_input=question, response=answer, retrieved_contexts=list(contexts))
            )
        except Exception as exc:  # parse/validation failures of the judge's JSON, server errors
            return RagasScore(None, "error", f"{type(exc).__name__}: {str(exc)[:300]}")
        value = result.value
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return RagasScore(None, "nan", "ragas returned NaN (no statements or no verdicts)")
        return RagasScore(float(value), "ok")
