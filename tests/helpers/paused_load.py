"""A load on a thread of its own with a client of its own, held after its first matrix batch is written:
two loads truly overlapping in one process, at a chosen point (the embedded engine allows one process, not
one client)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from loader import load

_held: dict[str, PausedLoad] = {}


class PausedLoad:
    """`start()` runs `load_dataset` until its first matrix batch is in; `finish()` lets it go on."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, store: Path, study: Path, dataset: str) -> None:
        original = load.prefetch

        def held_prefetch(produce, *args, **kwargs):
            pause = _held.get(threading.current_thread().name)
            for item in original(produce, *args, **kwargs):
                yield item
                if pause is not None and not pause.reached.is_set():
                    pause.reached.set()
                    assert pause.released.wait(60), "the paused load was never released"

        if not getattr(load.prefetch, "holds_loads", False):
            held_prefetch.holds_loads = True  # type: ignore[attr-defined]
            monkeypatch.setattr(load, "prefetch", held_prefetch)
        self.store, self.study, self.dataset = store, study, dataset
        self.reached = threading.Event()
        self.released = threading.Event()
        self.result: load.LoadResult | None = None
        self.error: BaseException | None = None
        name = f"paused-load-{dataset}-{id(self)}"
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        from genostream.engine import open_chdb

        client = open_chdb(self.store)
        try:
            self.result = load.load_dataset(client, self.study, dataset=self.dataset)
        except BaseException as exc:  # handed to the test through finish()
            self.error = exc
        finally:
            self.reached.set()
            client.close()

    def start(self) -> PausedLoad:
        _held[self.thread.name] = self
        self.thread.start()
        assert self.reached.wait(60), "the load never reached its matrix"
        if self.error is not None:
            raise self.error
        return self

    def finish(self) -> Any:
        """Release the load and wait for it; its result, or raises what it raised."""
        self.released.set()
        self.thread.join(60)
        _held.pop(self.thread.name, None)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error
        return self.result
