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
