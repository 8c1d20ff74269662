"""One JSON file per finished (size, step) under DIR/records: what makes a long run resumable. A step that is
recorded is not run again; a step that runs again drops the records of the steps after it (they used its
output). A peer that was skipped (not installed) is recorded so the report says so, but runs again."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class Records:
    """DIR/records/<nnz>.<step>.json, written atomically (a crash never leaves half a record)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, nnz: int, step: str) -> Path:
        return self.directory / f"{nnz}.{step}.json"

    def get(self, nnz: int, step: str) -> dict[str, Any] | None:
        path = self.path(nnz, step)
        return json.loads(path.read_text()) if path.exists() else None

    def done(self, nnz: int, step: str) -> bool:
        """Recorded, and not a peer skipped for want of its package (installing it makes a rerun run it)."""
        record = self.get(nnz, step)
        return record is not None and "skipped" not in record

    def put(self, nnz: int, step: str, record: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(nnz, step)
        partial = path.with_suffix(".json.partial")
        partial.write_text(json.dumps(record, indent=2, default=float) + "\n")
        os.replace(partial, path)

    def drop_after(self, nnz: int, step: str, order: Sequence[str]) -> list[str]:
        """Remove the records of the steps that follow `step` in `order` (for this size); the ones removed."""
        later = list(order)[list(order).index(step) + 1 :]
        dropped = [s for s in later if self.path(nnz, s).exists()]
        for s in dropped:
            self.path(nnz, s).unlink()
        return dropped

    def of_size(self, nnz: int, steps: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Every recorded step of one size, by step name."""
        return {s: r for s in steps if (r := self.get(nnz, s)) is not None}
