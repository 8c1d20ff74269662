"""The publish protocol of a load: claim → check → publish → retire.

A load writes its own (dataset, load_id) partitions while its `loading` row is live, and readers see none of
it until one manifest insert (its `loaded` row) switches `raw.current_loads` to it. Around that insert:
- claim: refuse to run beside an earlier live load of the same dataset, and note which load readers see now;
- check: just before publishing, the load still owns its row, nothing was published or dropped meanwhile, and
  every table reads back whole (a full disk can cut a part short without an error);
- publish: the single insert;
- retire: the dataset's older loads are marked `replaced` and their partitions dropped.
A failed load is abandoned: marked `failed` and its partitions dropped (or collected by the next run).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from genostream.engine import is_embedded
from loader import lease, manifest
from loader.errors import LoadConflictError, StoreWriteError
from loader.manifest import LoadRecord, literal

log = logging.getLogger(__name__)

# Reads every column of the load's partition back (ignore(*) keeps them all): the engine can commit a part
# whose files were cut short by a full disk or a file-size limit without raising, and only a read notices.
STORED_ROWS_SQL = (
    "SELECT count() FROM raw.{table} WHERE dataset = {dataset} AND load_id = {load_id} AND NOT ignore(*)"
)
WRITE_HINT = "disk full or a file-size limit?); nothing was published and the previous version stays"


def claim(client: Client, record: LoadRecord) -> str | None:
    """Refuse to run beside an earlier live load of the same dataset; the load readers see now (or None).

    Every load writes its `loading` row before this check, so of two overlapping loads at least one sees the
    other: the later-started one (greater load_id) gives way, here or at its publish check.
    """
    _refuse_if_overtaken(client, record, manifest.all_loads(client, record.dataset))
    return manifest.current_load_ids(client).get(record.dataset)


def _refuse_if_overtaken(client: Client, record: LoadRecord, loads: list[LoadRecord]) -> None:
    earlier = [r for r in manifest.live_loads(client, loads) if r.load_id < record.load_id]
    if earlier:
        other = earlier[0]
        raise LoadConflictError(
            f"dataset {record.dataset!r} is already being loaded (load {other.load_id} by {other.owner}, "
            f"started {other.started_at:%Y-%m-%d %H:%M:%S} UTC): nothing was published — wait for it "
            f"(a crashed load is cleared once its lease of {lease.LEASE.total_seconds():.0f} s runs out)"
        )


def _check_publishable(client: Client, record: LoadRecord, baseline: str | None) -> None:
    """The load still owns its row, no other load of the dataset won meanwhile, and its partitions hold
    exactly what it wrote (nothing dropped under it)."""
    loads = manifest.all_loads(client, record.dataset)
    mine = next((r for r in loads if r.load_id == record.load_id), None)
    name = record.dataset
    if mine is None or mine.status != "loading":
        dropped = mine is not None and mine.status == "dropped"
        why = "the dataset was dropped" if dropped else "it was collected as crashed"
        raise LoadConflictError(f"load {record.load_id} of {name!r} published nothing: {why} while it ran")
    if not is_embedded(client) and mine.lease_until <= lease.engine_now(client):
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: its lease expired (no heartbeat for "
            f"{lease.LEASE.total_seconds():.0f} s), so other loaders may have collected its data"
        )
    _refuse_if_overtaken(client, record, loads)
    published = manifest.current_load_ids(client).get(name)
    if published != baseline:
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: another load ({published}) was published "
            "while it ran — load again to replace that one"
        )
    expected = {
        "genes": record.n_genes,
        "barcodes": record.n_cells,
        "metadata": record.n_metadata_cells,
        "matrix": record.nnz,
    }
    stored = manifest.partition_rows(client, name, record.load_id)
    short = [f"raw.{t}: {stored[t]:,} of {n:,} rows" for t, n in expected.items() if stored[t] != n]
    if short:
        raise LoadConflictError(
            f"load {record.load_id} of {name!r} published nothing: its stored data does not match what it "
            f"wrote ({', '.join(short)})"
        )


def _verify_stored(client: Client, record: LoadRecord, expected: dict[str, tuple[int, Path]]) -> None:
    """Every table of the load reads back whole before it is published (after `_check_publishable`, which
    compares the row counts the parts record: a part cut short on disk still records them)."""
    keys = {"dataset": literal(record.dataset), "load_id": literal(record.load_id)}
    for table, (rows, source) in expected.items():
        try:
            stored = client.query(STORED_ROWS_SQL.format(table=table, **keys)).result_rows[0][0]
        except DatabaseError as exc:
            detail = str(exc).strip().splitlines()[0][:160]
            raise StoreWriteError(
                f"{source}: raw.{table} does not read back after writing ({detail}; {WRITE_HINT}"
            ) from None
        if stored != rows:
            raise StoreWriteError(f"{source}: raw.{table} kept {stored} of {rows} rows ({WRITE_HINT}")


def publish(
    client: Client, record: LoadRecord, baseline: str | None, stored: dict[str, tuple[int, Path]]
) -> LoadRecord:
    """Check the load (see `_check_publishable`, `_verify_stored`: `stored` maps each table to the rows
    written and the file they came from), then publish it with one manifest insert; the published record."""
    _check_publishable(client, record, baseline)
    _verify_stored(client, record, stored)
    record = replace(record, finished_at=lease.engine_now(client))
    manifest.write(client, record)  # the atomic publish
    return record


def abandon(client: Client, record: LoadRecord, exc: BaseException) -> None:
    """Mark a failed load and remove its partitions; if even that fails, the next run's GC does it."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        manifest.set_status(client, [record], "failed", message)
        manifest.drop_partitions(client, record.dataset, record.load_id)
    except Exception:  # cleanup is best effort; garbage_collect() finishes it on the next run
        log.warning("could not clean up failed load %s; the next run will", record.load_id, exc_info=True)


def retire_older(client: Client, record: LoadRecord) -> None:
    """Once `record` is published: its dataset's older loads become `replaced` and their partitions go."""
    older = [
        r
        for r in manifest.all_loads(client, record.dataset)
        if r.status == "loaded" and r.load_id != record.load_id
    ]
    manifest.set_status(client, older, "replaced")
    for r in older:
        manifest.drop_partitions(client, r.dataset, r.load_id)
