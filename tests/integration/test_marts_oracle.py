"""Every row of gene_stats and marker_genes against numpy/scipy on the dense matrix (zeros included).

Three datasets side by side in one store: `pbmc` (real-valued, lognorm = value), `tenx` (10x counts, no
metadata: one `unannotated` group) and `counts` (synthetic counts with a one-cell group, cells without
metadata, genes zero in a group or everywhere, a cell with no counts).
"""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats

from tests.helpers.oracle import DenseStudy
from tests.helpers.studies import STUDY_READERS, query_columns

RTOL = 1e-6
# lognorm values are O(0.1–10); 1e-12 only absorbs float noise around an exact 0 (e.g. a variance of 0).
ATOL = 1e-12


def _floats(values: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def _assert_close(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    """NULL exactly where the oracle is nan, the rest within RTOL/ATOL."""
    actual = _floats(actual)
    assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=f"{what}: NULL pattern")
    assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


GENE_STATS_SQL = """
    SELECT s.cell_type, g.gene_idx, s.n_cells, s.n_expressing, s.pct_expressing, s.sum, s.sum_sq, s.mean,
           s.variance, s.stddev, s.cv, s.mean_expressing
    FROM marts.gene_stats AS s
    INNER JOIN marts.genes AS g ON s.dataset = g.dataset AND s.gene = g.gene
    WHERE s.dataset = {dataset:String}
    ORDER BY s.cell_type, g.gene_idx
"""

MARKER_SQL = """
    SELECT m.cell_type, g.gene_idx, m.n_in, m.n_out, m.mean_in, m.mean_out, m.var_in, m.var_out, m.pct_in,
           m.pct_out, m.log2_fold_change, m.t_statistic, m.df
    FROM marts.marker_genes AS m
    INNER JOIN marts.genes AS g ON m.dataset = g.dataset AND m.gene = g.gene
    WHERE m.dataset = {dataset:String}
    ORDER BY m.cell_type, g.gene_idx
"""


def _groups(dense: DenseStudy) -> list[str]:
    return sorted(set(dense.cell_types))


def _expected_gene_stats(dense: DenseStudy, lognorm: np.ndarray) -> dict[str, np.ndarray]:
    """The dense oracle in the mart's row order (cell_type, gene index)."""
    parts: dict[str, list[np.ndarray]] = {}
    for cell_type in _groups(dense):
        x = lognorm[:, dense.cell_types == cell_type]
        n = x.shape[1]
        expressing = (x != 0).sum(axis=1)
        mean = x.mean(axis=1)
        variance = x.var(axis=1, ddof=1) if n > 1 else np.full(len(x), np.nan)
        stddev = np.sqrt(variance)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(mean != 0, stddev / mean, np.nan)
            mean_expressing = np.where(expressing > 0, x.sum(axis=1) / expressing, 0.0)
        row = {
            "n_cells": np.full(len(x), n),
            "n_expressing": expressing,
            "pct_expressing": expressing / n,
            "sum": x.sum(axis=1),
            "sum_sq": (x * x).sum(axis=1),
            "mean": mean,
            "variance": variance,
            "stddev": stddev,
            "cv": cv,
            "mean_expressing": mean_expressing,
        }
        for name, values in row.items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}


def _expected_markers(dense: DenseStudy, lognorm: np.ndarray) -> dict[str, np.ndarray]:
    """scanpy's rank_genes_groups(method='t-test', reference='rest') statistics, per cell type and gene."""
    parts: dict[str, list[np.ndarray]] = {}
    n_genes = len(lognorm)
    for cell_type in _groups(dense):
        inside = dense.cell_types == cell_type
        x_in, x_out = lognorm[:, inside], lognorm[:, ~inside]
        n_in, n_out = x_in.shape[1], x_out.shape[1]
        nan = np.full(n_genes, np.nan)
        mean_in = x_in.mean(axis=1)
        mean_out = x_out.mean(axis=1) if n_out else nan
        var_in = x_in.var(axis=1, ddof=1) if n_in > 1 else nan
        var_out = x_out.var(axis=1, ddof=1) if n_out > 1 else nan
        with np.errstate(divide="ignore", invalid="ignore"):
            t, p = stats.ttest_ind_from_stats(
                mean_in, np.sqrt(var_in), n_in, mean_out, np.sqrt(var_out), n_out, equal_var=False
            )
            se_in, se_out = var_in / n_in, var_out / n_out
            df = (se_in + se_out) ** 2 / (se_in**2 / (n_in - 1) + se_out**2 / (n_out - 1))
        t = np.where(np.isfinite(t), t, np.nan)
        row = {
            "n_in": np.full(n_genes, n_in),
            "n_out": np.full(n_genes, n_out),
            "mean_in": mean_in,
            "mean_out": mean_out,
            "var_in": var_in,
            "var_out": var_out,
            "pct_in": (x_in != 0).sum(axis=1) / n_in,
            "pct_out": (x_out != 0).sum(axis=1) / n_out if n_out else nan,
            "log2_fold_change": np.log2((np.expm1(mean_in) + 1e-9) / (np.expm1(mean_out) + 1e-9)),
            "t_statistic": t,
            "df": np.where(np.isnan(t), np.nan, df),
            "p_value": np.where(np.isnan(t), np.nan, p),
        }
        for name, values in row.items():
            parts.setdefault(name, []).append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}


def _row_keys(dense: DenseStudy) -> tuple[np.ndarray, np.ndarray]:
    groups = _groups(dense)
    n_genes = len(dense.genes)
    return np.repeat(groups, n_genes), np.tile(np.arange(n_genes), len(groups))


def test_gene_stats_match_numpy_on_every_row(engine_client, loaded_study) -> None:
    dataset, dense, lognorm = loaded_study
    actual = query_columns(engine_client, GENE_STATS_SQL, dataset)
    cell_types, gene_idx = _row_keys(dense)
    assert_array_equal(actual["cell_type"], cell_types)
    assert_array_equal(actual["gene_idx"].astype(np.int64), gene_idx)
    expected = _expected_gene_stats(dense, lognorm)
    for name in ("n_cells", "n_expressing"):
        assert_array_equal(actual[name].astype(np.int64), expected[name], err_msg=f"{dataset}.{name}")
    for name in ("pct_expressing", "sum", "sum_sq", "mean", "variance", "stddev", "cv", "mean_expressing"):
        _assert_close(actual[name], expected[name], f"{dataset}.gene_stats.{name}")


def test_marker_genes_match_scipy_welch_on_every_row(engine_client, loaded_study) -> None:
    dataset, dense, lognorm = loaded_study
    actual = query_columns(engine_client, MARKER_SQL, dataset)
    cell_types, gene_idx = _row_keys(dense)
    assert_array_equal(actual["cell_type"], cell_types)
    assert_array_equal(actual["gene_idx"].astype(np.int64), gene_idx)
    expected = _expected_markers(dense, lognorm)
    for name in ("n_in", "n_out"):
        assert_array_equal(actual[name].astype(np.int64), expected[name], err_msg=f"{dataset}.{name}")
    for name in ("mean_in", "mean_out", "var_in", "var_out", "pct_in", "pct_out", "log2_fold_change"):
        _assert_close(actual[name], expected[name], f"{dataset}.marker_genes.{name}")
    # t near 0 is a difference of close means: compare it on the scale of its typical size.
    t_actual, t_expected = _floats(actual["t_statistic"]), expected["t_statistic"]
    assert_array_equal(np.isnan(t_actual), np.isnan(t_expected), err_msg=f"{dataset}.t: NULL pattern")
    assert_allclose(t_actual, t_expected, rtol=RTOL, atol=1e-9, equal_nan=True, err_msg=f"{dataset}.t")
    _assert_close(actual["df"], expected["df"], f"{dataset}.marker_genes.df")
    # The mart's (t, df) give scipy's own p-values: df is the one scipy uses.
    with np.errstate(invalid="ignore"):
        p_from_mart = 2 * stats.t.sf(np.abs(t_actual), _floats(actual["df"]))
    _assert_close(p_from_mart, expected["p_value"], f"{dataset}.p-value from (t, df)")


def test_counts_study_holds_the_edge_cases(counts_study_dir) -> None:
    """The comparisons above are only as strong as their data: make sure the hard cases are in it."""
    dense = STUDY_READERS["counts"](counts_study_dir)
    lognorm = dense.lognorm()
    sizes = {t: int((dense.cell_types == t).sum()) for t in _groups(dense)}
    assert sizes["Megakaryocyte"] == 1 and sizes["unannotated"] == 8
    b_cells = lognorm[:, dense.cell_types == "B cell"]
    assert (b_cells == 0).all(axis=1).any() and (lognorm == 0).all(axis=1).any()
    assert (dense.matrix.sum(axis=0) == 0).any()
    assert len(set(dense.genes)) < len(dense.genes)
