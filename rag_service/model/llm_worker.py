"""The in-process model, run in a supervised child process.

llama.cpp is native code. A crash in it (SIGSEGV, or SIGILL on a CPU the build does not fit) kills
the process it runs in, and a hang blocks it; neither can be caught in Python. So the API process
never loads the model itself: ``WorkerGenerator`` starts a Python child (``main`` below) with one
end of a socket pair, the child builds the generator named by ``WorkerSpec.factory`` (for the service:
``LlamaGenerator``), proves it by generating a few tokens (the self-check), and then serves ``stream``
and ``yes_probability`` requests one at a time. The child keeps the ``Llama`` object, so a prompt that
shares a prefix with the previous one still costs only its new tokens.

When the child dies or stays silent longer than ``WorkerSpec.timeout_s`` during a request, that
request fails with ``ModelFailure`` (HTTP 503 with ``Retry-After``), the child is killed if it still
lives, and a new one is started in the background; the next request waits for it in the same queue
(``Gate``) and is answered. A child that cannot start raises ``ModelStartError`` whose message is the
diagnosis in one line (which model, which signal, the CPU flags that matter, the fix).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from ..errors import BackendUnavailable, RagError
from .llm import Gate, Message, Usage
from .llm_build import PORTABLE_X86, compiled_features, cpu_flags, relevant_flags, system_info, unsupported

log = logging.getLogger(__name__)

_CHILD = "import sys; from rag_service.model.llm_worker import main; main(sys.argv[1:])"
CHECK_PROMPT: list[Message] = [{"role": "user", "content": "Reply with the word OK."}]
REBUILD_HINT = (
    "rebuild llama-cpp-python with the portable flags: `rm -rf .venv ~/.cache/rag_service && make install` "
    "(README, 'Portable llama.cpp build')"
)


@dataclass(frozen=True)
class WorkerSpec:
    """What the child builds: ``factory`` is ``"module:callable"``, called with ``kwargs`` (picklable),
    returning an object with ``stream`` and, for the guard, ``yes_probability``."""

    factory: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    label: str = "model"  # the model's name in messages and logs
    start_timeout_s: float = 300.0  # loading plus the self-check
    timeout_s: float = 120.0  # longest silence of the child while it serves a request
    check_tokens: int = 4
    retry_after_s: int = 5


class ModelFailure(BackendUnavailable):
    """The model process crashed, hung or is being restarted; the request may be retried."""

    def __init__(self, message: str, *, retry_after_s: int = 5) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class ModelStartError(ModelFailure):
    """The model process could not load the model and generate; the message is the diagnosis."""


@dataclass(frozen=True)
class Started:
    """What the child reported once its self-check passed."""

    pid: int
    system_info: str
    load_s: float
    check_s: float
    reply: str


# ---------------------------------------------------------------------------------------- parent
class WorkerGenerator:
    """A ``Generator`` and ``YesNo`` whose model lives in a supervised child process."""

    def __init__(self, spec: WorkerSpec, *, max_waiting: int) -> None:
        self.name = spec.label
        self.spec = spec
        self._gate = Gate(max_waiting, retry_after_s=spec.retry_after_s)
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._swap = threading.Lock()  # guards _proc/_conn against close() from another thread
        self._closed = False
        self._last_start_failure: tuple[float, ModelStartError] | None = None
        self.started: Started | None = None
        self.restarts = 0
        self._start()

    # -- state
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def status(self) -> str:
        """``ready`` while a child serves; ``restarting`` after a failure; ``closed``."""
        if self._closed:
            return "closed"
        return "ready" if self._alive() else "restarting"

    def _alive(self) -> bool:
        return self._conn is not None and self._proc is not None and self._proc.poll() is None

    # -- Generator / YesNo
    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        self._gate.enter()
        try:
            self._ensure()
            started = time.perf_counter()
            self._send(("stream", list(messages), max_tokens, temperature))
            finished = False
            try:
                while True:
                    msg = self._recv()
                    if msg[0] == "piece":
                        _, text, usage.prompt_tokens, usage.completion_tokens = msg
                        if usage.first_token_s is None:
                            usage.first_token_s = time.perf_counter() - started
                        yield text
                    elif msg[0] == "done":
                        _, usage.prompt_tokens, usage.completion_tokens = msg
                        finished = True
                        return
                    else:
                        finished = True
                        raise _child_error(msg)
            finally:
                if not finished and self._conn is not None:
                    self._cancel()  # the caller closed the stream early (a client that left)
        finally:
            self._gate.leave()

    def yes_probability(self, messages: Sequence[Message]) -> float:
        self._gate.enter()
        try:
            self._ensure()
            self._send(("yes", list(messages)))
            msg = self._recv()
            if msg[0] != "value":
                raise _child_error(msg)
            return float(msg[1])
        finally:
            self._gate.leave()

    def close(self) -> None:
        self._closed = True
        self._stop_child(graceful=True)

    # -- the child's life
    def _start(self) -> None:
        """Start a child and wait for its self-check; raises ModelStartError with the diagnosis."""
        ours, theirs = socket.socketpair()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        began = time.perf_counter()
        try:
            conn.send(self.spec)
            msg = conn.recv() if conn.poll(self.spec.start_timeout_s) else None
        except (EOFError, OSError):
            msg = None
        if msg is None or msg[0] != "ready":
            _kill(proc)
            conn.close()
            phase = "loading the model and generating its first tokens"
            if msg is None and proc.returncode is not None and proc.returncode < 0:
                raise ModelStartError(diagnose(self.spec.label, -proc.returncode, phase))
            if msg is None and proc.returncode is None:
                why = f"it gave no sign of life within {self.spec.start_timeout_s:.0f} s"
            elif msg is None:
                why = f"it exited with status {proc.returncode}"
            else:
                why = str(msg[1])
            raise ModelStartError(f"the model {self.spec.label} could not start: {why}")
        info = msg[1]
        with self._swap:
            self._proc, self._conn = proc, conn
        self.started = Started(proc.pid, info["system_info"], info["load_s"], info["check_s"], info["reply"])
        log.info(
            "model worker %d ready: %s loaded in %.1f s, self-check %.1f s (%s)",
            proc.pid,
            self.spec.label,
            info["load_s"],
            info["check_s"],
            info["system_info"] or "no system info",
        )
        log.debug("model worker start took %.1f s", time.perf_counter() - began)

    def _ensure(self) -> None:
        """Called holding the gate: a live child, or a new one, or ModelStartError (throttled)."""
        if self._closed:
            raise ModelFailure("the model is shut down", retry_after_s=self.spec.retry_after_s)
        if self._alive():
            return
        if self._conn is not None:
            self._failure("the model worker exited between requests")
        failed = self._last_start_failure
        if failed is not None and time.monotonic() - failed[0] < self.spec.retry_after_s:
            raise failed[1]
        try:
            self._start()
        except ModelStartError as exc:
            exc.retry_after_s = self.spec.retry_after_s
            self._last_start_failure = (time.monotonic(), exc)
            log.error("%s", exc)
            raise
        self._last_start_failure = None
        self.restarts += 1

    def _restart_in_background(self) -> None:
        def run() -> None:
            with self._gate.hold(), contextlib.suppress(ModelFailure):  # logged; the next request retries
                self._ensure()

        threading.Thread(target=run, name="model-restart", daemon=True).start()

    def _failure(self, what: str) -> ModelFailure:
        """The child crashed or hung: kill what is left, log one line, restart in the background."""
        proc = self._proc
        self._stop_child(graceful=False)
        code = proc.returncode if proc is not None else None
        how = f"died by {_signal_name(-code)}" if code is not None and code < 0 else f"exit status {code}"
        log.error("model worker %s: %s (%s); restarting it", proc.pid if proc else "?", what, how)
        if not self._closed:
            self._restart_in_background()
        return ModelFailure(f"the model failed ({what}); it is restarting", retry_after_s=self.spec.retry_after_s)

    def _stop_child(self, *, graceful: bool) -> None:
        with self._swap:
            proc, conn = self._proc, self._conn
            self._conn = None
        if conn is not None:
            if graceful:
                with contextlib.suppress(OSError):
                    conn.send(("stop",))
            conn.close()
        if proc is not None:
            if graceful:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
            _kill(proc)

    # -- the pipe
    def _send(self, msg: tuple[Any, ...]) -> None:
        assert self._conn is not None
        try:
            self._conn.send(msg)
        except OSError as exc:
            raise self._failure("the model worker is gone") from exc

    def _recv(self) -> tuple[Any, ...]:
        conn = self._conn
        assert conn is not None
        try:
            if not conn.poll(self.spec.timeout_s):
                raise self._failure(f"no reply from the model within {self.spec.timeout_s:g} s")
            msg: tuple[Any, ...] = conn.recv()
        except (EOFError, OSError) as exc:
            raise self._failure("the model worker died during a request") from exc
        return msg

    def _cancel(self) -> None:
        """Stop the child's generation and read up to its end-of-request message."""
        try:
            self._send(("cancel",))
            while self._recv()[0] == "piece":
                pass
        except ModelFailure:
            pass  # logged by _failure; the child is being replaced


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _child_error(msg: tuple[Any, ...]) -> RagError:
    """An exception the child caught: its message is ours when it was one of ours."""
    if msg[0] == "error" and msg[1]:
        return RagError(str(msg[2]))
    return RagError("the model could not complete the request")


def diagnose(label: str, signum: int, phase: str) -> str:
    """The one line an operator reads when the model process died by a signal."""
    try:
        features = compiled_features(system_info())
    except Exception:  # the library itself may not load; say what we can
        features = set()
    flags = cpu_flags()
    missing = unsupported(features, flags)
    if missing:
        cause = f"the llama.cpp build uses {', '.join(missing)}, which this CPU does not offer"
    elif {"AMX_INT8", "AMX_BF16"} & features:
        cause = "the llama.cpp build contains AMX kernels, which many VMs list but do not enable"
    elif features - PORTABLE_X86:
        cause = "the llama.cpp build uses instructions beyond the portable baseline"
    else:
        cause = "a fault in llama.cpp or a broken model file"
    return (
        f"the model worker for {label} died by {_signal_name(signum)} while {phase}: {cause}; "
        f"llama.cpp build: {' '.join(sorted(features)) or 'unknown'}; CPU flags: {relevant_flags(flags)}; "
        f"fix: {REBUILD_HINT}"
    )


def self_check(spec: WorkerSpec) -> Started:
    """Load the model in a child, generate ``spec.check_tokens`` tokens, stop the child. Raises
    ModelStartError (one-line diagnosis) when that fails: the check ``rag-serve`` and ``rag-admin doctor``
    run before they serve anything."""
    worker = WorkerGenerator(spec, max_waiting=0)
    try:
        assert worker.started is not None
        return worker.started
    finally:
        worker.close()


# ---------------------------------------------------------------------------------------- child
def _build(spec: WorkerSpec) -> Any:
    module, _, attr = spec.factory.partition(":")
    return getattr(importlib.import_module(module), attr)(**dict(spec.kwargs))


def _serve(conn: Connection) -> None:
    spec: WorkerSpec = conn.recv()
    began = time.perf_counter()
    try:
        model = _build(spec)
        loaded = time.perf_counter()
        reply = "".join(
            model.stream(CHECK_PROMPT, max_tokens=spec.check_tokens, temperature=0.0, usage=Usage())  # self-check
        )
        checked = time.perf_counter()
        try:
            info = system_info()
        except Exception:
            info = ""
    except Exception as exc:
        log.exception("model worker: start failed")
        conn.send(("failed", _describe(exc)))
        return
    conn.send(
        ("ready", {"system_info": info, "load_s": loaded - began, "check_s": checked - loaded, "reply": reply.strip()})
    )
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return  # the parent is gone
        op = msg[0]
        try:
            if op == "stream":
                _, messages, max_tokens, temperature = msg
                usage = Usage()
                pieces = model.stream(messages, max_tokens=max_tokens, temperature=temperature, usage=usage)
                try:
                    for text in pieces:
                        conn.send(("piece", text, usage.prompt_tokens, usage.completion_tokens))
                        if conn.poll():  # only a cancel can arrive mid-request
                            conn.recv()
                            break
                finally:
                    pieces.close()
                conn.send(("done", usage.prompt_tokens, usage.completion_tokens))
            elif op == "yes":
                conn.send(("value", float(model.yes_probability(msg[1]))))
            elif op == "stop":
                return
            # a late "cancel" (the request had already ended) needs no answer
        except (EOFError, BrokenPipeError):
            return
        except Exception as exc:
            log.exception("model worker: request failed")
            conn.send(("error", isinstance(exc, RagError), str(exc) if isinstance(exc, RagError) else ""))


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: Sequence[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the parent, which then stops us
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    conn = Connection(int(argv[0]))
    status = 0
    try:
        _serve(conn)
    except BaseException:
        log.exception("model worker: stopped by an error")
        status = 1
    finally:
        conn.close()
    os._exit(status)  # skip llama.cpp's teardown at interpreter exit: the parent already moved on
