"""A child's peak RSS is its own, not the runner's (Linux carries a parent's peak into ru_maxrss)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from bench.measure import peak_rss_mb, run_child, self_peak_rss_mb

BIG_MB = 300


def _child(tmp_path: Path, code: str) -> float:
    run = run_child([sys.executable, "-c", code], log=tmp_path / "child.log")
    assert run.returncode == 0, run.tail()
    return run.peak_rss_mb


def test_a_small_child_of_a_big_runner_reports_its_own_small_peak(tmp_path: Path) -> None:
    ballast = np.ones(BIG_MB * 1024 * 1024 // 8)  # the runner holds BIG_MB resident while the child runs
    assert self_peak_rss_mb() >= BIG_MB
    peak = _child(tmp_path, "import time; time.sleep(0.3)")
    assert 0 < peak < BIG_MB / 3, peak
    del ballast


def test_a_big_child_reports_its_peak(tmp_path: Path) -> None:
    code = f"import numpy as np, time; a = np.ones({BIG_MB} * 131072); time.sleep(0.3)"
    assert _child(tmp_path, code) >= BIG_MB * 0.9


def test_a_process_that_is_gone_has_no_peak() -> None:
    assert peak_rss_mb(2**22 + 12345) is None


def test_a_child_past_its_time_limit_is_stopped_and_says_so(tmp_path: Path) -> None:
    run = run_child(
        [sys.executable, "-c", "import time; time.sleep(30)"], log=tmp_path / "c.log", time_limit_s=0.5
    )
    assert run.wall_s < 10, run.wall_s
    assert run.how_it_ended() == "stopped at its time limit of 0.5 s"


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("bench.measure.STOP_GRACE_S", 0.5)  # the limit leaves it time to ignore SIGTERM
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(30)"
    run = run_child([sys.executable, "-c", code], log=tmp_path / "c.log", time_limit_s=2)
    assert run.returncode == -9 and run.wall_s < 10, (run.returncode, run.wall_s)
    assert "time limit" in run.how_it_ended()


def test_a_child_within_its_time_limit_ends_as_it_ends(tmp_path: Path) -> None:
    run = run_child([sys.executable, "-c", "raise SystemExit(3)"], log=tmp_path / "c.log", time_limit_s=30)
    assert run.how_it_ended() == "exited with 3"
