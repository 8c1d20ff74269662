"""cells, genes, expression and pseudobulk against the dense matrix of each loaded study, row by row."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal

from tests.helpers.studies import LOGNORM_FROM_COUNTS, query_columns

RTOL = 1e-6
ATOL = 1e-12


def test_cells_carry_annotation_and_library_size(engine_client, loaded_study) -> None:
    dataset, dense, _ = loaded_study
    cells = query_columns(
        engine_client,
        "SELECT cell, barcode, cell_type, sample, n_genes_detected, total_counts FROM marts.cells"
        " WHERE dataset = {dataset:String} ORDER BY cell",
        dataset,
    )
    assert_array_equal(cells["cell"].astype(np.int64), np.arange(len(dense.barcodes)))
    assert_array_equal(cells["barcode"], dense.barcodes)
    assert_array_equal(cells["cell_type"], dense.cell_types)
    assert_array_equal(cells["sample"], dense.samples)
    assert_array_equal(cells["n_genes_detected"].astype(np.int64), (dense.matrix != 0).sum(axis=0))
    assert_allclose(cells["total_counts"].astype(float), dense.matrix.sum(axis=0), rtol=RTOL, atol=ATOL)


def test_genes_count_expressing_cells_and_totals(engine_client, loaded_study) -> None:
    dataset, dense, _ = loaded_study
    genes = query_columns(
        engine_client,
        "SELECT gene_idx, symbol, n_cells_expressing, total FROM marts.genes"
        " WHERE dataset = {dataset:String} ORDER BY gene_idx",
        dataset,
    )
    assert_array_equal(genes["symbol"], dense.genes)
    assert_array_equal(genes["n_cells_expressing"].astype(np.int64), (dense.matrix != 0).sum(axis=1))
    assert_allclose(genes["total"].astype(float), dense.matrix.sum(axis=1), rtol=RTOL, atol=ATOL)


def test_expression_is_the_matrix_non_zeros_with_lognorm(engine_client, loaded_study) -> None:
    dataset, dense, lognorm = loaded_study
    rows = query_columns(
        engine_client,
        "SELECT g.gene_idx AS gene_idx, e.cell AS cell, c.barcode AS barcode, e.cell_type AS cell_type,"
        " e.sample AS sample, e.value AS value, e.lognorm AS lognorm"
        " FROM marts.expression AS e"
        " INNER JOIN marts.genes AS g ON e.dataset = g.dataset AND e.gene = g.gene"
        " INNER JOIN marts.cells AS c ON e.dataset = c.dataset AND e.cell = c.cell"
        " WHERE e.dataset = {dataset:String} ORDER BY g.gene_idx, e.cell",
        dataset,
    )
    genes, cells = np.nonzero(dense.matrix)  # row-major: sorted by gene, then cell, like the query
    assert_array_equal(rows["gene_idx"].astype(np.int64), genes)
    assert_array_equal(rows["cell"].astype(np.int64), cells)
    assert_array_equal(rows["barcode"], np.asarray(dense.barcodes, dtype=object)[cells])
    assert_array_equal(rows["cell_type"], dense.cell_types[cells])
    assert_array_equal(rows["sample"], dense.samples[cells])
    assert_array_equal(rows["value"].astype(float), dense.matrix[genes, cells])
    assert_allclose(rows["lognorm"].astype(float), lognorm[genes, cells], rtol=RTOL, atol=ATOL)


def test_pseudobulk_sums_raw_values_per_sample_and_cell_type(engine_client, loaded_study) -> None:
    dataset, dense, _ = loaded_study
    rows = query_columns(
        engine_client,
        "SELECT p.sample, p.cell_type, g.gene_idx, p.n_cells, p.sum_value FROM marts.pseudobulk AS p"
        " INNER JOIN marts.genes AS g ON p.dataset = g.dataset AND p.gene = g.gene"
        " WHERE p.dataset = {dataset:String} ORDER BY p.sample, p.cell_type, g.gene_idx",
        dataset,
    )
    groups = sorted({(s, t) for s, t in zip(dense.samples, dense.cell_types, strict=True)})
    expected_sums, expected_sizes = [], []
    for sample, cell_type in groups:
        members = (dense.samples == sample) & (dense.cell_types == cell_type)
        expected_sums.append(dense.matrix[:, members].sum(axis=1))
        expected_sizes.append(np.full(len(dense.genes), members.sum()))
    n_genes = len(dense.genes)
    assert_array_equal(rows["sample"], np.repeat([s for s, _ in groups], n_genes))
    assert_array_equal(rows["cell_type"], np.repeat([t for _, t in groups], n_genes))
    assert_array_equal(rows["gene_idx"].astype(np.int64), np.tile(np.arange(n_genes), len(groups)))
    assert_array_equal(rows["n_cells"].astype(np.int64), np.concatenate(expected_sizes))
    assert_allclose(rows["sum_value"].astype(float), np.concatenate(expected_sums), rtol=RTOL, atol=ATOL)


def test_datasets_mirror_the_manifest(engine_client, loaded_study) -> None:
    dataset, dense, _ = loaded_study
    row = query_columns(
        engine_client,
        "SELECT value_kind, n_genes, n_cells, nnz FROM marts.datasets WHERE dataset = {dataset:String}",
        dataset,
    )
    expected_kind = "counts" if LOGNORM_FROM_COUNTS[dataset] else "real"
    assert list(row["value_kind"]) == [expected_kind]
    assert (row["n_genes"][0], row["n_cells"][0]) == dense.matrix.shape
    assert row["nnz"][0] == np.count_nonzero(dense.matrix)
