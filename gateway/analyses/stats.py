"""Statistics from sums: ClickHouse aggregates, Python finishes a handful of scalars with scipy.

Correlations over every cell of a group (zeros included) need only n, Σx, Σx², Σy, Σy², Σxy; Spearman
needs the same of the ranks, which decompose into the shared rank of the zero block plus sparse parts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

# A centred sum of squares below this fraction of the raw one is rounding noise: the gene is constant.
RELATIVE_VARIANCE_FLOOR = 1e-12


def centred_ss(n: float, s: float, ss: float) -> float:
    """Σ(x − x̄)² from n, Σx, Σx²; 0 for a constant vector (rounding noise included)."""
    if n <= 0:
        return 0.0
    centred = ss - s * s / n
    return centred if centred > RELATIVE_VARIANCE_FLOOR * abs(ss) else 0.0


@dataclass(frozen=True)
class PairSums:
    """The sufficient statistics of two vectors of length n."""

    n: float
    sx: float
    sxx: float
    sy: float
    syy: float
    sxy: float

    def correlation(self) -> float | None:
        """Pearson r, or None when either vector is constant (r is undefined, as in scipy)."""
        vx = centred_ss(self.n, self.sx, self.sxx)
        vy = centred_ss(self.n, self.sy, self.syy)
        if vx == 0.0 or vy == 0.0:
            return None
        cov = self.sxy - self.sx * self.sy / self.n
        return float(min(1.0, max(-1.0, cov / math.sqrt(vx * vy))))


# p-values come from scipy.special, the functions scipy.stats.pearsonr/spearmanr evaluate themselves
# (their _SimpleBeta and _SimpleStudentT, two-sided = 2·sf(|statistic|)): the same numbers without building
# a frozen scipy.stats distribution per request, which cost ~0.5 ms of a /gene-correlation's CPU.


def pearson_p_value(r: float | None, n: int) -> float | None:
    """Exactly `scipy.stats.pearsonr`'s two-sided p-value (beta distribution of r under H0)."""
    if r is None or n < 2:
        return None
    return float(pearson_p_values(np.array([r]), n)[0])


def pearson_p_values(r: np.ndarray, n: int) -> np.ndarray:
    """`pearson_p_value` for many coefficients of the same n at once."""
    r = np.asarray(r, dtype=float)
    if n < 3:
        return np.where(np.isfinite(r), 1.0 if n == 2 else np.nan, np.nan)
    ab = n / 2 - 1
    # sf of Beta(ab, ab) on [-1, 1] at |r|
    return np.minimum(1.0, 2.0 * special.betaincc(ab, ab, (np.abs(r) + 1.0) / 2.0))


def spearman_p_value(rho: float | None, n: int) -> float | None:
    """Exactly `scipy.stats.spearmanr`'s two-sided p-value (t distribution with n − 2 df)."""
    if rho is None or n < 3:
        return None
    dof = n - 2
    rho = abs(rho)
    t = math.inf if rho >= 1 else rho * math.sqrt(max(0.0, dof / ((rho + 1.0) * (1.0 - rho))))
    return float(min(1.0, 2.0 * special.stdtr(dof, -t)))  # sf of Student's t at |t|


@dataclass(frozen=True)
class RankParts:
    """Sparse parts of the two rank vectors in one group (ranks over all n cells, ties averaged)."""

    n: int
    nx: int  # cells where x ≠ 0
    ny: int
    nb: int  # cells where both ≠ 0
    negx: int  # cells where x < 0 (they rank below the zero block)
    negy: int
    rx_sum: float  # Σ rank(x) over cells where x ≠ 0
    rxx_sum: float
    ry_sum: float
    ryy_sum: float
    both_rxy: float  # Σ rank(x)·rank(y) over cells where both ≠ 0
    both_rx: float  # Σ rank(x) over cells where both ≠ 0
    both_ry: float

    def zero_rank_x(self) -> float:
        return self.negx + (self.n - self.nx + 1) / 2

    def zero_rank_y(self) -> float:
        return self.negy + (self.n - self.ny + 1) / 2

    def sums(self) -> PairSums:
        """Σ over all n cells of the ranks, their squares and products, from the sparse parts."""
        r0x, r0y = self.zero_rank_x(), self.zero_rank_y()
        zx, zy = self.n - self.nx, self.n - self.ny
        only_x = self.rx_sum - self.both_rx  # Σ rank(x) where x ≠ 0 and y = 0
        only_y = self.ry_sum - self.both_ry
        neither = self.n - self.nx - self.ny + self.nb
        return PairSums(
            n=self.n,
            sx=self.rx_sum + zx * r0x,
            sxx=self.rxx_sum + zx * r0x * r0x,
            sy=self.ry_sum + zy * r0y,
            syy=self.ryy_sum + zy * r0y * r0y,
            sxy=self.both_rxy + r0y * only_x + r0x * only_y + neither * r0x * r0y,
        )


def welch_p_values(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided p-values of Welch t statistics (as `scipy.stats.ttest_ind_from_stats(equal_var=False)`)."""
    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    p = np.full(t.shape, np.nan)
    ok = np.isfinite(t) & np.isfinite(df) & (df > 0)
    p[ok] = np.minimum(1.0, 2.0 * special.stdtr(df[ok], -np.abs(t[ok])))
    return p


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values over the defined ones (NaN stays NaN: an undefined test is not a test)."""
    # Imported here, not at the top: scipy.stats takes 0.4 s to import, most of the gateway's start-up, and
    # only markers and co-expression need it (Python caches the module after their first request).
    from scipy import stats

    p = np.asarray(p, dtype=float)
    adjusted = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        adjusted[ok] = stats.false_discovery_control(p[ok], method="bh")
    return adjusted


# ----- two groups of cells (scanpy's rank_genes_groups conventions) ---------------------------------------


def with_zeros(
    n: int, k: np.ndarray, mean_stored: np.ndarray, m2_stored: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(mean, variance with n − 1) over n cells of which k are stored, from the stored values' mean and sum of
    squared deviations: Chan et al.'s update with n − k zeros (as marts.gene_stats), nothing cancels."""
    mean = k * mean_stored / n
    m2 = m2_stored + k * (n - k) / n * mean_stored * mean_stored
    return mean, m2 / (n - 1)


# Groups smaller than this get a `small_group` flag: their p-values rest on few cells (and markers of a tiny
# cluster against thousands of cells reach p ≈ 1e-100 on a handful of them).
MIN_GROUP_SIZE = 20


def fold_change_parts(mean_a: np.ndarray, mean_b: np.ndarray) -> dict[str, np.ndarray]:
    """What scanpy's fold change is computed from — expm1 of the lognorm means — and whether only the 1e-9
    pseudocount decides it (a group where the gene is not expressed at all: the fold change is then about
    ±30 whatever the other group's level, a bound rather than a measurement)."""
    expm1_a, expm1_b = np.expm1(mean_a), np.expm1(mean_b)
    return {"expm1_a": expm1_a, "expm1_b": expm1_b, "bound": (expm1_a == 0) | (expm1_b == 0)}


def log2_fold_change(mean_a: np.ndarray, mean_b: np.ndarray) -> np.ndarray:
    """scanpy's log2 fold change of lognorm means: log2((expm1(a) + 1e-9) / (expm1(b) + 1e-9))."""
    return np.log2((np.expm1(mean_a) + 1e-9) / (np.expm1(mean_b) + 1e-9))


def welch_t(
    n_a: int, mean_a: np.ndarray, var_a: np.ndarray, n_b: int, mean_b: np.ndarray, var_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Welch's t and its degrees of freedom (scipy.stats.ttest_ind(equal_var=False)); NaN where both groups
    are constant (the test is undefined)."""
    se2_a, se2_b = var_a / n_a, var_b / n_b
    se2 = se2_a + se2_b
    defined = se2 > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(defined, (mean_a - mean_b) / np.sqrt(se2), np.nan)
        df = np.where(defined, se2**2 / (se2_a**2 / (n_a - 1) + se2_b**2 / (n_b - 1)), np.nan)
    return t, df


def rank_sum_z(
    n_a: int,
    n_b: int,
    *,
    stored: np.ndarray,
    stored_a: np.ndarray,
    negative: np.ndarray,
    positive_a: np.ndarray,
    rank_sum_a: np.ndarray,
    tie_sum: np.ndarray,
    tie_correct: bool = True,
) -> np.ndarray:
    """The Wilcoxon rank-sum z of group A (scanpy's score; scipy.stats.mannwhitneyu's z without continuity
    correction) over all n_a + n_b cells, from the stored values' ranks: the zeros are one tie block ranked
    after the `negative` stored values, so every positive stored value ranks that many places higher.

    `rank_sum_a`: Σ of A's average ranks among the stored values; `tie_sum`: Σ(t³ − t) over their ties.
    NaN where every cell has the same value (no variance)."""
    n = float(n_a + n_b)
    zeros = n - stored
    zero_rank = negative + (zeros + 1.0) / 2.0
    rank_sum = rank_sum_a + positive_a * zeros + (n_a - stored_a) * zero_rank
    ties = tie_sum + zeros**3 - zeros if tie_correct else np.zeros_like(zeros)
    variance = n_a * n_b / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)))
    defined = variance > 0
    return np.where(
        defined, (rank_sum - n_a * (n + 1.0) / 2.0) / np.sqrt(np.where(defined, variance, 1.0)), np.nan
    )


def normal_p_values(z: np.ndarray) -> np.ndarray:
    """Two-sided p-values of standard normal statistics, 2·sf(|z|) (NaN stays NaN)."""
    return np.minimum(1.0, 2.0 * special.ndtr(-np.abs(np.asarray(z, dtype=float))))


def benjamini_hochberg_scanpy(p: np.ndarray) -> np.ndarray:
    """BH over every gene tested, an undefined p counting as 1 (scanpy's rank_genes_groups rule)."""
    from scipy import stats  # see benjamini_hochberg

    p = np.asarray(p, dtype=float)
    if not p.size:
        return p
    return stats.false_discovery_control(np.where(np.isfinite(p), p, 1.0), method="bh")


def score_order(names: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices that rank genes by score: highest first, undefined (NaN) last, the name breaking ties."""
    undefined = np.isnan(score)
    # lexsort: the last key is the primary one.
    return np.lexsort((names, np.where(undefined, 0.0, -score), undefined))


def fisher_z_difference(
    first: tuple[float | None, int], second: tuple[float | None, int]
) -> tuple[float | None, float | None]:
    """(z, two-sided p) of Fisher's test that two independent correlations (r, n) differ:
    z = (atanh r₁ − atanh r₂) / √(1/(n₁ − 3) + 1/(n₂ − 3)); None when either r is undefined or n ≤ 3."""
    (r1, n1), (r2, n2) = first, second
    if r1 is None or r2 is None or n1 <= 3 or n2 <= 3:
        return None, None
    clip = 1.0 - 1e-15  # atanh(±1) is infinite
    z = (math.atanh(max(-clip, min(clip, r1))) - math.atanh(max(-clip, min(clip, r2)))) / math.sqrt(
        1.0 / (n1 - 3) + 1.0 / (n2 - 3)
    )
    return z, float(2.0 * special.ndtr(-abs(z)))
