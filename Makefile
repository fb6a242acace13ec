# The two commands a new user needs: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export RAG_DATA_DIR ?= data
export DO_NOT_TRACK := true
export RAGAS_DO_NOT_TRACK := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# The venv is rebuilt only when the lock or the project metadata change.
LOCK_HASH := $(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(LOCK_HASH)
NPROC := $(shell nproc)

.PHONY: install models index run serve test test-slow lint bench clean-venv

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first, the local CPU build: anything that pulls torch later must find it installed
	$(BIN)/pip install --quiet torch==2.13.0
	# llama-cpp-python compiles here (~8-10 min once; pip caches the wheel afterwards)
	CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) $(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

models: install
	$(BIN)/rag-admin models assemble

index: models
	$(BIN)/rag-ingest --prune kb_docs

run: index
	$(BIN)/rag-serve

serve: install
	$(BIN)/rag-serve

test: install
	$(BIN)/pytest -q

test-slow: models
	$(BIN)/pytest -q -m slow

lint: install
	$(BIN)/ruff check rag_service ingest eval tests bench scripts
	$(BIN)/ruff format --check rag_service ingest eval tests bench scripts
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/ingest.py

clean-venv:
	rm -rf $(VENV)
