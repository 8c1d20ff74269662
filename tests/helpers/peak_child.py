"""`python -m tests.helpers.peak_child OUT ARGS…` runs `python -m loader ARGS…` in this process and, when it
exits, writes its peak resident set size in bytes to OUT.

The peak is VmHWM from /proc/self/status: the high-water mark of this process's own memory since its exec.
(`ru_maxrss` from `wait4` would not do: Linux carries the parent's high-water mark across fork and exec, so a
child of a large test session would report the session's size.)
"""

from __future__ import annotations

import atexit
import runpy
import sys
from pathlib import Path


def peak_rss() -> int:
    """VmHWM of this process, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status")


if __name__ == "__main__":
    out = Path(sys.argv[1])
    atexit.register(lambda: out.write_text(str(peak_rss())))
    sys.argv = ["loader", *sys.argv[2:]]
    runpy.run_module("loader", run_name="__main__", alter_sys=True)
