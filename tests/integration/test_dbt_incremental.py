"""Per-dataset incremental builds stay exact: a reloaded dataset is recomputed, a dropped one disappears, and
the other datasets' partitions of both expression marts are left untouched."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from tests.helpers.dbt import failures, invoke_dbt, run_dbt
from tests.helpers.paths import TENX_DIR
from tests.helpers.studies import STUDY_READERS, query_columns

PROBE = "reload_probe"
INCREMENTAL_MARTS = ("expression", "expression_by_gene")
PARTS_SQL = """
    SELECT dataset, groupArraySorted(100)(name) FROM (
        SELECT DISTINCT p.name, e.dataset FROM system.parts AS p
        INNER JOIN (SELECT DISTINCT _partition_id AS partition_id, dataset FROM marts.{table}) AS e
            ON p.partition_id = e.partition_id
        WHERE p.active AND p.database = 'marts' AND p.table = '{table}'
    ) GROUP BY dataset
"""


def _parts(client) -> dict[str, dict[str, list[str]]]:
    """Per incremental mart, each dataset's active parts."""
    return {t: dict(client.query(PARTS_SQL.format(table=t)).result_rows) for t in INCREMENTAL_MARTS}


def _probe_stats(client) -> dict[str, np.ndarray]:
    sql = (
        "SELECT gene, n_expressing, sum FROM marts.gene_stats WHERE dataset = {dataset:String}"
        " AND cell_type = 'unannotated' ORDER BY gene"
    )
    return query_columns(client, sql, PROBE)


def test_reload_and_drop_rebuild_only_what_changed(built_store, engine_client, counts_study_dir) -> None:
    from loader import drop_dataset, load_dataset

    client = engine_client
    before = _parts(client)
    load_dataset(client, counts_study_dir, dataset=PROBE)
    run_dbt("run")
    first = _probe_stats(client)
    assert len(first["gene"]) == 120

    load_dataset(client, TENX_DIR, dataset=PROBE)  # same name, different study: a new current load
    run_dbt("run")
    tenx = STUDY_READERS["tenx"](counts_study_dir)
    expected = tenx.lognorm()
    for table in INCREMENTAL_MARTS:
        rows = query_columns(
            client,
            f"SELECT count() AS n, sum(lognorm) AS total, uniqExact(load_id) AS loads FROM marts.{table}"
            " WHERE dataset = {dataset:String}",
            PROBE,
        )
        assert rows["n"][0] == np.count_nonzero(tenx.matrix), table
        assert_allclose(rows["total"][0], expected.sum(), rtol=1e-9)
        assert rows["loads"][0] == 1, table
    assert len(_probe_stats(client)["gene"]) == len(tenx.genes)

    after_reload = _parts(client)
    for table, datasets in before.items():
        for dataset, parts in datasets.items():
            assert after_reload[table][dataset] == parts, f"{table}: {dataset} was rebuilt needlessly"

    drop_dataset(client, PROBE)
    run_dbt("run")
    assert all(PROBE not in datasets for datasets in _parts(client).values())
    for table in (*INCREMENTAL_MARTS, "gene_stats", "cells", "pseudobulk"):
        count = client.query(f"SELECT count() FROM marts.{table} WHERE dataset = '{PROBE}'").result_rows[0][0]
        assert count == 0, table
    assert _parts(client) == before


def test_reload_as_empty_removes_the_old_partition(built_store, engine_client, tmp_path) -> None:
    """A dataset reloaded with no non-zeros (every entry an explicit zero) has nothing to overwrite its
    partition with: the build must still remove the old rows, and every data test stays green."""
    from loader import drop_dataset, load_dataset
    from tests.helpers.loader_inputs import ScpStudy

    client = engine_client
    dataset = "empty_reload_probe"
    load_dataset(client, ScpStudy().write(tmp_path / "full"), dataset=dataset)
    run_dbt("run")
    count_sql = "SELECT count() FROM marts.expression WHERE dataset = {d:String}"
    by_gene_sql = count_sql.replace("marts.expression", "marts.expression_by_gene")
    assert client.query(count_sql, parameters={"d": dataset}).result_rows[0][0] == 7
    assert client.query(by_gene_sql, parameters={"d": dataset}).result_rows[0][0] == 7

    empty = ScpStudy()
    empty.matrix[3:] = [" ".join([*line.split()[:2], "0"]) for line in empty.matrix[3:]]
    reloaded = load_dataset(client, empty.write(tmp_path / "empty"), dataset=dataset)
    assert reloaded.nnz == 0
    run_dbt("build")  # every data test, e.g. rows per dataset = manifest nnz
    assert client.query(count_sql, parameters={"d": dataset}).result_rows[0][0] == 0
    assert client.query(by_gene_sql, parameters={"d": dataset}).result_rows[0][0] == 0
    stats = client.query(
        "SELECT count(), sum(n_expressing), sum(sum) FROM marts.gene_stats WHERE dataset = {d:String}",
        parameters={"d": dataset},
    ).result_rows[0]
    assert stats[0] > 0 and stats[1:] == (0, 0)

    drop_dataset(client, dataset)
    run_dbt("run")
    assert client.query(count_sql, parameters={"d": dataset}).result_rows[0][0] == 0


@pytest.mark.parametrize("table", INCREMENTAL_MARTS)
def test_damaged_partition_is_rebuilt(built_store, engine_client, tmp_path, table: str) -> None:
    """A partition whose rows no longer match its load (the engine detached parts it found broken after a full
    disk — here: a stray extra part) is recomputed by the next build, not left failing the row-count test."""
    from loader import drop_dataset, load_dataset
    from tests.helpers.loader_inputs import ScpStudy

    client = engine_client
    dataset = f"damaged_probe_{table}"
    load_dataset(client, ScpStudy().write(tmp_path / "s"), dataset=dataset)
    run_dbt("run")
    sql = f"SELECT count(), sum(lognorm) FROM marts.{table} WHERE dataset = {{d:String}}"
    built = client.query(sql, parameters={"d": dataset}).result_rows[0]
    client.command(
        f"INSERT INTO marts.{table} SELECT * FROM marts.{table} WHERE dataset = '{dataset}' LIMIT 2"
    )
    assert client.query(sql, parameters={"d": dataset}).result_rows[0][0] == built[0] + 2
    # The two expression marts no longer hold the same rows, nor as many as marts.genes says: the per-gene
    # agreement test says so (for `expression`, that is its uniqueness test too).
    damaged = invoke_dbt("test", "--select", "assert_expression_marts_agree_per_gene")
    assert [r.node.name for r in failures(damaged)] == ["assert_expression_marts_agree_per_gene"]
    # Two rows now share their (gene, cell): expression_by_gene's own uniqueness test sees it there.
    duplicated = invoke_dbt("test", "--select", "test_name:unique_within")
    by_gene_test = "unique_within_expression_by_gene_cell__dataset__gene_idx"
    expected = [by_gene_test] if table == "expression_by_gene" else []
    assert [r.node.name for r in failures(duplicated)] == expected
    run_dbt("run")
    assert client.query(sql, parameters={"d": dataset}).result_rows[0] == built
    drop_dataset(client, dataset)
    run_dbt("run")


@pytest.mark.parametrize("damage", ["relabelled", "mixed"])
def test_expression_rows_that_disagree_with_their_cell_fail_the_test(
    built_store, engine_client, tmp_path, damage: str
) -> None:
    """assert_expression_rows_match_cells groups the rows by cell alone: it still sees a cell whose rows all
    carry another cell type than marts.cells gives it, and a cell whose rows disagree among themselves."""
    from loader import drop_dataset, load_dataset
    from tests.helpers.loader_inputs import ScpStudy

    client = engine_client
    dataset = f"annotation_probe_{damage}"
    load_dataset(client, ScpStudy().write(tmp_path / "s"), dataset=dataset)
    run_dbt("run")
    test = ("test", "--select", "assert_expression_rows_match_cells")
    assert failures(invoke_dbt(*test)) == []
    # Cell 0 (AAAC-1, a T cell of p1) has two rows: move them out, then back with a wrong annotation.
    client.command(
        "CREATE TABLE default.annotation_probe ENGINE = Memory AS SELECT * FROM marts.expression"
        f" WHERE dataset = '{dataset}' AND cell = 0"
    )
    try:
        rows = client.query("SELECT count(), any(cell_type) FROM default.annotation_probe").result_rows[0]
        assert rows == (2, "T cell")
        client.command(
            f"ALTER TABLE marts.expression DELETE WHERE dataset = '{dataset}' AND cell = 0"
            " SETTINGS mutations_sync = 1"
        )
        if damage == "relabelled":  # both rows: a consistent but wrong cell type
            replaced = "SELECT * REPLACE ('Epithelial' AS cell_type) FROM default.annotation_probe"
        else:  # one row in another sample: the cell's rows disagree
            replaced = (
                "SELECT * REPLACE (if(gene = 'GAPDH', 'p2', sample) AS sample) FROM default.annotation_probe"
            )
        client.command(f"INSERT INTO marts.expression {replaced}")
        assert [r.node.name for r in failures(invoke_dbt(*test))] == ["assert_expression_rows_match_cells"]
    finally:
        client.command("DROP TABLE IF EXISTS default.annotation_probe")
        drop_dataset(client, dataset)
        run_dbt("run")
    assert failures(invoke_dbt(*test)) == []
