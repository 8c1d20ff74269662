"""The questions every contender answers: random gene pairs and cell-type subsets from a fixed seed."""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.study import UNANNOTATED, Study

SEED = 20240607
MIN_EXPRESSING_FRACTION = 0.01
TOP_LIMIT = 20


def _eligible_genes(study: Study) -> list[str]:
    """Genes expressed in at least 1% of cells (pairs of near-empty genes would make a meaningless test)."""
    expressing = np.diff(study.values.indptr)
    floor = max(2, int(MIN_EXPRESSING_FRACTION * study.values.shape[1]))
    chosen = np.flatnonzero(expressing >= floor)
    if chosen.size < 2:
        chosen = np.flatnonzero(expressing >= 2)
    return [study.genes[i] for i in chosen]


def _cell_types(study: Study) -> list[str]:
    names, counts = np.unique(study.cell_types.astype(str), return_counts=True)
    annotated = [str(n) for n, c in zip(names, counts, strict=True) if n != UNANNOTATED and c >= 2]
    return annotated or [str(n) for n in names]


def make_workload(
    study: Study, *, dataset: str, n: int, n_coexpression: int, seed: int = SEED
) -> dict[str, Any]:
    """`n` requests per query type (`n_coexpression` for the genome-wide co-expression), reproducibly."""
    rng = np.random.default_rng(seed)
    genes = _eligible_genes(study)
    types = _cell_types(study)

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
    return {
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
