"""The load manifest (`raw.loads`): one row per load, re-inserted with a newer `updated_at` on each change.

Publishing a load is the single insert of its `loaded` row; dbt staging reads each dataset's newest
`loaded` load (by finished_at), so the switch is atomic across every raw table. Partitions of anything
else — replaced, failed, dropped or interrupted loads — are dropped here.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.binding import format_query_value

from loader.schema import DATA_TABLES

CURRENT_LOADS_SQL = """
    SELECT dataset, argMax(load_id, (finished_at, load_id)) AS load_id
    FROM raw.loads FINAL
    WHERE status = 'loaded'
    GROUP BY dataset
"""

_clock_lock = threading.Lock()
_last_stamp = datetime.min.replace(tzinfo=UTC)


def now() -> datetime:
    """UTC now, strictly increasing within this process (ReplacingMergeTree keeps the newest version)."""
    global _last_stamp
    with _clock_lock:
        stamp = max(datetime.now(UTC), _last_stamp + timedelta(microseconds=1))
        _last_stamp = stamp
        return stamp


def new_load_id() -> str:
    """Sortable and unique: UTC time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


def literal(value: str) -> str:
    """A quoted SQL string literal (dataset names come from users)."""
    return format_query_value(value)


@dataclass
class LoadRecord:
    """One version of a `raw.loads` row."""

    load_id: str
    dataset: str
    status: str
    layout: str = ""
    value_kind: str = ""
    n_genes: int = 0
    n_cells: int = 0
    n_metadata_cells: int = 0
    nnz: int = 0
    cell_type_column: str = ""
    sample_column: str = ""
    source_files: list[dict[str, Any]] = field(default_factory=list)
    loader_version: str = ""
    started_at: datetime = field(default_factory=now)
    finished_at: datetime | None = None
    message: str = ""

    def to_row(self) -> list[Any]:
        row = asdict(self)
        row["source_files"] = json.dumps(self.source_files)
        return [*row.values(), now()]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LoadRecord:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in names}
        values["source_files"] = json.loads(values.get("source_files") or "[]")
        return cls(**values)


COLUMNS = [*(f.name for f in fields(LoadRecord)), "updated_at"]


def write(client, *records: LoadRecord) -> None:
    """Insert new versions of these rows in ONE insert (so a multi-row change is atomic)."""
    if records:
        client.insert("raw.loads", [r.to_row() for r in records], column_names=COLUMNS, database="raw")


def set_status(client, records: list[LoadRecord], status: str, message: str = "") -> list[LoadRecord]:
    changed = [replace(r, status=status, message=message or r.message) for r in records]
    write(client, *changed)
    return changed


def all_loads(client, dataset: str | None = None) -> list[LoadRecord]:
    where = f"WHERE dataset = {literal(dataset)}" if dataset is not None else ""
    columns = ", ".join(COLUMNS[:-1])
    result = client.query(f"SELECT {columns} FROM raw.loads FINAL {where} ORDER BY started_at")
    names = result.column_names
    return [LoadRecord.from_row(dict(zip(names, row, strict=True))) for row in result.result_rows]


def current_load_ids(client) -> dict[str, str]:
    """dataset → the load_id readers see (newest `loaded` finished_at)."""
    return dict(client.query(CURRENT_LOADS_SQL).result_rows)


def current_loads(client) -> list[LoadRecord]:
    current = set(current_load_ids(client).items())
    return [r for r in all_loads(client) if (r.dataset, r.load_id) in current]


def drop_partitions(client, dataset: str, load_id: str) -> None:
    partition = f"tuple({literal(dataset)}, {literal(load_id)})"
    for table in DATA_TABLES:
        client.command(f"ALTER TABLE raw.{table} DROP PARTITION {partition}")


def stored_partitions(client) -> set[tuple[str, str]]:
    """(dataset, load_id) of every partition on disk — answered from part metadata, not by a scan."""
    found: set[tuple[str, str]] = set()
    for table in DATA_TABLES:
        rows = client.query(f"SELECT dataset, load_id FROM raw.{table} GROUP BY dataset, load_id").result_rows
        found.update((str(d), str(lid)) for d, lid in rows)
    return found


def garbage_collect(client) -> int:
    """Settle leftovers of earlier runs: mark stale rows, drop every partition that is not current."""
    current = set(current_load_ids(client).items())
    stale_rows = [r for r in all_loads(client) if (r.dataset, r.load_id) not in current]
    interrupted = [r for r in stale_rows if r.status == "loading"]
    superseded = [r for r in stale_rows if r.status == "loaded"]
    set_status(client, interrupted, "failed", "interrupted; its partial data was removed on the next run")
    set_status(client, superseded, "replaced")
    leftovers = stored_partitions(client) - current
    for dataset, load_id in sorted(leftovers):
        drop_partitions(client, dataset, load_id)
    return len(leftovers)
