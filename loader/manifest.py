"""The load manifest (`raw.loads`): one row per load, re-inserted with a newer `updated_at` on each change.

Publishing a load is the single insert of its `loaded` row; which load of a dataset is current is defined
once, by the view `raw.current_loads` (loader/schema.py), read here and by dbt staging alike, so the switch
is atomic across every raw table. Partitions of anything else — replaced, failed, dropped or crashed loads —
are dropped here; in-flight loads are kept while alive (loader/lease.py).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from clickhouse_connect.driver.binding import format_query_value

from genostream.engine import is_embedded
from loader import lease
from loader.placement import placement_of
from loader.schema import CURRENT_LOADS_VIEW, DATA_TABLES

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

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
    owner: str = ""
    lease_until: datetime = EPOCH

    def to_row(self) -> list[Any]:
        row = asdict(self)
        row["source_files"] = json.dumps(self.source_files)
        return [*row.values(), now()]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LoadRecord:
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in row.items() if k in names}
        values["source_files"] = json.loads(values.get("source_files") or "[]")
        if values.get("lease_until") is not None:
            values["lease_until"] = lease.as_utc(values["lease_until"])
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


def status_of(client, record: LoadRecord) -> str | None:
    """The newest status of one load (None if it has no row)."""
    rows = client.query(
        "SELECT status FROM raw.loads FINAL WHERE dataset = {d:String} AND load_id = {l:String}",
        parameters={"d": record.dataset, "l": record.load_id},
    ).result_rows
    return str(rows[0][0]) if rows else None


def current_load_ids(client) -> dict[str, str]:
    """dataset → the load_id readers see (the view `raw.current_loads`)."""
    return dict(client.query(f"SELECT dataset, load_id FROM {CURRENT_LOADS_VIEW}").result_rows)


def live_loads(client, loads: list[LoadRecord]) -> list[LoadRecord]:
    """Those of `loads` that are in flight and whose loader still runs (see loader/lease.py)."""
    now = lease.engine_now(client)
    embedded = is_embedded(client)
    return [r for r in loads if r.status == "loading" and lease.is_alive(r, now, embedded=embedded)]


@contextmanager
def running(client, record: LoadRecord) -> Iterator[lease.Heartbeat]:
    """Write `record` as a `loading` row with a lease and renew it until the block ends.

    Yields the heartbeat: stop it before the publish check, so the publish insert is the row's last version.
    A row that someone else has changed meanwhile (dropped, or collected as dead) is never renewed back.
    """
    state = {"record": replace(record, owner=lease.OWNER, lease_until=lease.engine_now(client) + lease.LEASE)}

    def renew() -> bool:
        if status_of(client, state["record"]) != "loading":
            return False
        state["record"] = replace(state["record"], lease_until=lease.engine_now(client) + lease.LEASE)
        write(client, state["record"])
        return True

    lease.mark_running(record.load_id, True)
    heartbeat = lease.Heartbeat(f"lease-{record.load_id}", renew)
    try:
        write(client, state["record"])
        heartbeat.start()
        yield heartbeat
    finally:
        heartbeat.stop()
        lease.mark_running(record.load_id, False)


def drop_partitions(client, dataset: str, load_id: str) -> None:
    """Drop one load's partitions from every raw table (on a cluster: from every shard's local table)."""
    partition = f"tuple({literal(dataset)}, {literal(load_id)})"
    placement = placement_of(client)
    for table in DATA_TABLES:
        target = f"raw.{placement.local(table)}{placement.on_cluster}"
        client.command(f"ALTER TABLE {target} DROP PARTITION {partition}")


def partition_rows(client, dataset: str, load_id: str) -> dict[str, int]:
    """Rows per data table in one load's partitions."""
    keys = {"d": dataset, "l": load_id}
    return {
        table: int(
            client.query(
                f"SELECT count() FROM raw.{table} WHERE dataset = {{d:String}} AND load_id = {{l:String}}",
                parameters=keys,
            ).result_rows[0][0]
        )
        for table in DATA_TABLES
    }


def stored_partitions(client) -> set[tuple[str, str]]:
    """(dataset, load_id) of every partition on disk — answered from part metadata, not by a scan."""
    found: set[tuple[str, str]] = set()
    for table in DATA_TABLES:
        rows = client.query(f"SELECT dataset, load_id FROM raw.{table} GROUP BY dataset, load_id").result_rows
        found.update((str(d), str(lid)) for d, lid in rows)
    return found


def garbage_collect(client) -> int:
    """Settle leftovers of earlier runs: mark dead and superseded rows, drop every partition that is neither
    current nor an in-flight load's.

    The reads go partitions → manifest → current loads: a load writes its `loading` row before any partition
    and publishes after, so whatever partition is seen has its row seen too, and a load publishing meanwhile
    is either still alive or already current — never collected.
    """
    stored = stored_partitions(client)
    loads = all_loads(client)
    current = set(current_load_ids(client).items())
    alive = {(r.dataset, r.load_id) for r in live_loads(client, loads)}
    stale_rows = [r for r in loads if (r.dataset, r.load_id) not in current | alive]
    interrupted = [r for r in stale_rows if r.status == "loading"]
    superseded = [r for r in stale_rows if r.status == "loaded"]
    set_status(client, interrupted, "failed", "interrupted; its partial data was removed on the next run")
    set_status(client, superseded, "replaced")
    leftovers = stored - current - alive
    for dataset, load_id in sorted(leftovers):
        drop_partitions(client, dataset, load_id)
    return len(leftovers)
