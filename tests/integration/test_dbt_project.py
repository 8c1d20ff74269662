"""The dbt project as a whole: staging follows each dataset's current load, docs cover every column, and
parsing the project raises no warnings (deprecations, undocumented or misconfigured nodes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers.dbt import run_dbt
from tests.helpers.paths import REPO

pytestmark = pytest.mark.studies("pbmc", "tenx", "counts")

PROBE = "stale_probe"
LOAD_COLUMNS = [
    "load_id",
    "dataset",
    "status",
    "layout",
    "value_kind",
    "n_genes",
    "n_cells",
    "n_metadata_cells",
    "nnz",
    "cell_type_column",
    "sample_column",
    "source_files",
    "loader_version",
    "started_at",
    "finished_at",
    "message",
    "updated_at",
]
BASE = datetime(2024, 1, 1, tzinfo=UTC)


def _insert(client, table: str, **row) -> None:
    client.insert(f"raw.{table}", [list(row.values())], column_names=list(row))


def _insert_load(client, load_id: str, status: str, minutes: int, *, version: int = 0) -> None:
    """One manifest row plus one row in every data table, tagged by load_id so leaks are visible."""
    at = BASE + timedelta(minutes=minutes)
    row = [load_id, PROBE, status, "scp", "real", 1, 1, 1, 1, "Cluster", "Subject", "[]", "test"]
    updated = at + timedelta(seconds=version)
    client.insert("raw.loads", [[*row, at, at, "", updated]], column_names=LOAD_COLUMNS)
    keys = {"dataset": PROBE, "load_id": load_id}
    _insert(client, "matrix", **keys, gene_index=1, cell_index=1, value=1.5)
    _insert(
        client,
        "genes",
        **keys,
        gene_index=1,
        gene_id=load_id,
        gene=f"G_{load_id}",
        symbol="G",
        feature_type="Gene Expression",
    )
    _insert(client, "barcodes", **keys, cell_index=1, barcode=f"B_{load_id}")
    _insert(
        client,
        "metadata",
        **keys,
        barcode=f"B_{load_id}",
        cell_type=f"T_{load_id}",
        sample="s",
        group_attributes={},
        numeric_attributes={},
    )


@pytest.fixture(scope="module")
def probe_loads(built_store, engine_client):
    """Several loads of one dataset in raw: an older published one later marked replaced, the current one,
    an older published one not yet retired, and newer ones that failed or are still loading."""
    client = engine_client
    _insert_load(client, "old_replaced", "loaded", 1)
    _insert_load(client, "old_replaced", "replaced", 1, version=5)
    _insert_load(client, "older_loaded", "loaded", 2)
    _insert_load(client, "current", "loaded", 3)
    _insert_load(client, "newer_failed", "failed", 4)
    _insert_load(client, "newer_loading", "loading", 5)
    yield client
    for table in ("matrix", "genes", "barcodes", "metadata"):
        client.command(
            f"ALTER TABLE raw.{table} DELETE WHERE dataset = '{PROBE}' SETTINGS mutations_sync = 1"
        )
    client.command(f"ALTER TABLE raw.loads DELETE WHERE dataset = '{PROBE}' SETTINGS mutations_sync = 1")


def test_staging_keeps_only_the_newest_published_load(probe_loads) -> None:
    client = probe_loads

    def ids(view: str, column: str = "load_id") -> list[str]:
        sql = f"SELECT DISTINCT {column} FROM staging.{view} WHERE dataset = {{d:String}} ORDER BY 1"
        return [row[0] for row in client.query(sql, parameters={"d": PROBE}).result_rows]

    assert ids("stg_raw__loads") == ["current"]
    for view in ("stg_raw__matrix", "stg_raw__genes", "stg_raw__barcodes", "stg_raw__metadata"):
        assert ids(view) == ["current"], view
    assert ids("stg_raw__genes", "gene") == ["G_current"]
    assert ids("stg_raw__matrix", "toString(cell_idx)") == ["0"]


def test_staging_leaves_other_datasets_alone(probe_loads) -> None:
    rows = probe_loads.query("SELECT dataset FROM staging.stg_raw__loads ORDER BY dataset").result_rows
    assert {"pbmc", "tenx", "counts", PROBE} <= {row[0] for row in rows}
    assert len(rows) == len({row[0] for row in rows})


def test_docs_generate_documents_every_column(built_store) -> None:
    run_dbt("docs", "generate")
    target = REPO / "dbt_project" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["docs"]["doc.genostream.__overview__"]["block_contents"].strip()
    checked = 0
    documented_nodes = {**manifest["nodes"], **manifest["sources"]}
    for unique_id, entry in {**catalog["nodes"], **catalog["sources"]}.items():
        node = documented_nodes[unique_id]
        assert node["description"].strip(), f"{unique_id} has no description"
        documented = {name.lower(): col["description"].strip() for name, col in node["columns"].items()}
        for column in entry["columns"]:
            assert documented.get(column.lower()), f"{unique_id}.{column} is undocumented"
            checked += 1
    models = {uid for uid in catalog["nodes"] if uid.startswith("model.")}
    assert {
        f"model.genostream.{m}" for m in ("expression", "gene_stats", "marker_genes", "pseudobulk")
    } <= models
    assert {
        f"source.genostream.raw.{t}" for t in ("loads", "matrix", "genes", "barcodes", "metadata")
    } <= set(catalog["sources"])
    assert checked > 100


@pytest.fixture(scope="module")
def parsed() -> tuple[Any, list[str]]:
    """A full parse of the project (no partial parse): dbt's result and the warnings it raised."""
    from dbt.cli.main import dbtRunner

    warnings: list[str] = []

    def collect(event) -> None:
        if event.info.level in ("warn", "error"):
            warnings.append(f"{event.info.name}: {event.info.msg}")

    result = dbtRunner(callbacks=[collect]).invoke(
        [
            "parse",
            "--no-partial-parse",
            "--project-dir",
            str(REPO / "dbt_project"),
            "--profiles-dir",
            str(REPO),
        ]
    )
    assert result.success, result.exception
    return result, warnings


def test_parse_raises_no_warnings(parsed) -> None:
    _, warnings = parsed
    assert warnings == []


def test_expression_is_built_from_expression_by_gene(parsed) -> None:
    # One join of the matrix with its annotation: expression reads expression_by_gene's rows
    # (bench/results/seed/README.md, "Where the build's time goes"), never the matrix itself.
    result, _ = parsed
    nodes = result.result.nodes
    expression = nodes["model.genostream.expression"].depends_on.nodes
    assert "model.genostream.expression_by_gene" in expression
    assert "model.genostream.stg_raw__matrix" not in expression
    assert "model.genostream.expression" not in nodes["model.genostream.expression_by_gene"].depends_on.nodes


def test_expression_never_merges_the_builds_full_parts(built_store, engine_client) -> None:
    # The build's 16M-row parts (~180–220 MB at the reference size) must stay as written: re-merging them in
    # the next process to open the store cost minutes of a core and tripled the gateway's latency there.
    [(engine,)] = engine_client.query(
        "SELECT engine_full FROM system.tables WHERE database = 'marts' AND name = 'expression'"
    ).result_rows
    assert "max_bytes_to_merge_at_max_space_in_pool = 268435456" in engine


def _dictionaries(client, database: str) -> set[str]:
    sql = "SELECT name FROM system.dictionaries WHERE database = {db:String}"
    return {row[0] for row in client.query(sql, parameters={"db": database}).result_rows}


def test_build_only_dictionaries_live_outside_marts(built_store, engine_client) -> None:
    # marts is the analysts' interface (granted to them, admitted by /sql); the expression insert's lookups
    # are build internals in a database of their own.
    assert _dictionaries(engine_client, "marts") == set()
    assert _dictionaries(engine_client, "intermediate") == {"cell_lookup", "gene_lookup"}


def test_build_drops_the_lookups_an_earlier_layout_left_in_marts(built_store, engine_client) -> None:
    # A store built before the lookups moved to `intermediate` still holds them in marts, readable there.
    engine_client.command(
        "CREATE DICTIONARY marts.cell_lookup (cell_key UInt64, barcode String) PRIMARY KEY cell_key"
        " SOURCE(CLICKHOUSE(QUERY 'SELECT cell AS cell_key, barcode FROM marts.cells'))"
        " LAYOUT(HASHED()) LIFETIME(0)"
    )
    run_dbt("run", "--select", "stg_raw__loads")
    assert _dictionaries(engine_client, "marts") == set()
    assert _dictionaries(engine_client, "intermediate") == {"cell_lookup", "gene_lookup"}
