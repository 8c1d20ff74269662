"""The loader's file-change check (loader/filestate.py): a state is taken only once the file has settled."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from loader.errors import InputError
from loader.filestate import SETTLED_NS, refuse_changed, snapshot


def test_a_state_is_taken_only_once_the_last_change_has_settled(tmp_path: Path) -> None:
    # Before: taken at once — a same-size rewrite inside the kernel's ~4 ms change-time tick went unseen.
    path = tmp_path / "matrix.mtx"
    path.write_bytes(b"a" * 1000)
    states = snapshot([path])
    assert time.time_ns() - os.stat(path).st_ctime_ns >= SETTLED_NS
    state = states[path]
    assert state is not None and state.changed_ns == os.stat(path).st_ctime_ns
    with path.open("r+b") as handle:  # rewritten in place at the same size, right after the state was taken
        handle.write(b"b" * 1000)
    with pytest.raises(InputError, match="changed while it was being loaded"):
        refuse_changed(states)


def test_an_unchanged_file_passes_and_a_missing_one_has_no_state(tmp_path: Path) -> None:
    path = tmp_path / "genes.tsv"
    path.write_text("g1\n")
    states = snapshot([path, tmp_path / "missing.tsv"])
    assert states[tmp_path / "missing.tsv"] is None
    refuse_changed(states)  # nothing changed
