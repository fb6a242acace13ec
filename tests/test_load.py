"""bench/load.py as a test: 8x more concurrent clients than the model's queue holds, against the
real service in a child process on loopback (keys on, one customer key per client), with the paced
stand-in model. Only 200 and 429 (with Retry-After) come back, every answered exchange is in the
customer's records, no half turn is stored, and memory does not grow in the second half."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def test_many_more_clients_than_the_queue_get_only_200_or_429_and_lose_nothing() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--model",
            "paced",
            "--seconds",
            "12",
            "--speed",
            "4",
            "--queue",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    out = run.stdout
    assert "clients 16 (queue holds 2" in out and "other 0" in out, out
    answered = int(out.split("\n200 ", 1)[1].split()[0])
    refused_busy = int(out.split(", 429 ", 1)[1].split()[0])
    assert answered >= 5 and refused_busy >= 5, out  # the model was kept busy and the queue overflowed
    assert "missing from the records 0; half turns 0" in out and "429 without Retry-After 0" in out
