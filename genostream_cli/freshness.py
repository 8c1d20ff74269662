"""Whether `launch` can skip the load and the build: the dataset's current load came from files with the
same content as the study's files now (the load manifest records each file's size and sha256), and the marts
were built from that load. A renamed or touched file with the same bytes is the same study; one changed byte
is not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client

from genostream.engine import engine_errors
from genostream.errors import EngineError

BUILT_LOAD_SQL = "SELECT load_id FROM marts.datasets WHERE dataset = {dataset:String}"
# A store that never built (no marts yet) simply has nothing current.
NOT_BUILT = ("UNKNOWN_DATABASE", "UNKNOWN_TABLE")


def sha256_of(path: Path) -> str:
    """The file's checksum, as the load manifest records it."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def same_files(
    recorded: Sequence[Mapping[str, Any]], current: Sequence[tuple[str, Path]], sha256: Callable[[Path], str]
) -> bool:
    """True when `current` (role, path) files have the recorded roles, sizes and checksums. Sizes are compared
    first, so a changed file is usually told apart without reading it; `sha256` reads the rest."""
    by_role = {entry["role"]: entry for entry in recorded}
    if set(by_role) != {role for role, _ in current}:
        return False
    for role, path in current:
        if path.stat().st_size != by_role[role]["size"]:
            return False
    return all(by_role[role]["sha256"] == sha256(path) for role, path in current)


def built_load(client: Client, dataset: str) -> str | None:
    """The load the marts were last built from for `dataset`, or None (never built, or not there)."""
    try:
        with engine_errors():
            rows = client.query(BUILT_LOAD_SQL, parameters={"dataset": dataset}).result_rows
    except EngineError as exc:
        if exc.is_one_of(*NOT_BUILT):
            return None
        raise
    return str(rows[0][0]) if rows else None


class Plan(Enum):
    """What `launch` must do before serving."""

    SERVE = "serve"  # loaded from the same content and built from that load
    BUILD = "build"  # loaded from the same content, the marts not (yet) built from it
    LOAD = "load"  # not loaded, or loaded from other content: load, then build


def plan(
    loaded: Mapping[str, Any] | None,
    built: str | None,
    current: Sequence[tuple[str, Path]],
    sha256: Callable[[Path], str],
) -> Plan:
    """The decision, from `loaded` (the dataset's entry of `list_datasets`, or None), `built` (the load the
    marts hold for it, or None) and the study's `current` (role, path) files."""
    if loaded is None or not same_files(loaded["source_files"], current, sha256):
        return Plan.LOAD
    return Plan.SERVE if built == loaded["load_id"] else Plan.BUILD
