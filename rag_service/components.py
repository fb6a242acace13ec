"""The long-lived objects of a running service, loaded once (in the app lifespan or a CLI) and
passed to whoever needs them; tests build them from fakes instead."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from .access import KeyStore
from .answer.cache import AnswerCache
from .answer.pipeline import Pipeline
from .answer.route import IntentModel, Router
from .config import Settings
from .db import make_engine, upgrade
from .desk.alerts import Alerts
from .desk.conversations import ConversationStore
from .desk.drafts import Drafter
from .desk.learning import Learning
from .desk.privacy import Privacy
from .desk.support import SupportStore
from .desk.triage import Triage, load_taxonomy
from .desk.webhooks import WebhookNotifier
from .index.embeddings import Embedder, build_embedder
from .index.retrieval import Retriever
from .index.store import Store
from .model.llm import Generator, LlamaGenerator, OpenAICompatGenerator, YesNo, require_model
from .model.llm_worker import WorkerGenerator, WorkerSpec
from .model.model_files import DEFAULT_GENERATOR, model_path
from .pii import redactor
from .quota import Quota

log = logging.getLogger(__name__)


def llama_spec(settings: Settings) -> WorkerSpec:
    """The in-process model as the worker process builds it (also what the self-check loads)."""
    path = require_model(settings.llm_model_path or model_path(settings.models_dir, DEFAULT_GENERATOR))
    return WorkerSpec(
        factory="rag_service.model.llm:LlamaGenerator",
        kwargs={
            "model_path": path,
            "threads": settings.threads,
            "n_ctx": settings.llm_context,
            "max_waiting": 0,  # the parent's gate queues; the worker serves one request at a time
            "cache_mb": settings.llm_cache_mb,
        },
        label=path.name,
        start_timeout_s=settings.llm_start_timeout_s,
        timeout_s=settings.llm_timeout_s,
    )


def build_generator(settings: Settings) -> Generator:
    if settings.llm_url:
        return OpenAICompatGenerator(
            settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key, max_waiting=settings.max_queue
        )
    spec = llama_spec(settings)
    if settings.llm_worker:
        return WorkerGenerator(spec, max_waiting=settings.max_queue)
    return LlamaGenerator(
        spec.kwargs["model_path"],
        threads=settings.threads,
        n_ctx=settings.llm_context,
        max_waiting=settings.max_queue,
        cache_mb=settings.llm_cache_mb,
    )


def build_judge(settings: Settings, generator: Generator) -> YesNo | None:
    """The judged check asks the generating model itself; None when it is off or cannot score yes/no."""
    if not (settings.guard and settings.guard_judge):
        return None
    if not isinstance(generator, YesNo):
        log.warning("generator %s cannot score yes/no; the guard runs exact checks only", generator.name)
        return None
    return generator


@dataclass
class Components:
    settings: Settings
    embedder: Embedder
    store: Store
    generator: Generator
    conversations: ConversationStore
    support: SupportStore
    pipeline: Pipeline
    engine: Engine
    drafter: Drafter
    keys: KeyStore
    privacy: Privacy
    quota: Quota
    triage: Triage
    learning: Learning
    alerts: Alerts
    notifier: WebhookNotifier | None = None

    @classmethod
    def build(cls, settings: Settings, *, embedder: Embedder, generator: Generator) -> Components:
        """Wire the parts; tests call this with fakes for the embedder or the generator."""
        store = Store(settings, embedder)
        retriever = Retriever.configured(store, settings)
        engine = make_engine(settings.db_url)
        upgrade(engine)
        redact = None if settings.keep_raw_transcripts else redactor().redact
        conversations = ConversationStore(engine, redact=redact)
        support = SupportStore(engine, redact=redact)
        notifier = None
        if settings.webhook_url and settings.webhook_secret:
            notifier = WebhookNotifier(
                settings.webhook_url, settings.webhook_secret, support=support, retries=settings.webhook_retries
            )
        router = Router(embedder, IntentModel.load())
        cache = (
            AnswerCache(
                engine,
                store,
                similarity=settings.cache_similarity,
                ttl_hours=settings.cache_ttl_hours,
                entries=settings.cache_entries,
                personal=lambda text: redactor().redact(text) != text,
            )
            if settings.answer_cache
            else None
        )
        pipeline = Pipeline(
            settings,
            retriever,
            generator,
            conversations,
            judge=build_judge(settings, generator),
            support=support,
            notifier=notifier,
            router=router,
            cache=cache,
        )
        drafter = Drafter(pipeline, support, conversations, router)
        triage = Triage(load_taxonomy(settings.triage_taxonomy), embedder, retriever, router)
        keys = KeyStore(engine)
        privacy = Privacy(engine, conversations, support, keys)
        learning = Learning(engine, embedder, redact=redactor().redact)
        alerts = Alerts(
            engine,
            title_of=lambda doc_id: record.title if (record := store.document(doc_id)) else None,
            notify=notifier.send if notifier else None,
        )
        return cls(
            settings,
            embedder,
            store,
            generator,
            conversations,
            support,
            pipeline,
            engine,
            drafter,
            keys,
            privacy,
            Quota(
                customer=settings.rate_limit_customer,
                staff=settings.rate_limit_staff,
                widget=settings.rate_limit_widget,
                storage_uri=settings.rate_limit_storage,
                streams=settings.max_streams_per_key,
                engine=engine,
            ),
            triage,
            learning,
            alerts,
            notifier,
        )

    def forget_answers(self, doc_id: str) -> None:
        """Cached answers citing ``doc_id`` go with it (a stale one is never served either way:
        each hit checks its documents' versions)."""
        if self.pipeline.cache is not None:
            self.pipeline.cache.forget(doc_id)

    @classmethod
    def load(cls, settings: Settings) -> Components:
        components = cls.build(settings, embedder=build_embedder(settings), generator=build_generator(settings))
        store = components.store
        log.info(
            "index %s: %d documents, %d chunks", store.collection_name, len(store.documents()), store.chunk_count()
        )
        return components

    def close(self) -> None:
        close = getattr(self.generator, "close", None)
        if callable(close):  # the model worker process (also behind a wrapper)
            close()
        if self.notifier is not None:
            self.notifier.close()
        self.store.close()
        self.engine.dispose()
