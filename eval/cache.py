"""How the answer cache matches questions, measured on knowledge-base sets (``rag-eval cache``).

For every set: its docs in a fresh temporary index, the service's own ``AnswerCache`` on a fresh
database. Two measurements, no model needed (what the cache decides is only whether two questions
share an answer):

- **false hits**: the set's questions asked one after another, each answered (a stand-in answer
  citing its gold document) and cached; a question that gets the cached answer of an earlier one
  whose right answer differs (another gold answer, other key facts or documents) is a false hit.
  Every pair of questions of a set is compared this way.
- **hit rate on repeats**: a stream of asks drawn from the questions with a Zipf distribution (a few
  questions are asked often, as in support traffic), each ask either the question as first written
  or a variant a customer would type: lower case, no punctuation, a greeting before it, thanks
  after it, one typo, two words swapped. Hit rate = asks answered from the cache / asks whose
  question was asked before (the first ask of a question cannot hit). False hits in the stream are
  counted too.
"""

from __future__ import annotations

import random
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag_service.answer.cache import AnswerCache
from rag_service.answer.types import AnswerResult, Citation
from rag_service.config import Settings
from rag_service.db import make_engine, upgrade
from rag_service.index.embeddings import Embedder
from rag_service.index.store import Store

from .dataset import Question
from .kbset import load_kb_set

GREETING = {"de": ("Hallo, ", "Hi, ", "Guten Tag, "), "en": ("Hello, ", "Hi, ", "Good morning, ")}
THANKS = {"de": (" Danke!", " Vielen Dank."), "en": (" Thanks!", " Thank you.")}
VARIANTS = ("verbatim", "lower", "no_punctuation", "greeting", "thanks", "typo", "word_order")


def variant(question: str, language: str, kind: str, rng: random.Random) -> str:
    """A way the same question is typed again."""
    lang = language if language in GREETING else "en"
    if kind == "lower":
        return question.lower()
    if kind == "no_punctuation":
        return re.sub(r"[?!.,;:]", "", question)
    if kind == "greeting":
        return rng.choice(GREETING[lang]) + question[:1].lower() + question[1:]
    if kind == "thanks":
        return question + rng.choice(THANKS[lang])
    words = question.split()
    if kind == "typo":
        long = [i for i, w in enumerate(words) if len(w) > 4 and w.isalpha()]
        if long:
            i = rng.choice(long)
            w = words[i]
            j = rng.randrange(1, len(w) - 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
        return " ".join(words)
    if kind == "word_order" and len(words) > 3:
        i = rng.randrange(len(words) - 2)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    return question


def _same_answer(a: Question, b: Question) -> bool:
    if a.id == b.id:
        return True
    return (
        a.ground_truth == b.ground_truth
        and sorted(a.key_facts or []) == sorted(b.key_facts or [])
        and sorted(a.doc_ids or []) == sorted(b.doc_ids or [])
    )


def _result(q: Question, store: Store, language: str) -> AnswerResult:
    """A stand-in answer for ``q``: its id as text, citing its gold document (or any document)."""
    docs = [d for d in (q.doc_ids or []) if store.document(d) is not None] or [store.documents()[0].doc_id]
    cited = [Citation(1, docs[0], docs[0], docs[0], f"{docs[0]}#0", "", None)]
    return AnswerResult(q.id, "", "answer", None, q.id, language, cited)


def measure_set(
    root: Path, embedder: Embedder, settings: Settings, *, split: str | None, asks: int, seed: int
) -> dict[str, Any]:
    from ingest.pipeline import ingest_paths

    kb_set = load_kb_set(root)
    questions = [q for q in kb_set.questions if split is None or q.extra["split"] == split]
    by_id = {q.id: q for q in questions}
    with tempfile.TemporaryDirectory(prefix="rag-eval-cache-") as tmp:
        local = settings.model_copy(update={"data_dir": Path(tmp) / "data", "database_url": f"sqlite:///{tmp}/app.db"})
        store = Store(local, embedder)
        try:
            ingest_paths(store, [kb_set.docs], settings=local)
            engine = make_engine(local.db_url)
            upgrade(engine)

            def fresh_cache() -> AnswerCache:
                with engine.begin() as c:
                    c.exec_driver_sql("DELETE FROM answer_cache")
                return AnswerCache(
                    engine, store, similarity=local.cache_similarity, ttl_hours=local.cache_ttl_hours, entries=10**6
                )

            cache = fresh_cache()
            pairs_false: list[dict[str, str]] = []
            for q in questions:
                got = cache.lookup(q.question, q.language or "de", "public")
                if got is not None:
                    earlier = by_id[got.answer]
                    if not _same_answer(earlier, q):
                        pairs_false.append({"asked": q.question, "got_answer_of": earlier.question})
                else:
                    cache.put(q.question, _result(q, store, q.language or "de"), "public")

            cache = fresh_cache()
            rng = random.Random(seed)
            weights = [1 / (rank + 1) for rank in range(len(questions))]
            order = questions[:]
            rng.shuffle(order)
            seen: set[str] = set()
            repeats = hits = false = 0
            per_kind: dict[str, list[int]] = {k: [0, 0] for k in VARIANTS}
            for q in rng.choices(order, weights=weights, k=asks):
                kind = "verbatim" if q.id not in seen else rng.choice(VARIANTS)
                text = variant(q.question, q.language or "de", kind, rng)
                got = cache.lookup(text, q.language or "de", "public")
                if q.id in seen:
                    repeats += 1
                    per_kind[kind][1] += 1
                if got is not None:
                    if _same_answer(by_id[got.answer], q):
                        hits += q.id in seen
                        per_kind[kind][0] += q.id in seen
                    else:
                        false += 1
                else:
                    cache.put(text, _result(q, store, q.language or "de"), "public")
                seen.add(q.id)
        finally:
            store.close()
    return {
        "set": kb_set.name,
        "questions": len(questions),
        "pairs": len(questions) * (len(questions) - 1) // 2,
        "false_hits": len(pairs_false),
        "false_hit_examples": pairs_false[:10],
        "asks": asks,
        "repeats": repeats,
        "hits": hits,
        "hit_rate": hits / repeats if repeats else None,
        "stream_false_hits": false,
        "hit_rate_by_variant": {k: (h / n if n else None) for k, (h, n) in per_kind.items()},
    }


def measure(
    roots: Sequence[Path], embedder: Embedder, settings: Settings, *, split: str | None, asks: int, seed: int
) -> list[dict[str, Any]]:
    return [measure_set(r, embedder, settings, split=split, asks=asks, seed=seed) for r in roots]
