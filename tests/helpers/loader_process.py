"""`python -m loader` as a child process on a store of its own, with its exit, output and peak memory (the
child's own, measured by `tests.helpers.peak_child`)."""

from __future__ import annotations

import os
import subprocess
import sys
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
    """Run the loader CLI to its end and measure its peak RSS."""
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    work.mkdir(parents=True, exist_ok=True)
    peak = work / "loader.peak"
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.peak_child", str(peak), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return LoaderRun(done.returncode, done.stdout, done.stderr, int(peak.read_text()))
