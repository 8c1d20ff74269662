"""Overlap parsing and inserting: a reader thread fills a small bounded queue, the caller inserts.

pyarrow's parser and the engine's insert both release the GIL, so the two run in parallel while at most
`depth` batches wait in between — memory stays bounded by the block size, whatever the file size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


class _Done:
    """The producer finished."""


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetch(produce: Callable[[], Iterator[T]], depth: int = 2) -> Iterator[T]:
    """Iterate `produce()` in a background thread, at most `depth` items ahead; errors re-raised here."""
    items: queue.Queue[T | _Failure | _Done] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: T | _Failure | _Done) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not offer(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            offer(_Failure(exc))
            return
        offer(_Done())

    worker = threading.Thread(target=run, name="loader-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
