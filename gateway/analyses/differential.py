"""Differential expression between two groups of cells, exact over every cell of both (zeros included).

ClickHouse reads each gene's stored (non-zero) rows of the two groups from marts.expression_by_gene, in gene
order, and reduces them to a few numbers per gene: the count, mean and spread of the stored values of each
group (the zeros are added back from the group sizes, as marts.gene_stats does) and, for the rank test, the
sum of group A's ranks among the stored values with the ties' sizes. The zeros are one tie block whose rank
follows from the counts (after the negatives, before the positives), so nothing is densified; numpy finishes
scanpy's `rank_genes_groups` numbers (tie-corrected Wilcoxon z or Welch's t, log2 fold change, BH).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gateway.analyses.cells import CellSelection
from gateway.analyses.stats import (
    benjamini_hochberg_scanpy,
    fold_change_parts,
    log2_fold_change,
    normal_p_values,
    rank_sum_z,
    score_order,
    welch_p_values,
    welch_t,
    with_zeros,
)
from gateway.catalog import DatasetCatalog
from gateway.clients import ClientPool
from gateway.errors import BadRequest

METHODS = ("wilcoxon", "t-test")
RESULT_COLUMNS = ("score", "log2_fold_change", "p_value", "p_value_adj", "mean_a", "mean_b", "pct_a", "pct_b")

# Per gene, the stored rows of both groups sorted by value: each row's tie group spans positions first..last,
# its average rank among the stored rows is (first + last) / 2, and a tie of t rows adds t² − 1 per row to
# Σ(t³ − t). Computed over the aggregated arrays in an outer query (inside the aggregation it is 10x slower),
# which returns only the sums: the arrays stay in the engine.
RANK_SUMS = """,
    arrayEnumerate(sorted_values) AS position,
    arrayMap((d, i) -> i = 1 OR d != 0, arrayDifference(sorted_values), position) AS starts,
    arrayFill(i -> i > 0, arrayMap((s, i) -> s * i, starts, position)) AS first,
    arrayReverseFill(
        i -> i > 0, arrayMap((e, i) -> e * i, arrayPushBack(arrayPopFront(starts), 1), position)
    ) AS last,
    arraySum((f, l, a) -> a * (f + l), first, last, sorted_in_a) / 2 AS rank_sum_a,
    arraySum((f, l) -> (l - f) * (l - f + 2), first, last) AS tie_sum"""
# Stored values per rank-test query (see _gene_chunks): at 8 bytes a value and a few arrays per value, a few
# hundred MB of the engine's memory per query.
RANK_VALUES_PER_QUERY = 10_000_000
SORTED = """,
        arraySort(groupArray(v)) AS sorted_values,
        arraySort((a, x) -> x, groupArray(in_a), groupArray(v)) AS sorted_in_a,
        countIf(v < 0) AS negative,
        countIf(in_a AND v > 0) AS positive_a"""


def _sql(selections: tuple[str, str], rest: bool, with_genes: bool, ranks: bool) -> str:
    """Per gene with a stored row in either group: the groups' stored moments (and rank sums)."""
    scope = "1" if rest else "(cell IN a_cells OR cell IN b_cells)"
    genes = "gene_idx IN {genes:Array(UInt32)}" if with_genes else "1"
    return f"""
WITH
a_cells AS ({selections[0]}),
b_cells AS ({selections[1]}),
stored AS (
    SELECT gene_idx, lognorm AS v, cell IN a_cells AS in_a
    FROM marts.expression_by_gene
    WHERE dataset = {{dataset:String}} AND {genes} AND {scope}
),
per_gene AS (
    SELECT gene_idx,
        countIf(in_a) AS k_a, avgIf(v, in_a) AS mean_a, varPopStableIf(v, in_a) * k_a AS m2_a,
        countIf(NOT in_a) AS k_b, avgIf(v, NOT in_a) AS mean_b, varPopStableIf(v, NOT in_a) * k_b AS m2_b
        {SORTED if ranks else ""}
    FROM stored
    GROUP BY gene_idx
)
SELECT gene_idx, k_a, mean_a, m2_a, k_b, mean_b, m2_b
    {", negative, positive_a, rank_sum_a, tie_sum" if ranks else ""}
FROM {"(SELECT *" + RANK_SUMS + " FROM per_gene)" if ranks else "per_gene"}
"""


def _sizes_sql(a: str, b: str) -> str:
    return f"""
SELECT countIf({a}) AS n_a, countIf({b}) AS n_b, countIf(({a}) AND ({b})) AS n_both
FROM marts.cells WHERE dataset = {{dataset:String}}
"""


@dataclass(frozen=True)
class Comparison:
    """Every gene tested, highest score first (undefined last, gene name breaking ties), column-wise."""

    method: str
    n_a: int
    n_b: int
    genes: list[str]
    values: dict[str, np.ndarray]  # RESULT_COLUMNS → float64, NaN for undefined

    def top(self, limit: int) -> list[dict[str, Any]]:
        """The first `limit` genes as response items (NaN → None), with the expm1 means the fold change is
        computed from and whether only the pseudocount decides it."""
        head = {
            n: [None if np.isnan(v) else float(v) for v in self.values[n][:limit]] for n in RESULT_COLUMNS
        }
        parts = fold_change_parts(self.values["mean_a"][:limit], self.values["mean_b"][:limit])
        return [
            {
                "gene": g,
                **{n: head[n][i] for n in RESULT_COLUMNS},
                "expm1_mean_a": float(parts["expm1_a"][i]),
                "expm1_mean_b": float(parts["expm1_b"][i]),
                "fold_change_bound": bool(parts["bound"][i]),
            }
            for i, g in enumerate(self.genes[:limit])
        ]


def _check_sizes(sizes: dict[str, int]) -> None:
    if sizes["n_both"]:
        raise BadRequest(
            f"group_b: the groups overlap ({sizes['n_both']} cells are in both); choose disjoint groups",
            field="group_b",
        )
    for name in ("a", "b"):
        n = sizes[f"n_{name}"]
        if n < 2:
            what = "no cells" if n == 0 else "one cell"
            raise BadRequest(
                f"group_{name}: the selection has {what}; a comparison needs at least 2 cells per group",
                field=f"group_{name}",
            )


def compare(
    pool: ClientPool,
    catalog: DatasetCatalog,
    group_a: CellSelection,
    group_b: CellSelection | None,
    *,
    method: str,
    tie_correct: bool = True,
    genes: list[str] | None = None,
) -> Comparison:
    """Group A against group B (None: every other cell of the dataset) for every gene, or `genes`."""
    a, a_params = group_a.predicate("a")
    b, b_params = group_b.predicate("b") if group_b is not None else (f"NOT ({a})", {})
    params: dict[str, Any] = {"dataset": catalog.name, **a_params, **b_params}
    [sizes] = pool.fetch(_sizes_sql(a, b), params)
    _check_sizes(sizes)
    tested = genes if genes is not None else catalog.genes
    ranks = method == "wilcoxon"
    cells = "SELECT cell FROM marts.cells WHERE dataset = {dataset:String} AND "
    rows: dict[int, dict[str, Any]] = {}
    for chunk in _gene_chunks(catalog, genes, ranks):
        sql = _sql((cells + a, cells + b), group_b is None, chunk is not None, ranks)
        chunk_params = params if chunk is None else {**params, "genes": chunk}
        rows.update((row["gene_idx"], row) for row in pool.fetch(sql, chunk_params))
    return _finish(method, tie_correct, sizes["n_a"], sizes["n_b"], tested, catalog, rows)


def _gene_chunks(catalog: DatasetCatalog, genes: list[str] | None, ranks: bool) -> list[list[int] | None]:
    """The gene indices each query reads (None: every gene in one query).

    The rank test holds each gene's stored values as one array and the rank sums build several more of them,
    so one query over every gene of a large study would hold all its values at once (170M: past the engine's
    memory cap). Ranks are computed over consecutive ranges of genes that each hold about
    `RANK_VALUES_PER_QUERY` stored values on average — read by the sort key of marts.expression_by_gene."""
    if genes is None and not ranks:
        return [None]
    indices = sorted(catalog.gene_index[g] for g in (genes if genes is not None else catalog.genes))
    if not ranks or not indices:
        return [indices]
    per_gene = catalog.info.nnz / max(catalog.info.n_genes, 1)
    size = max(1, int(RANK_VALUES_PER_QUERY / max(per_gene, 1.0)))
    return [indices[i : i + size] for i in range(0, len(indices), size)]


def _finish(
    method: str,
    tie_correct: bool,
    n_a: int,
    n_b: int,
    tested: list[str],
    catalog: DatasetCatalog,
    rows: dict[int, dict[str, Any]],
) -> Comparison:
    """scanpy's numbers from the per-gene sums (a gene without stored rows in either group is all zeros)."""
    found = [rows.get(catalog.gene_index[g]) for g in tested]

    def column(name: str) -> np.ndarray:
        """A per-gene number, 0 for a gene without stored rows (and for the mean of none: NaN)."""
        values = np.array([np.nan if r is None else r[name] for r in found], dtype=float)
        return np.nan_to_num(values, nan=0.0)

    k_a, k_b = column("k_a"), column("k_b")
    mean_a, var_a = with_zeros(n_a, k_a, column("mean_a"), column("m2_a"))
    mean_b, var_b = with_zeros(n_b, k_b, column("mean_b"), column("m2_b"))
    if method == "wilcoxon":
        score = rank_sum_z(
            n_a,
            n_b,
            stored=k_a + k_b,
            stored_a=k_a,
            negative=column("negative"),
            positive_a=column("positive_a"),
            rank_sum_a=column("rank_sum_a"),
            tie_sum=column("tie_sum"),
            tie_correct=tie_correct,
        )
        p_value = normal_p_values(score)
    else:
        score, df = welch_t(n_a, mean_a, var_a, n_b, mean_b, var_b)
        p_value = welch_p_values(score, df)
    values = {
        "score": score,
        "log2_fold_change": log2_fold_change(mean_a, mean_b),
        "p_value": p_value,
        "p_value_adj": benjamini_hochberg_scanpy(p_value),
        "mean_a": mean_a,
        "mean_b": mean_b,
        "pct_a": k_a / n_a,
        "pct_b": k_b / n_b,
    }
    names = np.array(tested, dtype=object)
    order = score_order(names, score)
    return Comparison(method, n_a, n_b, names[order].tolist(), {k: v[order] for k, v in values.items()})
