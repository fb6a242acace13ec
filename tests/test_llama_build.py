"""The compiled llama.cpp library is the portable build (no native tuning, no AMX), its CPU
diagnostics read the right flags, and `rag-admin doctor` / `rag-serve` refuse a model that cannot run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag_service.model.llm_build import PORTABLE_X86, compiled_features, cpu_flags, system_info, unsupported
from rag_service.model.model_files import tiny_model_path

BIN = Path(sys.executable).parent
NATIVE_SAPPHIRE_RAPIDS = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 |"
)


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the portable baseline is defined for x86-64")
def test_the_installed_library_is_the_portable_build() -> None:
    info = system_info()
    features = compiled_features(info)
    assert features == set(PORTABLE_X86), f"not the portable build (see LLAMA_CMAKE_ARGS in the Makefile): {info}"
    assert "AMX" not in info and "AVX512" not in info
    assert unsupported(features, cpu_flags()) == []  # and this machine can run it


def test_native_features_and_missing_instructions_are_recognised(tmp_path: Path) -> None:
    features = compiled_features(NATIVE_SAPPHIRE_RAPIDS)
    assert {"AMX_INT8", "AVX512_BF16"} <= features and "OPENMP" not in features
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 pni ssse3 avx avx2 fma f16c bmi2\n")
    assert unsupported(features, cpu_flags(cpuinfo)) == [
        "AMX_INT8",
        "AVX512",
        "AVX512_BF16",
        "AVX512_VBMI",
        "AVX512_VNNI",
    ]
    assert unsupported(set(PORTABLE_X86), cpu_flags(cpuinfo)) == []
    assert unsupported(features, cpu_flags(tmp_path / "missing")) == []  # unknown CPU: no verdict


def _run(cmd: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout)


def test_doctor_passes_with_a_model_that_runs(tmp_path: Path) -> None:
    r = _run(
        [str(BIN / "rag-admin"), "doctor"],
        {"RAG_LLM_MODEL_PATH": str(tiny_model_path()), "RAG_DATA_DIR": str(tmp_path)},
    )
    assert r.returncode == 0, r.stderr
    assert "llama.cpp: CPU : " in r.stdout and "ok: " in r.stdout and "generated" in r.stdout


def test_doctor_and_serve_refuse_a_model_that_cannot_load(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + os.urandom(4096))
    env = {"RAG_LLM_MODEL_PATH": str(broken), "RAG_DATA_DIR": str(tmp_path / "data")}
    doctor = _run([str(BIN / "rag-admin"), "doctor"], env)
    assert doctor.returncode == 1
    assert "Error: the model broken.gguf could not start: ValueError: Failed to load model" in doctor.stderr

    began = time.monotonic()
    serve = _run([str(BIN / "rag-serve"), "--port", "8765"], env)
    assert serve.returncode == 1 and time.monotonic() - began < 60
    assert "Error: the model broken.gguf could not start" in serve.stderr
    assert "Uvicorn running" not in serve.stderr  # it never served
