"""Exact answers with numpy/scipy on the sparse matrix, zeros counted as cells, and comparison helpers.

Everything here works on one gene row or one cell type at a time, so the reference study (170M non-zeros)
never needs a dense genes × cells matrix. Variances are two-pass (deviations of the stored values plus the
zeros' share), which keeps the reference accurate to far better than the 1e-6 it is compared at.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

RTOL = 1e-6
# Relative error is against max(|exact|, ERROR_FLOOR): a correlation of 1e-9 computed as 2e-9 is not wrong.
ERROR_FLOOR = 1e-6


class ExactOracle:
    """Reference statistics over ALL cells of a group on the lognorm matrix (genes × cells CSR)."""

    def __init__(self, lognorm: sp.csr_matrix, genes: Sequence[str], cell_types: np.ndarray) -> None:
        self.matrix = lognorm
        self.genes = list(genes)
        self.cell_types = np.asarray(cell_types, dtype=object)
        self._index = {g: i for i, g in enumerate(self.genes)}
        self._cv_index = self._index  # where a gene's value sits in `cv()` (every gene of the matrix here)
        self._cv_cache: dict[str, np.ndarray] = {}

    def mask(self, cell_types: Iterable[str] | None) -> np.ndarray:
        chosen = list(cell_types or [])
        if not chosen:
            return np.ones(self.cell_types.size, dtype=bool)
        return np.isin(self.cell_types, chosen)

    def row(self, gene: str, mask: np.ndarray) -> np.ndarray:
        """One gene's values over the chosen cells, zeros included (dense: one row is small)."""
        return self.matrix.getrow(self._index[gene]).toarray().ravel()[mask]

    def correlation(self, gene_a: str, gene_b: str, cell_types: Iterable[str] | None) -> float | None:
        """Pearson r over every chosen cell; None when undefined (fewer than 2 cells or a constant gene)."""
        mask = self.mask(cell_types)
        return pearson(self.row(gene_a, mask), self.row(gene_b, mask))

    def correlations_with(self, gene: str, others: Sequence[str], cell_types: Iterable[str] | None) -> list:
        mask = self.mask(cell_types)
        x = self.row(gene, mask)
        return [pearson(x, self.row(other, mask)) for other in others]

    def mean_var(self, cell_type: str) -> tuple[np.ndarray, np.ndarray, int]:
        """Per gene: mean and sample variance (n−1) over the cells of one type, and n."""
        columns = np.flatnonzero(self.mask([cell_type]))
        n = columns.size
        sub = self.matrix[:, columns].tocsr()
        nnz_per_gene = np.diff(sub.indptr)
        gene_of_value = np.repeat(np.arange(sub.shape[0]), nnz_per_gene)
        mean = np.bincount(gene_of_value, weights=sub.data, minlength=sub.shape[0]) / max(n, 1)
        dev = sub.data - mean[gene_of_value]
        stored_ss = np.bincount(gene_of_value, weights=dev * dev, minlength=sub.shape[0])
        return mean, variance_with_zeros(mean, stored_ss, nnz_per_gene, n), n

    def cv(self, cell_type: str) -> np.ndarray:
        """Per gene: stddev (n−1) / mean over the cells of one type; NaN where the mean is 0 or n < 2."""
        if cell_type not in self._cv_cache:
            mean, var, _ = self.mean_var(cell_type)
            with np.errstate(divide="ignore", invalid="ignore"):
                self._cv_cache[cell_type] = np.where(mean > 0, np.sqrt(var) / mean, np.nan)
        return self._cv_cache[cell_type]

    def cv_of(self, cell_type: str, genes: Sequence[str]) -> list[float | None]:
        values = self.cv(cell_type)
        return [_none_if_nan(values[self._cv_index[g]]) for g in genes]


def variance_with_zeros(mean: np.ndarray, stored_ss: np.ndarray, stored: np.ndarray, n: int) -> np.ndarray:
    """Sample variance (n−1) of groups of `n` values of which `stored` are stored (the rest are zeros), from
    the stored values' squared deviations from the group's `mean`: each zero adds mean². NaN when n < 2."""
    if n < 2:
        return np.full(np.shape(mean), np.nan)
    return (stored_ss + (n - stored) * mean * mean) / (n - 1)


def pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.size < 2:
        return None
    dx = x - x.mean()
    dy = y - y.mean()
    denominator = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if denominator == 0.0:
        return None
    return float(dx @ dy) / denominator


def _none_if_nan(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


@dataclass
class Comparison:
    """How far a list of answers is from the exact ones."""

    n: int
    n_wrong: int
    max_rel_err: float | None
    n_missing: int
    max_abs_err: float | None = None

    @property
    def exact(self) -> bool:
        return self.n > 0 and self.n_wrong == 0 and self.n_missing == 0

    def as_dict(self) -> dict[str, object]:
        return {
            "exact": self.exact,
            "max_rel_err": self.max_rel_err,
            "max_abs_err": self.max_abs_err,
            "n_compared": self.n,
            "n_not_exact": self.n_wrong,
            "n_missing": self.n_missing,
        }


def compare(answers: Sequence[float | None], exact: Sequence[float | None], rtol: float = RTOL) -> Comparison:
    """Relative error per answer vs the exact value (both None counts as agreeing: undefined either way)."""
    if len(answers) != len(exact):
        raise ValueError(f"{len(answers)} answers for {len(exact)} exact values")
    errors: list[float] = []
    absolute: list[float] = []
    missing = 0
    for got, want in zip(answers, exact, strict=True):
        got_ok = got is not None and math.isfinite(got)
        want_ok = want is not None and math.isfinite(want)
        if not got_ok and not want_ok:
            continue
        if got_ok != want_ok:
            missing += 1
            continue
        absolute.append(abs(got - want))
        errors.append(absolute[-1] / max(abs(want), ERROR_FLOOR))
    wrong = sum(err > rtol for err in errors)
    return Comparison(
        len(answers), wrong, max(errors) if errors else None, missing, max(absolute) if absolute else None
    )


def merge(comparisons: Iterable[Comparison]) -> Comparison:
    items = list(comparisons)
    errs = [c.max_rel_err for c in items if c.max_rel_err is not None]
    absolute = [c.max_abs_err for c in items if c.max_abs_err is not None]
    return Comparison(
        sum(c.n for c in items),
        sum(c.n_wrong for c in items),
        max(errs) if errs else None,
        sum(c.n_missing for c in items),
        max(absolute) if absolute else None,
    )


def check_correlation(
    oracle: ExactOracle, requests: Sequence[dict], answers: Sequence[float | None]
) -> Comparison:
    """Each answered r against the exact r of the same (gene_a, gene_b, cell_types)."""
    exact = [oracle.correlation(r["gene_a"], r["gene_b"], r["cell_types"]) for r in requests[: len(answers)]]
    return compare(answers, exact)


def check_variability(
    oracle: ExactOracle, requests: Sequence[dict], answers: Sequence[Sequence]
) -> Comparison:
    """A top-`limit` answer [[gene, cv], …] is exact when each gene's CV is its exact CV and the CVs are the
    exact top `limit` (compared as sorted values, so ties may come in any order)."""
    parts = []
    for request, answer in zip(requests, answers, strict=False):
        genes = [row[0] for row in answer]
        got = [row[1] for row in answer]
        parts.append(compare(got, oracle.cv_of(request["cell_type"], genes)))
        exact_cv = oracle.cv(request["cell_type"])
        top = np.sort(exact_cv[np.isfinite(exact_cv)])[::-1][: request["limit"]].tolist()
        got_sorted = sorted((v for v in got if v is not None), reverse=True)
        got_sorted += [None] * (len(top) - len(got_sorted))
        parts.append(compare(got_sorted[: len(top)], top))
    return merge(parts)


def check_coexpression(
    oracle: ExactOracle, requests: Sequence[dict], answers: Sequence[Sequence]
) -> Comparison:
    """Each co-expressed gene's r against the exact r with the query gene in the same cell types."""
    parts = []
    for request, answer in zip(requests, answers, strict=False):
        others = [row[0] for row in answer]
        got = [row[1] for row in answer]
        parts.append(compare(got, oracle.correlations_with(request["gene"], others, request["cell_types"])))
    return merge(parts)


def agreement(answers: Sequence[Sequence], reference: Sequence[Sequence]) -> Comparison:
    """Ranked [[gene, score], …] answers against another contender's to the same requests (no oracle at the
    reference size: a dense Wilcoxon of every gene is what the contenders are timed on): each gene's score
    against the reference's score of the same gene, the genes compared as sets of the top."""
    parts = []
    for got, want in zip(answers, reference, strict=False):
        wanted = {gene: score for gene, score in want}
        common = [gene for gene, _ in got if gene in wanted]
        missing = len(got) - len(common)
        compared = compare([s for g, s in got if g in wanted], [wanted[g] for g in common])
        parts.append(Comparison(compared.n + missing, compared.n_wrong, compared.max_rel_err, missing))
    return merge(parts)
