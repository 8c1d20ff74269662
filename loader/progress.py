"""Progress on a terminal (bytes, MB/s, rows/s, ETA) through tqdm; silent when stderr is not a TTY."""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class LoadProgress:
    """A byte-based bar over the matrix file with the entry rate as a postfix."""

    def __init__(self, label: str, total_bytes: int, enabled: bool | None = None) -> None:
        if enabled is None:
            enabled = sys.stderr.isatty()
        self._bar = tqdm(
            total=total_bytes,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not enabled,
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        )
        self._total = total_bytes
        self._started = time.perf_counter()

    def update(self, bytes_read: int, rows: int) -> None:
        if self._bar.disable:
            return
        self._bar.n = min(bytes_read, self._total)
        elapsed = max(time.perf_counter() - self._started, 1e-9)
        self._bar.set_postfix_str(f"{rows:,} rows, {rows / elapsed:,.0f} rows/s", refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()
