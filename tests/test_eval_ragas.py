"""ragas' Faithfulness through our judge adapter: the OpenAI client ragas drives reaches the judge
in process, and every NaN or parse failure is counted instead of scored."""

from __future__ import annotations

import json

from eval.judge import ragas_llm
from eval.ragas_faithfulness import RagasFaithfulness
from eval.runner import aggregate, judged

from .fakes import ScriptedChat

CONTEXTS = ["Eine Ersatz-SIM-Karte kostet 14,95 €.", "Die Lieferung dauert 2 bis 3 Werktage."]
STATEMENTS = json.dumps({"statements": ["Die Ersatz-SIM kostet 14,95 €.", "Die Lieferung dauert einen Tag."]})
VERDICTS = json.dumps(
    {
        "statements": [
            {"statement": "Die Ersatz-SIM kostet 14,95 €.", "reason": "stated", "verdict": 1},
            {"statement": "Die Lieferung dauert einen Tag.", "reason": "2-3 days", "verdict": 0},
        ]
    }
)


def _metric(chat: ScriptedChat) -> RagasFaithfulness:
    return RagasFaithfulness(ragas_llm(chat))  # type: ignore[arg-type]


def test_ragas_scores_through_the_in_process_judge() -> None:
    chat = ScriptedChat([STATEMENTS, VERDICTS])
    result = _metric(chat).score("Was kostet die SIM?", "Sie kostet 14,95 €. Lieferung in einem Tag.", CONTEXTS)
    assert result.status == "ok" and result.value == 0.5
    assert len(chat.bodies) == 2
    assert all(b["response_format"] == {"type": "json_object"} for b in chat.bodies)  # grammar-constrained JSON
    assert all(b["temperature"] == 0.0 for b in chat.bodies)
    assert "14,95" in chat.bodies[1]["messages"][-1]["content"]  # the passages reach the verdict step


def test_unparseable_json_is_an_error_and_no_statements_is_nan() -> None:
    broken = _metric(ScriptedChat([])).score("q?", "Sie kostet 14,95 €.", CONTEXTS)
    assert broken.status == "error" and broken.value is None and broken.detail
    empty = _metric(ScriptedChat([json.dumps({"statements": []})])).score("q?", "Sie kostet 14,95 €.", CONTEXTS)
    assert empty.status == "nan" and empty.value is None


def test_runner_counts_ragas_failures_and_averages_only_real_scores() -> None:
    response = {
        "answer": "Die Ersatz-SIM kostet 14,95 € [1]. Die Lieferung dauert einen Tag [2].",
        "contexts": CONTEXTS,
        "citations": [{"n": 1, "text": CONTEXTS[0]}, {"n": 2, "text": CONTEXTS[1]}],
    }
    good = judged(
        response, None, ScriptedChat([]), 0.5, question="q?", ragas=_metric(ScriptedChat([STATEMENTS, VERDICTS]))
    )
    bad = judged(response, None, ScriptedChat([]), 0.5, question="q?", ragas=_metric(ScriptedChat([])))
    assert good["ragas_faithfulness"] == 0.5 and good["ragas"]["status"] == "ok"
    assert bad["ragas_faithfulness"] is None and bad["ragas_errors"] == 1.0
    rows = [{"metrics": {k: v for k, v in j.items() if k.startswith("ragas_")}} for j in (good, bad)]
    summary = aggregate(rows)
    assert summary["metrics"]["ragas_faithfulness"] == 0.5  # the failure is not a 0
    assert summary["metrics"]["ragas_errors"] == 1.0 and summary["metrics"]["ragas_nan"] == 0.0
