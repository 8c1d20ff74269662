"""Run `genostream launch` as a user does — a child process — and wait until it says where it serves."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVING = re.compile(r"^serving (?P<dataset>\S+) at (?P<url>(?P<base>http://[^/]+)/\S*) ")


@dataclass
class Launched:
    """A running `genostream launch`: its URL, what it printed, and how long it took to serve."""

    process: subprocess.Popen[str]
    url: str
    base: str
    seconds: float
    lines: list[str] = field(default_factory=list)
    _output: queue.Queue[str | None] = field(default_factory=queue.Queue)

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C (SIGINT), then the exit status once it has stopped; the rest of its output in `lines`."""
        self.process.send_signal(signal.SIGINT)
        status = self.process.wait(timeout=timeout)
        while (line := self._output.get(timeout=timeout)) is not None:
            self.lines.append(line)
        return status


def _pump(stream, output: queue.Queue[str | None]) -> None:
    for line in stream:
        output.put(line.rstrip("\n"))
    output.put(None)


def launch(command: list[str], *, cwd: Path, env: Mapping[str, str], timeout: float = 600) -> Launched:
    """Start `command` (a `genostream launch …` line) and return once it prints its "serving … at URL" line;
    a child that exits first, or stays silent past `timeout`, fails with what it printed."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, output), daemon=True).start()
    lines: list[str] = []
    while True:
        left = timeout - (time.perf_counter() - started)
        try:
            line = output.get(timeout=max(left, 0.01))
        except queue.Empty:
            process.kill()
            raise AssertionError(f"no 'serving' line within {timeout} s: {lines}") from None
        if line is None:
            process.wait()
            raise AssertionError(f"launch exited with {process.returncode} before serving: {lines}")
        lines.append(line)
        match = SERVING.match(line)
        if match:
            seconds = time.perf_counter() - started
            return Launched(process, match["url"], match["base"], seconds, lines, output)
