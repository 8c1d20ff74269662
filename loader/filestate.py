"""Whether a study's files stayed the same while they were loaded.

A load reads a file several times (headers, body, checksum), so the SHA-256 it records describes the bytes it
loaded only if the file did not change in between. The state of each file is taken before any of its content
is read for the load and compared once everything is read: a file rewritten meanwhile — even in place, with
the same size — has a new change time (`st_ctime_ns`, set by the kernel on every write and not settable by
users), and the load is refused instead of recording a checksum of other bytes.

The kernel stamps change times from a clock that advances in ticks (about 4 ms), so a rewrite in the same tick
as the state was taken would keep the change time; the state is therefore taken only once the file's last
change is SETTLED_NS old (waiting if needed), and any later write falls in a later tick.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from loader.errors import InputError


@dataclass(frozen=True)
class FileState:
    """What changes when a file's content does: which file it is, its size and its times."""

    device: int
    inode: int
    size: int
    modified_ns: int
    changed_ns: int

    @classmethod
    def of(cls, path: Path) -> FileState | None:
        """The file's state, or None when it cannot be seen (its reader says why, in its own words)."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


SETTLED_NS = 50_000_000
SETTLE_ROUNDS = 20  # a file still being written after this many waits is taken as it is (and then refused)


def settled_state(path: Path) -> FileState | None:
    """The file's state once its last change is at least SETTLED_NS old."""
    state = FileState.of(path)
    for _ in range(SETTLE_ROUNDS):
        if state is None:
            return None
        age_ns = time.time_ns() - state.changed_ns
        if age_ns >= SETTLED_NS:
            return state
        time.sleep(min(SETTLED_NS - age_ns, SETTLED_NS) / 1e9)  # capped: a change time ahead of the clock
        state = FileState.of(path)
    return state


def snapshot(paths: list[Path]) -> dict[Path, FileState | None]:
    """The state of each file, taken before the load reads it (once its last change has settled)."""
    return {path: settled_state(path) for path in paths}


def refuse_changed(states: dict[Path, FileState | None]) -> None:
    """Refuse the load when a file is not what it was at `snapshot` (rewritten, replaced or removed)."""
    for path, before in states.items():
        if FileState.of(path) != before:
            raise InputError(
                path,
                None,
                "changed while it was being loaded, so what was read and its checksum may not match; "
                "nothing was published — load it again once the file is complete",
            )
