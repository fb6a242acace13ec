"""What the compiled llama.cpp library was built for, and whether this CPU can run it.

llama.cpp reports the instruction sets compiled into its CPU backend
(``llama_print_system_info``: ``CPU : SSE3 = 1 | AVX2 = 1 | … | AMX_INT8 = 1 | …``). A build that
uses an instruction the CPU lacks, or one the hypervisor does not enable (AMX tile state), dies by a
signal at the first prompt, which no Python code can catch. The Makefile builds for a named baseline
(``LLAMA_CMAKE_ARGS``); these helpers let ``rag-admin doctor``, the start-up self-check and the tests
say what the build holds and what this machine offers.
"""

from __future__ import annotations

import re
from pathlib import Path

# llama.cpp's name of a compiled instruction set -> the /proc/cpuinfo flag that announces it
CPUINFO_FLAG: dict[str, str] = {
    "SSE3": "pni",
    "SSSE3": "ssse3",
    "AVX": "avx",
    "AVX_VNNI": "avx_vnni",
    "AVX2": "avx2",
    "F16C": "f16c",
    "FMA": "fma",
    "BMI2": "bmi2",
    "AVX512": "avx512f",
    "AVX512_VBMI": "avx512vbmi",
    "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16",
    "AMX_INT8": "amx_int8",
    "AMX_BF16": "amx_bf16",
}
# What the Makefile's portable x86-64 build compiles in (x86-64-v3): nothing more.
PORTABLE_X86 = frozenset({"SSE3", "SSSE3", "AVX", "AVX2", "F16C", "FMA", "BMI2"})
# The flags a reader of an error message needs to see (the rest of /proc/cpuinfo is noise).
_RELEVANT = re.compile(r"^(avx|amx|fma|f16c|bmi2|sse4)")


def system_info() -> str:
    """llama.cpp's own one-line description of the compiled library (loads it, runs no kernel)."""
    import llama_cpp

    raw = llama_cpp.llama_print_system_info()
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def compiled_features(info: str) -> set[str]:
    """Instruction sets marked ``= 1`` in the CPU section of ``system_info()``."""
    return {name for name, value in re.findall(r"([A-Z][A-Z0-9_]*) = (\d+)", info) if value != "0"} & set(CPUINFO_FLAG)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags as the kernel lists them (empty where there is no /proc/cpuinfo)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def relevant_flags(flags: set[str]) -> str:
    return " ".join(sorted(f for f in flags if _RELEVANT.match(f))) or "unknown"


def unsupported(features: set[str], flags: set[str]) -> list[str]:
    """Compiled instruction sets this CPU does not announce (empty when the CPU flags are unknown)."""
    if not flags:
        return []
    return sorted(f for f in features if CPUINFO_FLAG[f] not in flags)
