"""The datasets readers see, and removing one: both read or change the manifest (`raw.loads`) only.

Which load of a dataset is current is defined once, by the view `raw.current_loads` (loader/schema.py); a
drop is one manifest insert that hides the dataset, then its partitions are dropped.
"""

from __future__ import annotations

import json
from typing import Any

from clickhouse_connect.driver.client import Client

from genostream.engine import engine_errors
from loader import lease, manifest
from loader.errors import UnknownDatasetError
from loader.schema import CURRENT_LOADS_VIEW, ensure_raw_schema


def _iso(value) -> str | None:
    return lease.as_utc(value).isoformat() if value is not None else None


LIST_SQL = f"""
    SELECT
        dataset AS name, n_genes, n_cells, n_metadata_cells, nnz, value_kind, layout, loaded_at, started_at,
        load_id, loader_version, cell_type_column, sample_column, source_files
    FROM {CURRENT_LOADS_VIEW}
    ORDER BY dataset
"""


@engine_errors()
def list_datasets(client: Client) -> list[dict[str, Any]]:
    """The datasets readers see now, one entry each (its current load: `raw.current_loads`), by name.

    Parameters
    ----------
    client
        A client on the store.

    Returns
    -------
    list of dict
        Per dataset: name, sizes (n_genes, n_cells, n_metadata_cells, nnz), value_kind, layout, loaded_at and
        started_at (ISO 8601, UTC), load_id, loader_version, the metadata columns used and the source files
        (role, path, size, sha256).

    Raises
    ------
    genostream.errors.EngineError
        The engine refused a statement.
    """
    ensure_raw_schema(client)
    result = client.query(LIST_SQL)
    entries = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    for entry in entries:
        entry["loaded_at"] = _iso(entry["loaded_at"])
        entry["started_at"] = _iso(entry["started_at"])
        entry["source_files"] = json.loads(entry["source_files"] or "[]")
        entry["value_kind"] = str(entry["value_kind"])
        entry["layout"] = str(entry["layout"])
    return entries


@engine_errors()
def drop_dataset(client: Client, name: str) -> None:
    """Remove a dataset: one manifest insert hides it, then its partitions are dropped.

    A load of it still in flight then publishes nothing.

    Parameters
    ----------
    client
        A client on the store.
    name
        The dataset's name.

    Raises
    ------
    UnknownDatasetError
        No dataset of that name is loaded.
    genostream.errors.EngineError
        The engine refused a statement.
    """
    ensure_raw_schema(client)
    if name not in manifest.current_load_ids(client):
        raise UnknownDatasetError(f"no dataset named {name!r} is loaded")
    loads = [r for r in manifest.all_loads(client, name) if r.status != "dropped"]
    manifest.set_status(client, loads, "dropped")
    for r in loads:
        manifest.drop_partitions(client, r.dataset, r.load_id)
