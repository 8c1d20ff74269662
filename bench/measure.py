"""Timing, percentiles and peak-RSS helpers shared by every stage and peer."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RSS_SAMPLE_S = 0.02  # how often a child's high-water mark is read while it runs
MB = 1 << 20
STOP_GRACE_S = 10.0  # how long a child stopped at its time limit has to exit before it is killed


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


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM of a live process — the high-water mark of its own memory since its exec — in MB; None once gone.

    Not `ru_maxrss`: Linux carries the parent's high-water mark into a child across fork (and vfork) and
    exec, so a child of a 2 GB runner reports at least 2 GB whatever it does itself."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return None  # a zombie: its memory is already released


def self_peak_rss_mb() -> float:
    """Peak resident set size of this process since its exec."""
    peak = peak_rss_mb()
    if peak is None:
        raise RuntimeError("no VmHWM in /proc/self/status")
    return peak


@dataclass
class ChildRun:
    """A finished child process: exit code, wall time, its own peak RSS, and where its output went; `cpu_s` is
    its user + system CPU time (what a shared machine's contention does not inflate)."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    log: Path
    cpu_s: float = 0.0
    time_limit_s: float | None = None  # set when the child was stopped for running past its time limit

    def how_it_ended(self) -> str:
        """'exited with N', 'killed by SIGNAME' (a negative return code is the signal that ended it), or that
        it was stopped at its time limit."""
        if self.time_limit_s is not None:
            return f"stopped at its time limit of {self.time_limit_s:g} s"
        if self.returncode < 0:
            try:
                return f"killed by {signal.Signals(-self.returncode).name}"
            except ValueError:
                return f"killed by signal {-self.returncode}"
        return f"exited with {self.returncode}"

    def tail(self, lines: int = 5) -> str:
        text = self.log.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-lines:])


def address_space_limit(limit_mb: int):
    """A `preexec_fn` capping the child's address space (RLIMIT_AS) at `limit_mb`: an allocation beyond it
    fails inside the child (MemoryError, std::bad_alloc) instead of pushing the shared machine into swap or
    the OOM killer. Virtual, not resident: libraries that reserve address space count in full."""
    limit = int(limit_mb) * MB

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def run_child(
    cmd: Sequence[str],
    *,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    memory_limit_mb: int | None = None,
    time_limit_s: float | None = None,
) -> ChildRun:
    """Run `cmd` to completion, measuring wall time and that child's own peak RSS (its VmHWM, sampled every
    `RSS_SAMPLE_S` until it exits — growth within its last interval can be missed); `memory_limit_mb` caps
    its address space (`address_space_limit`); past `time_limit_s` of wall time it is stopped (SIGTERM, then
    SIGKILL after `STOP_GRACE_S`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    preexec = address_space_limit(memory_limit_mb) if memory_limit_mb else None
    with log.open("wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, preexec_fn=preexec
        )
        peak = 0.0
        stopped_at: float | None = None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
            elapsed = time.perf_counter() - start
            if time_limit_s is not None and elapsed > time_limit_s:
                if stopped_at is None:
                    stopped_at = elapsed
                    proc.terminate()
                elif elapsed - stopped_at > STOP_GRACE_S:
                    proc.kill()
            time.sleep(RSS_SAMPLE_S)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    limit = time_limit_s if stopped_at is not None else None
    return ChildRun(proc.returncode, wall, peak, log, usage.ru_utime + usage.ru_stime, limit)
