"""The test studies as numpy sees them: a dense genes × cells matrix read straight from the source files, with
each cell's labels; the tests compute their reference answers from it. Normalisation follows the benchmark's
oracle (bench.study.lognorm_counts), so the tests and the benchmark share one rule."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
import scipy.sparse as sp

from bench.study import UNANNOTATED, lognorm_counts


@dataclass
class DenseStudy:
    """A study as numpy sees it: genes × cells dense matrix plus per-cell labels."""

    genes: list[str]
    barcodes: list[str]
    matrix: np.ndarray  # genes × cells, float64, zeros included
    cell_types: np.ndarray  # per cell (column), UNANNOTATED when the metadata has no row
    samples: np.ndarray
    # Every metadata column by name, per cell: group values (None where missing), numbers (NaN where missing).
    groups: dict[str, np.ndarray] = field(default_factory=dict)
    numbers: dict[str, np.ndarray] = field(default_factory=dict)

    def gene_row(self, gene: str) -> np.ndarray:
        return self.matrix[self.genes.index(gene)]

    def cells_of(self, cell_types: list[str] | None) -> np.ndarray:
        if not cell_types:
            return np.ones(len(self.barcodes), dtype=bool)
        return np.isin(self.cell_types, cell_types)

    def where(self, where: dict[str, Any], cell_types: list[str] | None = None) -> np.ndarray:
        """The cells a `where` (and cell types) selects: values OR within a column, columns AND together."""
        chosen = self.cells_of(cell_types)
        designated = {"cell_type": self.cell_types, "sample": self.samples}
        for column, condition in where.items():
            if isinstance(condition, list):
                chosen &= np.isin(designated.get(column, self.groups.get(column)), condition)
            else:
                with np.errstate(invalid="ignore"):
                    values = self.numbers[column]
                    chosen &= values >= condition.get("min", -np.inf)
                    chosen &= values <= condition.get("max", np.inf)
        return chosen

    def lognorm(self) -> np.ndarray:
        """scanpy normalize_total(target_sum=1e4) + log1p, for count data."""
        return lognorm_counts(sp.csr_matrix(self.matrix)).toarray()


def _lines(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t") if row]


def read_dense(
    matrix: Path,
    genes: Path,
    barcodes: Path,
    metadata: Path | None = None,
    *,
    cell_type_column: str = "Cluster",
    sample_column: str = "Subject",
) -> DenseStudy:
    dense = scipy.io.mmread(str(matrix)).toarray().astype(np.float64)
    gene_rows = _lines(genes)
    symbols = [row[1] if len(row) > 1 else row[0] for row in gene_rows]
    cells = [row[0] for row in _lines(barcodes)]
    cell_types = np.array([UNANNOTATED] * len(cells), dtype=object)
    samples = np.array([""] * len(cells), dtype=object)
    groups: dict[str, np.ndarray] = {}
    numbers: dict[str, np.ndarray] = {}
    if metadata is not None:
        rows = _lines(metadata)
        header = rows[0]
        by_barcode = {row[0]: row for row in rows[2:]}
        for i, (column, kind) in enumerate(zip(header[1:], rows[1][1:], strict=True), start=1):
            values = [by_barcode[b][i] if b in by_barcode else None for b in cells]
            if kind == "group":
                groups[column] = np.array(values, dtype=object)
            else:
                numbers[column] = np.array([_number(v) for v in values], dtype=float)
        type_col = header.index(cell_type_column) if cell_type_column in header else None
        sample_col = header.index(sample_column) if sample_column in header else None
        for j, barcode in enumerate(cells):
            row = by_barcode.get(barcode)
            if row is None:
                continue
            if type_col is not None:
                cell_types[j] = row[type_col]
            if sample_col is not None:
                samples[j] = row[sample_col]
    return DenseStudy(symbols, cells, dense, cell_types, samples, groups, numbers)


def _number(text: str | None) -> float:
    try:
        return float(text) if text is not None else np.nan
    except ValueError:  # NA and friends: missing
        return np.nan


def rank_genes_oracle(
    lognorm: np.ndarray, a: np.ndarray, b: np.ndarray, method: str
) -> dict[str, np.ndarray]:
    """scanpy's rank_genes_groups numbers for cells `a` vs cells `b` (boolean masks) of a dense lognorm
    genes × cells matrix, straight from scipy: the Wilcoxon score is U's tie-corrected z
    (scipy.stats.tiecorrect over all cells, zeros included), its p scipy.stats.mannwhitneyu(
    method="asymptotic", use_continuity=False); the t-test scipy.stats.ttest_ind(equal_var=False). BH
    with an undefined p as 1."""
    from scipy import stats

    x, y = lognorm[:, a], lognorm[:, b]
    n_a, n_b = x.shape[1], y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "wilcoxon":
            u, p = stats.mannwhitneyu(x, y, axis=1, method="asymptotic", use_continuity=False)
            ties = np.array([stats.tiecorrect(stats.rankdata(row)) for row in np.hstack([x, y])])
            sigma = np.sqrt(ties * n_a * n_b * (n_a + n_b + 1) / 12.0)
            score = np.where(sigma > 0, (u - n_a * n_b / 2.0) / sigma, np.nan)
            p = np.where(sigma > 0, p, np.nan)
        else:
            score, p = stats.ttest_ind(x, y, axis=1, equal_var=False)
            score = np.where(np.isfinite(score), score, np.nan)
            p = np.where(np.isfinite(score), p, np.nan)
    mean_a, mean_b = x.mean(axis=1), y.mean(axis=1)
    return {
        "score": score,
        "p_value": p,
        "p_value_adj": stats.false_discovery_control(np.where(np.isnan(p), 1.0, p), method="bh"),
        "log2_fold_change": np.log2((np.expm1(mean_a) + 1e-9) / (np.expm1(mean_b) + 1e-9)),
        "mean_a": mean_a,
        "mean_b": mean_b,
        "pct_a": (x != 0).mean(axis=1),
        "pct_b": (y != 0).mean(axis=1),
    }


def stored_lognorm(study: DenseStudy) -> np.ndarray:
    """`study.lognorm()` rounded as the marts round it (macros/lognorm.sql: value / total × 1e4, then log1p),
    for rank tests: their ties are equal values, and equal ratios of counts (1/50, 2/100) stay equal only when
    every value goes through the same operations in the same order (value × (1e4 / total) breaks some)."""
    totals = study.matrix.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(totals > 0, study.matrix / totals * 1e4, 0.0)
    return np.log1p(scaled)
