"""The questions every contender answers: random gene pairs and cell-type subsets from a fixed seed, and the
questions of any group of cells (issue 20) over the synthetic studies' metadata (donor_id, condition,
pct_mito — loader.synth)."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.study import UNANNOTATED, Study
from loader.synth import CONDITIONS, DONORS

# The questions of any group of cells: they name the synthetic studies' metadata columns.
GROUP_QUESTIONS = ("correlation_where", "dot_plot_compare", "de_ttest", "de_ttest_where", "de_wilcoxon")
# Every question the gateway is timed on over HTTP, in the order of the report.
HTTP_QUESTIONS = (
    "correlation",
    "variability",
    "coexpression",
    "markers",
    "expression_matrix",
    *GROUP_QUESTIONS,
)
SEED = 20240607
MIN_EXPRESSING_FRACTION = 0.01
TOP_LIMIT = 20
DOT_PLOT_GENES = 10
PCT_MITO_MAX = 5.0  # a QC cut-off, as analysts filter: most cells of the synthetic studies pass it


def _eligible_genes(genes: list[str], n_expressing: np.ndarray, n_cells: int) -> list[str]:
    """Genes expressed in at least 1% of cells (pairs of near-empty genes would make a meaningless test)."""
    floor = max(2, int(MIN_EXPRESSING_FRACTION * n_cells))
    chosen = np.flatnonzero(n_expressing >= floor)
    if chosen.size < 2:
        chosen = np.flatnonzero(n_expressing >= 2)
    return [genes[i] for i in chosen]


def _cell_types(cell_types: np.ndarray) -> list[str]:
    names, counts = np.unique(cell_types.astype(str), return_counts=True)
    annotated = [str(n) for n, c in zip(names, counts, strict=True) if n != UNANNOTATED and c >= 2]
    return annotated or [str(n) for n in names]


def make_workload(
    study: Study, *, dataset: str, n: int, n_coexpression: int, n_differential: int = 3, seed: int = SEED
) -> dict[str, Any]:
    """`n` requests per query type (`n_coexpression` for the genome-wide co-expression, `n_differential` for
    each genome-wide comparison of two groups), reproducibly."""
    return make_workload_from(
        study.genes,
        np.diff(study.values.indptr),
        study.cell_types,
        dataset=dataset,
        n=n,
        n_coexpression=n_coexpression,
        n_differential=n_differential,
        seed=seed,
    )


def make_workload_from(
    all_genes: list[str],
    n_expressing: np.ndarray,
    cell_types: np.ndarray,
    *,
    dataset: str,
    n: int,
    n_coexpression: int,
    n_differential: int = 3,
    seed: int = SEED,
) -> dict[str, Any]:
    """`make_workload` from what it needs of a study — each gene's count of expressing cells and each cell's
    type — so a study too big for memory (bench.scale) gets the same questions from a streaming pass."""
    rng = np.random.default_rng(seed)
    genes = _eligible_genes(all_genes, np.asarray(n_expressing), len(cell_types))
    types = _cell_types(cell_types)

    def subset() -> list[str]:
        size = int(rng.integers(1, min(3, len(types)) + 1))
        return sorted(str(t) for t in rng.choice(types, size=size, replace=False))

    def pair() -> list[str]:
        return [str(g) for g in rng.choice(genes, size=2, replace=False)]

    def one_type() -> str:
        return str(rng.choice(types))

    correlation = [
        dict(zip(("gene_a", "gene_b"), pair(), strict=True), cell_types=subset()) for _ in range(n)
    ]

    def where() -> dict[str, Any]:
        """Two columns, as a user filters: some conditions (group) and a QC range (numeric)."""
        size = int(rng.integers(1, len(CONDITIONS)))
        chosen = sorted(str(c) for c in rng.choice(CONDITIONS, size=size, replace=False))
        return {"condition": chosen, "pct_mito": {"max": PCT_MITO_MAX}}

    def donor_halves() -> tuple[list[str], list[str]]:
        """The donors split in two at random: disjoint groups of cells."""
        shuffled = [str(d) for d in rng.permutation(DONORS)]
        half = len(shuffled) // 2
        return sorted(shuffled[:half]), sorted(shuffled[half:])

    def two_groups() -> dict[str, Any]:
        a, b = donor_halves()
        return {
            "group_a": {"cell_types": [one_type()], "where": {"donor_id": a}},
            "group_b": {"where": {"donor_id": b, "pct_mito": {"max": PCT_MITO_MAX}}},
        }

    groups = {
        "correlation_where": [
            dict(zip(("gene_a", "gene_b"), pair(), strict=True), cell_types=subset(), where=where())
            for _ in range(n)
        ],
        "dot_plot_compare": [
            {
                "genes": [
                    str(g) for g in rng.choice(genes, size=min(DOT_PLOT_GENES, len(genes)), replace=False)
                ],
                "compare_by": "condition",
            }
            for _ in range(n)
        ],
        "de_ttest": [
            {"group_a": {"cell_types": [one_type()]}, "method": "t-test", "limit": TOP_LIMIT}
            for _ in range(n_differential)
        ],
        "de_ttest_where": [
            {**two_groups(), "method": "t-test", "limit": TOP_LIMIT} for _ in range(n_differential)
        ],
        "de_wilcoxon": [
            {"group_a": {"cell_types": [one_type()]}, "method": "wilcoxon", "limit": TOP_LIMIT}
            for _ in range(n_differential)
        ],
    }
    return {
        **groups,
        "dataset": dataset,
        "seed": seed,
        "n_eligible_genes": len(genes),
        "cell_types": types,
        "correlation": correlation,
        "variability": [{"cell_type": one_type(), "limit": TOP_LIMIT} for _ in range(n)],
        "coexpression": [
            {"gene": str(rng.choice(genes)), "cell_types": [one_type()], "limit": TOP_LIMIT}
            for _ in range(n_coexpression)
        ],
        "markers": [{"cell_type": one_type(), "limit": TOP_LIMIT} for _ in range(n)],
        "expression_matrix": [
            {
                "gene_names": [
                    str(g) for g in rng.choice(genes, size=int(rng.integers(2, 6)), replace=False)
                ],
                "cell_types": subset(),
            }
            for _ in range(n)
        ],
    }
