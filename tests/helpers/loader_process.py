"""`python -m loader` as a child process on a store of its own, with its exit, output and peak memory.

The peak is the child's own maximum resident set size (Linux: KiB), read from `wait4`'s resource usage for
that one process (RUSAGE_CHILDREN would mix in every earlier child of the test session).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.paths import REPO

MB = 1 << 20


@dataclass(frozen=True)
class LoaderRun:
    returncode: int
    stdout: str
    stderr: str
    peak_rss: int  # bytes


def run_loader(store: Path, *args: str, work: Path, timeout: float = 300) -> LoaderRun:
    """Run the loader CLI to its end (killed after `timeout` s) and measure its peak RSS."""
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    work.mkdir(parents=True, exist_ok=True)
    out, err = work / "loader.out", work / "loader.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "loader", *args], cwd=REPO, env=env, stdout=stdout, stderr=stderr
        )
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            child.kill()
            pid, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.05)
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return LoaderRun(child.returncode, out.read_text(), err.read_text(), usage.ru_maxrss * 1024)  # KiB
