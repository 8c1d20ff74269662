"""Highly variable genes: scanpy's `highly_variable_genes` flavours `seurat` and `cell_ranger` over a group.

ClickHouse aggregates every gene's stored values over the chosen cells (count, mean, sum of squared
deviations); the zeros enter through n, so mean and variance (n − 1) are over all cells of the group. The
values are expm1(lognorm) for `seurat` (scanpy un-logs the data before the mean and dispersion) and lognorm
itself for `cell_ranger`. What follows runs over one number per gene, a few thousand at most, and repeats
scanpy 1.11's rules step by step (pandas' `cut`, `groupby`, statsmodels' `mad`) in numpy, so that the bin
edges — and with them which bin a gene on an edge falls in — are the very floats scanpy computes:

- dispersion = variance / mean, a zero mean counting as 1e-12; `seurat` takes log(dispersion) (a zero
  dispersion is undefined, NaN) and log1p(mean);
- `seurat` bins the means into `n_bins` equal-width bins (pandas `cut`: the range's lower edge moved down by
  0.1 % of it, bins closed on the right) and normalises by each bin's mean and standard deviation (n − 1) of
  the defined dispersions; a bin with one defined dispersion gets a normalised dispersion of 1;
- `cell_ranger` bins by the 10th, 15th, …, 100th percentiles of the means and normalises by each bin's
  median and MAD (median absolute deviation / Φ⁻¹(3/4));
- `n_top_genes`: the genes whose normalised dispersion reaches the n-th highest defined one (ties are all
  kept); otherwise scanpy's cutoffs mean ∈ (min_mean, max_mean) and normalised dispersion ∈ (min_disp,
  max_disp), an undefined one counting as 0.

The genes are those detected in at least one chosen cell — scanpy after `sc.pp.filter_genes(min_cells=1)`
(a gene never detected has no dispersion, and in `cell_ranger` would make the percentile edges repeat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import special

from gateway.analyses.cells import CellSelection
from gateway.analyses.stats import with_zeros
from gateway.clients import ClientPool
from gateway.errors import BadRequest

Flavor = Literal["seurat", "cell_ranger"]

# Per gene over the chosen cells' stored rows (the zeros are added back from n). marts.expression is sorted
# by (dataset, cell_type, gene, …): aggregated in that order, one gene after another (0.45 s instead of 0.7 s
# over the 50M rows of one cell type, no hash table of every gene).
MOMENTS_SQL = """
SELECT gene, count() AS k, avg(v) AS mean_stored, varPopStable(v) * k AS m2_stored
FROM (SELECT gene, {value} AS v FROM marts.expression WHERE dataset = {{dataset:String}} AND {rows})
GROUP BY gene
ORDER BY gene
SETTINGS optimize_aggregation_in_order = 1
"""
# ClickHouse has no expm1; exp(x) − 1 loses ~1e-16 / x relatively, ~1e-15 at the smallest lognorm values.
VALUES = {"seurat": "exp(lognorm) - 1", "cell_ranger": "lognorm"}
MAD_SCALE = float(special.ndtri(0.75))  # statsmodels.robust.mad's c = scipy.stats.norm.ppf(3/4)


@dataclass(frozen=True)
class Cutoffs:
    """scanpy's default cutoffs (used when no n_top_genes is given); None is unbounded."""

    min_mean: float = 0.0125
    max_mean: float = 3.0
    min_disp: float = 0.5
    max_disp: float = np.inf


@dataclass(frozen=True)
class GeneMoments:
    """Per detected gene of a group of n cells: mean and variance (n − 1) of the flavour's values, zeros
    included, and how many cells express it."""

    n: int
    genes: np.ndarray  # object array of symbols, sorted
    mean: np.ndarray
    variance: np.ndarray
    n_expressing: np.ndarray


# cell_ranger's moments of one whole cell type are marts.gene_stats' own (lognorm, zeros counted, n − 1,
# computed the same way): read, not recomputed.
GENE_STATS_SQL = """
SELECT gene, n_expressing AS k, mean, variance
FROM marts.gene_stats
WHERE dataset = {dataset:String} AND cell_type = {cell_type:String} AND n_expressing > 0
ORDER BY gene
"""


def gene_moments(
    pool: ClientPool, dataset: str, selection: CellSelection, n: int, flavor: Flavor
) -> GeneMoments:
    """Mean and variance of every gene detected in the selection's n ≥ 2 cells, from ClickHouse."""
    if (
        flavor == "cell_ranger"
        and len(selection.cell_types) == 1
        and not selection.has_where
        and not selection.excluded_cell_types
    ):
        stats = pool.fetch(GENE_STATS_SQL, {"dataset": dataset, "cell_type": selection.cell_types[0]})
        return GeneMoments(
            n=n,
            genes=np.array([r["gene"] for r in stats], dtype=object),
            mean=np.array([r["mean"] for r in stats], dtype=float),
            variance=np.array([r["variance"] for r in stats], dtype=float),
            n_expressing=np.array([r["k"] for r in stats], dtype=np.int64),
        )
    rows, params = selection.row_filter("sel")
    found = pool.fetch(MOMENTS_SQL.format(value=VALUES[flavor], rows=rows), {"dataset": dataset, **params})
    k = np.array([r["k"] for r in found], dtype=float)
    mean, variance = with_zeros(
        n, k, np.array([r["mean_stored"] for r in found]), np.array([r["m2_stored"] for r in found])
    )
    return GeneMoments(
        n=n,
        genes=np.array([r["gene"] for r in found], dtype=object),
        mean=np.asarray(mean, dtype=float),
        variance=np.asarray(variance, dtype=float),
        n_expressing=k.astype(np.int64),
    )


def dispersions(mean: np.ndarray, variance: np.ndarray, flavor: Flavor) -> tuple[np.ndarray, np.ndarray]:
    """(means, dispersions) as scanpy reports them."""
    mean = np.where(mean == 0, 1e-12, mean)
    dispersion = variance / mean
    if flavor == "seurat":
        with np.errstate(divide="ignore", invalid="ignore"):
            dispersion = np.log(np.where(dispersion == 0, np.nan, dispersion))
        mean = np.log1p(mean)
    return mean, dispersion


def equal_width_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """pandas.cut(values, n_bins)'s edges (right-closed bins; the lowest edge 0.1 % of the range lower)."""
    low, high = float(values.min()), float(values.max())
    if low == high:
        low -= 0.001 * abs(low) if low != 0 else 0.001
        high += 0.001 * abs(high) if high != 0 else 0.001
        return np.linspace(low, high, n_bins + 1, endpoint=True)
    edges = np.linspace(low, high, n_bins + 1, endpoint=True)
    edges[0] -= (high - low) * 0.001
    return edges


def percentile_edges(values: np.ndarray) -> np.ndarray:
    """scanpy's cell_ranger edges: −∞, the 10th, 15th, …, 100th percentiles, +∞ (distinct, as pandas.cut
    requires; a 400 otherwise, where scanpy raises)."""
    edges = np.r_[-np.inf, np.percentile(values, np.arange(10, 105, 5)), np.inf]
    if len(np.unique(edges)) < len(edges):
        repeated = float(edges[1:-1][np.flatnonzero(np.diff(edges[1:-1]) == 0)[0]])
        raise BadRequest(
            f"flavor: cell_ranger bins genes by percentiles of their means, and here several percentiles "
            f"coincide (many genes share the mean {repeated:.6g}); scanpy refuses such data too — choose "
            "flavor seurat or a larger group of cells",
            field="flavor",
        )
    return edges


def bin_ids(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin of each value among right-closed bins (edges[i], edges[i+1]] (pandas.cut's codes)."""
    return np.searchsorted(edges, values, side="left") - 1


def _bin_stat(values: np.ndarray, bins: np.ndarray, stat: Any) -> dict[int, tuple[float, float]]:
    return {int(b): stat(values[bins == b]) for b in np.unique(bins)}


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    """pandas groupby mean and std (n − 1) over the defined values; NaN where undefined."""
    defined = values[~np.isnan(values)]
    mean = float(defined.mean()) if defined.size else np.nan
    std = float(defined.std(ddof=1)) if defined.size > 1 else np.nan
    return mean, std


def _median_mad(values: np.ndarray) -> tuple[float, float]:
    """pandas groupby median (skipping NaN) and statsmodels.robust.mad (NaN if any value is)."""
    defined = values[~np.isnan(values)]
    median = float(np.median(defined)) if defined.size else np.nan
    mad = float(np.median(np.abs(values - np.median(values)) / MAD_SCALE)) if values.size else np.nan
    return median, mad


def normalised_dispersions(
    means: np.ndarray, dispersion: np.ndarray, flavor: Flavor, n_bins: int
) -> np.ndarray:
    """(dispersion − the bin's centre) / the bin's spread, as scanpy's `_get_disp_stats`."""
    if flavor == "seurat":
        bins = bin_ids(means, equal_width_edges(means, n_bins))
        stats = _bin_stat(dispersion, bins, _mean_std)
        # A bin with one defined dispersion (std undefined): centre 0, spread = its mean — normalised 1.
        stats = {b: (0.0, avg) if np.isnan(dev) else (avg, dev) for b, (avg, dev) in stats.items()}
    else:
        bins = bin_ids(means, percentile_edges(means))
        stats = _bin_stat(dispersion, bins, _median_mad)
    centre = np.array([stats[int(b)][0] for b in bins])
    spread = np.array([stats[int(b)][1] for b in bins])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (dispersion - centre) / spread


def highly_variable(
    means: np.ndarray, dispersion_norm: np.ndarray, *, n_top_genes: int | None, cutoffs: Cutoffs
) -> np.ndarray:
    """scanpy's `_subset_genes`: the top n (ties kept) or the genes within the cutoffs."""
    if n_top_genes is None:
        norm = np.nan_to_num(dispersion_norm)
        return (
            (means > cutoffs.min_mean)
            & (means < cutoffs.max_mean)
            & (norm > cutoffs.min_disp)
            & (norm < cutoffs.max_disp)
        )
    defined = np.sort(dispersion_norm[~np.isnan(dispersion_norm)])[::-1]
    if not defined.size:
        return np.zeros(len(dispersion_norm), dtype=bool)
    cut = defined[min(n_top_genes, len(dispersion_norm), defined.size) - 1]
    return np.nan_to_num(dispersion_norm, nan=-np.inf) >= cut


@dataclass(frozen=True)
class HighlyVariable:
    """Every detected gene with scanpy's columns, highest normalised dispersion first (undefined last)."""

    genes: list[str]
    means: np.ndarray
    dispersions: np.ndarray
    dispersions_norm: np.ndarray
    highly_variable: np.ndarray
    n_expressing: np.ndarray
    n: int

    def items(self, *, subset: bool) -> list[dict[str, Any]]:
        """One dict per gene (all, or only the highly variable ones), undefined numbers as None; built from
        whole columns (tens of thousands of genes: per-element numpy access takes a tenth of a second)."""

        def numbers(values: np.ndarray) -> list[float | None]:
            return [x if math.isfinite(x) else None for x in values.tolist()]

        pct = (self.n_expressing / self.n).tolist()
        columns = zip(
            self.genes,
            self.means.tolist(),
            numbers(self.dispersions),
            numbers(self.dispersions_norm),
            self.highly_variable.tolist(),
            pct,
            strict=True,
        )
        return [
            {
                "gene": gene,
                "means": mean,
                "dispersions": dispersion,
                "dispersions_norm": norm,
                "highly_variable": chosen,
                "pct_expressing": fraction,
            }
            for gene, mean, dispersion, norm, chosen, fraction in columns
            if chosen or not subset
        ]


def rank_highly_variable(
    moments: GeneMoments, flavor: Flavor, *, n_bins: int, n_top_genes: int | None, cutoffs: Cutoffs
) -> HighlyVariable:
    """scanpy's highly_variable_genes over the group's per-gene moments."""
    if not moments.genes.size:
        raise BadRequest("cell_types: no gene is detected in the chosen cells", field="cell_types")
    means, dispersion = dispersions(moments.mean, moments.variance, flavor)
    norm = normalised_dispersions(means, dispersion, flavor, n_bins)
    chosen = highly_variable(means, norm, n_top_genes=n_top_genes, cutoffs=cutoffs)
    # +∞ (a bin without spread) first, −∞ after the finite ones, undefined last; the name breaks ties.
    key = np.where(np.isnan(norm), -np.inf, norm)
    order = np.lexsort((moments.genes, np.isnan(norm), -key))
    return HighlyVariable(
        genes=moments.genes[order].tolist(),
        means=means[order],
        dispersions=dispersion[order],
        dispersions_norm=norm[order],
        highly_variable=chosen[order],
        n_expressing=moments.n_expressing[order],
        n=moments.n,
    )
