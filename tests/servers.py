"""Real servers for tests, started on loopback and stopped afterwards: PostgreSQL (Debian's package;
``.ci/run`` installs it) and a Chroma server (the ``chroma`` CLI of the chromadb package). A test
whose server cannot be found is skipped with the reason; CI installs both."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    ready: Callable[[], bool], what: str, proc: subprocess.Popen[bytes] | None = None, timeout_s: float = 60
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if ready():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not start within {timeout_s:.0f} s")


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Terminate ``proc`` (and kill it if it does not end within ``timeout_s``)."""
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    candidates = [str(Path(found).resolve())] if found else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


@contextmanager
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL cluster on a free loopback port; yields its SQLAlchemy URL (database ``rag``)."""
    bindir = _postgres_bin()
    if bindir is None or not (bindir / "pg_ctl").exists():
        pytest.skip("needs PostgreSQL's initdb/pg_ctl (apt-get install postgresql; .ci/run installs it)")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        pytest.skip("PostgreSQL refuses to run as root and runuser is missing")
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    sockets.mkdir()
    if as_root:  # the server runs as the package's postgres user
        root.chmod(0o755)
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")

    def run(*cmd: str) -> None:
        argv = ["runuser", "-u", "postgres", "--", *cmd] if as_root else list(cmd)
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    port = free_port()
    run(str(bindir / "initdb"), "-D", str(data), "-U", "rag", "--auth=trust", "-E", "UTF8", "--no-locale")
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "rag", "rag")
        yield f"postgresql+psycopg://rag@127.0.0.1:{port}/rag"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """``chroma run`` over ``path`` on a free loopback port; yields its URL."""
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        pytest.skip("needs the chroma CLI of the chromadb package")
    port = free_port()
    log = (path.parent / "chroma-server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200, "chroma run", proc)
        yield url
    finally:
        stop(proc)
        log.close()


@contextmanager
def llama_server(model: Path, log_dir: Path) -> Iterator[str]:
    """llama.cpp's OpenAI-compatible server (llama-cpp-python's) with ``model`` on a free loopback
    port; yields its base URL (what ``RAG_LLM_URL`` takes)."""
    port = free_port()
    log = (log_dir / "llama-server.log").open("wb")
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/v1/models", timeout=2).status_code == 200, "llama_cpp.server", proc, 120)
        yield url
    finally:
        stop(proc)
        log.close()
