"""The two-group statistics from sparse parts (gateway.analyses.stats) against scipy on dense vectors: the
Wilcoxon z with stored values on both sides of the zero block (real-valued studies can be negative), ties
among the stored values, and Welch's t; the WHERE terms a selection binds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from gateway.analyses.cells import CellSelection, MetadataColumn, Term
from gateway.analyses.stats import fisher_z_difference, rank_sum_z, welch_p_values, welch_t, with_zeros


def _sparse_parts(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """What the SQL sums per gene, from the stored (non-zero) values of both groups (one gene)."""
    values = np.concatenate([x, y])
    in_a = np.concatenate([np.ones(len(x), bool), np.zeros(len(y), bool)])
    stored = values != 0
    v, a = values[stored], in_a[stored]
    ranks = stats.rankdata(v)  # average ranks among the stored values
    _, counts = np.unique(v, return_counts=True)
    return {
        "stored": np.array([stored.sum()]),
        "stored_a": np.array([(stored & in_a).sum()]),
        "negative": np.array([(v < 0).sum()]),
        "positive_a": np.array([((v > 0) & a).sum()]),
        "rank_sum_a": np.array([ranks[a].sum()]),
        "tie_sum": np.array([float((counts**3 - counts).sum())]),
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("negatives", [False, True])
def test_wilcoxon_z_from_sparse_parts_matches_scipy(seed: int, negatives: bool) -> None:
    rng = np.random.default_rng(seed)
    n_a, n_b = 37, 61
    draw = rng.integers(-3 if negatives else 0, 4, size=n_a + n_b).astype(float)  # many ties, zeros
    draw[rng.random(n_a + n_b) < 0.4] = 0.0
    x, y = draw[:n_a], draw[n_a:]
    z = rank_sum_z(n_a, n_b, **_sparse_parts(x, y))[0]
    u, p = stats.mannwhitneyu(x, y, method="asymptotic", use_continuity=False)
    sigma = np.sqrt(stats.tiecorrect(stats.rankdata(draw)) * n_a * n_b * (n_a + n_b + 1) / 12)
    assert z == pytest.approx((u - n_a * n_b / 2) / sigma, rel=1e-12)
    assert 2 * stats.norm.sf(abs(z)) == pytest.approx(p, rel=1e-10)


def test_wilcoxon_is_undefined_when_every_cell_is_equal() -> None:
    parts = _sparse_parts(np.zeros(5), np.zeros(7))
    assert np.isnan(rank_sum_z(5, 7, **parts)[0])


def test_welch_t_from_moments_with_zeros_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    x = np.where(rng.random(50) < 0.5, 0.0, rng.gamma(2.0, size=50))
    y = np.where(rng.random(80) < 0.7, 0.0, rng.gamma(1.5, size=80))
    moments = []
    for v in (x, y):
        k = np.array([float((v != 0).sum())])
        stored = v[v != 0]
        moments.append(
            with_zeros(len(v), k, np.array([stored.mean()]), np.array([stored.var() * len(stored)]))
        )
    (mean_a, var_a), (mean_b, var_b) = moments
    assert mean_a[0] == pytest.approx(x.mean()) and var_a[0] == pytest.approx(x.var(ddof=1))
    t, df = welch_t(len(x), mean_a, var_a, len(y), mean_b, var_b)
    expected = stats.ttest_ind(x, y, equal_var=False)
    assert t[0] == pytest.approx(expected.statistic, rel=1e-12)
    assert welch_p_values(t, df)[0] == pytest.approx(expected.pvalue, rel=1e-10)
    assert np.isnan(welch_t(3, np.zeros(1), np.zeros(1), 4, np.zeros(1), np.zeros(1))[0][0])


def test_fisher_z_of_two_correlations() -> None:
    z, p = fisher_z_difference((0.6, 40), (0.2, 50))
    expected = (np.arctanh(0.6) - np.arctanh(0.2)) / np.sqrt(1 / 37 + 1 / 47)
    assert z == pytest.approx(expected) and p == pytest.approx(2 * stats.norm.sf(expected))
    assert fisher_z_difference((None, 40), (0.2, 50)) == (None, None)
    assert fisher_z_difference((0.5, 3), (0.2, 50)) == (None, None)


def test_selection_binds_every_value_and_ands_the_columns() -> None:
    arm = MetadataColumn("arm (a/b)", "group", {"x+y": 3})
    mito = MetadataColumn("pct_mito", "numeric", low=0.0, high=9.0)
    selection = CellSelection(
        ("T cell",), (Term(arm, values=("x+y",)), Term(mito, high=5.0)), excluded_cell_types=("B cell",)
    )
    sql, params = selection.predicate("a")
    assert "x+y" not in sql and "arm (a/b)" not in sql and "5.0" not in sql  # bound, never spliced
    assert sql.count(" AND ") >= 4 and ">=" not in sql  # no lower bound asked, none applied
    assert params == {
        "a_types": ["T cell"],
        "a_excluded": ["B cell"],
        "a_0_k": "arm (a/b)",
        "a_0_v": ["x+y"],
        "a_1_k": "pct_mito",
        "a_1_hi": 5.0,
    }
    assert CellSelection().predicate("a") == ("1", {})
