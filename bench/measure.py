"""Timing, percentiles and peak-RSS helpers shared by every stage and peer."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Stopwatch:
    """Wall seconds of a `with` block (`perf_counter`, monotonic)."""

    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start


def percentiles_ms(samples_s: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99/mean/max in milliseconds of latencies given in seconds (linear interpolation)."""
    if len(samples_s) == 0:
        raise ValueError("no latency samples to summarise")
    ms = np.asarray(samples_s, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return {
        "p50_ms": round(float(p50), 3),
        "p95_ms": round(float(p95), 3),
        "p99_ms": round(float(p99), 3),
        "mean_ms": round(float(ms.mean()), 3),
        "max_ms": round(float(ms.max()), 3),
        "n": int(ms.size),
    }


def self_peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass
class ChildRun:
    """A finished child process: exit code, wall time, its own peak RSS, and where its output went; `cpu_s` is
    its user + system CPU time (what a shared machine's contention does not inflate)."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    log: Path
    cpu_s: float = 0.0

    def tail(self, lines: int = 5) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])


def run_child(
    cmd: Sequence[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ChildRun:
    """Run `cmd` to completion, measuring wall time and that child's peak RSS (via wait4, not the whole tree's
    running maximum that RUSAGE_CHILDREN would mix across children)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(proc.returncode, wall, usage.ru_maxrss / 1024.0, log, usage.ru_utime + usage.ru_stime)
