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
NPROC := $(shell nproc)

# llama.cpp is compiled for a named instruction-set baseline, never for the build machine
# (GGML_NATIVE=OFF): a natively built wheel crashes on a CPU that lacks, or a VM that does not
# enable, what the build machine had (AMX tiles: SIGSEGV at the first prompt). x86-64: AVX2 + FMA +
# F16C + BMI2 (x86-64-v3, every x86 server CPU since ~2015); no AVX-512, no AMX. Override for a
# machine you control, e.g. `make install LLAMA_CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"`.
LLAMA_VERSION := $(shell sed -n 's/^llama[-_]cpp[-_]python==//p' requirements.lock)
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_BMI2=ON \
	-DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF \
	-DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
	-DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF
endif
LLAMA_HASH := $(shell echo '$(LLAMA_VERSION) $(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-16)
# The built wheel is kept outside the checkout, keyed on version + flags: a new clone or a rebuilt
# venv reuses it, a changed flag builds a new one. (pip's own wheel cache ignores CMAKE_ARGS.)
LLAMA_WHEELS ?= $(HOME)/.cache/rag_service/llama-cpp-python-$(LLAMA_HASH)
# The venv is rebuilt when the lock, the project metadata or the llama.cpp build flags change.
LOCK_HASH := $(shell (cat requirements.lock pyproject.toml; echo '$(LLAMA_HASH)') | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(LOCK_HASH)

.PHONY: install models index run serve test test-slow lint bench clean-venv

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	# torch first, the local CPU build: anything that pulls torch later must find it installed
	$(BIN)/pip install --quiet torch==2.13.0
	# llama-cpp-python compiles here with the flags above (~6-10 min once per flag set)
	test -n "$$(ls $(LLAMA_WHEELS)/*.whl 2>/dev/null)" || { rm -rf $(LLAMA_WHEELS).tmp && \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$(NPROC) $(BIN)/pip wheel --quiet \
		--no-deps --no-cache-dir --no-binary llama-cpp-python -w $(LLAMA_WHEELS).tmp \
		llama-cpp-python==$(LLAMA_VERSION) && mv $(LLAMA_WHEELS).tmp $(LLAMA_WHEELS); }
	$(BIN)/pip install --quiet --no-deps --force-reinstall $(LLAMA_WHEELS)/*.whl
	$(BIN)/pip install --quiet --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	rm -f $(VENV)/.installed-*
	touch $@

models: install
	$(BIN)/rag-admin models assemble

index: models
	$(BIN)/rag-ingest --prune kb_docs

run: index
	@echo "admin API key (send as Authorization: Bearer <key>; rotated on every make run):"
	@$(BIN)/rag-admin keys create --role admin --name "make run" --rotate
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

bench: index
	$(BIN)/python bench/table.py

clean-venv:
	rm -rf $(VENV)
