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
# The moments' query reads the stored rows in marts.expression_by_gene's order (dataset, gene_idx, cell), so
# grouping by gene needs no hash table; the rank test's arrays are slower that way (one thread per range).
IN_GENE_ORDER = {"optimize_aggregation_in_order": 1}
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


# Without a `where`, each group of a t-test is whole cell types: its moments combine marts.gene_stats' per
# cell type (every gene in every cell type, zeros counted) — a lookup of cell types × genes rows instead of a
# scan of every stored value. The rank test needs the values themselves.
GENE_STATS_SQL = """
SELECT gene, cell_type, n_cells, n_expressing, mean, coalesce(variance, 0) * (n_cells - 1) AS m2
FROM marts.gene_stats
WHERE dataset = {dataset:String} AND cell_type IN {cell_types:Array(String)}
"""


@dataclass(frozen=True)
class Moments:
    """Per tested gene, over every cell of one group: cells expressing it, mean, variance (n − 1)."""

    k: np.ndarray
    mean: np.ndarray
    variance: np.ndarray


def _whole_cell_types(selection: CellSelection | None) -> bool:
    return selection is None or not (selection.has_where or selection.excluded_cell_types)


def _compare_cell_types(
    pool: ClientPool,
    catalog: DatasetCatalog,
    group_a: CellSelection,
    group_b: CellSelection | None,
    tested: list[str],
) -> Comparison:
    """The t-test between unions of whole cell types (B None: every other cell type), from marts.gene_stats:
    each group's moments by Chan et al.'s parallel update of its cell types' (nothing cancels)."""
    everything = list(catalog.cell_types)
    types_a = list(group_a.cell_types) or everything
    if group_b is None:
        types_b = [t for t in everything if t not in types_a]
    else:
        types_b = list(group_b.cell_types) or everything
    sizes = {
        "n_a": catalog.n_cells_of(types_a),
        "n_b": catalog.n_cells_of(types_b) if types_b else 0,
        "n_both": sum(catalog.cell_types[t] for t in set(types_a) & set(types_b)),
    }
    _check_sizes(sizes)
    rows = pool.fetch_arrow(
        GENE_STATS_SQL, {"dataset": catalog.name, "cell_types": sorted(set(types_a) | set(types_b))}
    )
    genes = rows.column("gene").combine_chunks().dictionary_encode()
    where_tested = {g: i for i, g in enumerate(tested)}
    slot = np.array([where_tested.get(g, -1) for g in genes.dictionary.to_pylist()], dtype=np.int64)
    position = slot[genes.indices.to_numpy(zero_copy_only=False)]
    cell_type = rows.column("cell_type").to_numpy(zero_copy_only=False)
    columns = {
        name: rows.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        for name in ("n_cells", "n_expressing", "mean", "m2")
    }

    def moments(types: list[str], n: int) -> Moments:
        mine = np.isin(cell_type, types) & (position >= 0)
        at = position[mine]
        n_c, k_c, mean_c, m2_c = (columns[name][mine] for name in ("n_cells", "n_expressing", "mean", "m2"))

        def total(weights: np.ndarray) -> np.ndarray:
            return np.bincount(at, weights=weights, minlength=len(tested))

        mean = total(n_c * mean_c) / n
        m2 = total(m2_c) + total(n_c * (mean_c - mean[at]) ** 2)
        return Moments(total(k_c), mean, m2 / (n - 1))

    return _finish(
        "t-test",
        True,
        sizes["n_a"],
        sizes["n_b"],
        tested,
        moments(types_a, sizes["n_a"]),
        moments(types_b, sizes["n_b"]),
        None,
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
    tested = genes if genes is not None else catalog.genes
    if method == "t-test" and _whole_cell_types(group_a) and _whole_cell_types(group_b):
        return _compare_cell_types(pool, catalog, group_a, group_b, tested)
    a, a_params = group_a.predicate("a")
    b, b_params = group_b.predicate("b") if group_b is not None else (f"NOT ({a})", {})
    params: dict[str, Any] = {"dataset": catalog.name, **a_params, **b_params}
    [sizes] = pool.fetch(_sizes_sql(a, b), params)
    _check_sizes(sizes)
    ranks = method == "wilcoxon"
    cells = "SELECT cell FROM marts.cells WHERE dataset = {dataset:String} AND "
    rows: dict[int, dict[str, Any]] = {}
    for chunk in _gene_chunks(catalog, genes, ranks):
        sql = _sql((cells + a, cells + b), group_b is None, chunk is not None, ranks)
        chunk_params = params if chunk is None else {**params, "genes": chunk}
        settings = None if ranks else IN_GENE_ORDER
        rows.update((row["gene_idx"], row) for row in pool.fetch(sql, chunk_params, settings=settings))
    found = [rows.get(catalog.gene_index[g]) for g in tested]

    def column(name: str) -> np.ndarray:
        """A per-gene number, 0 for a gene without stored rows (and for the mean of none: NaN)."""
        values = np.array([np.nan if r is None else r[name] for r in found], dtype=float)
        return np.nan_to_num(values, nan=0.0)

    def moments(group: str, n: int) -> Moments:
        k = column(f"k_{group}")
        mean, variance = with_zeros(n, k, column(f"mean_{group}"), column(f"m2_{group}"))
        return Moments(k, mean, variance)

    n_a, n_b = sizes["n_a"], sizes["n_b"]
    rank_columns = ("negative", "positive_a", "rank_sum_a", "tie_sum")
    rank_sums = {name: column(name) for name in rank_columns} if ranks else None
    return _finish(method, tie_correct, n_a, n_b, tested, moments("a", n_a), moments("b", n_b), rank_sums)


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
    a: Moments,
    b: Moments,
    rank_sums: dict[str, np.ndarray] | None,
) -> Comparison:
    """scanpy's numbers from each group's moments (and, for the rank test, group A's rank sums)."""
    mean_a, mean_b = a.mean, b.mean
    if method == "wilcoxon":
        assert rank_sums is not None
        score = rank_sum_z(
            n_a,
            n_b,
            stored=a.k + b.k,
            stored_a=a.k,
            negative=rank_sums["negative"],
            positive_a=rank_sums["positive_a"],
            rank_sum_a=rank_sums["rank_sum_a"],
            tie_sum=rank_sums["tie_sum"],
            tie_correct=tie_correct,
        )
        p_value = normal_p_values(score)
    else:
        score, df = welch_t(n_a, mean_a, a.variance, n_b, mean_b, b.variance)
        p_value = welch_p_values(score, df)
    values = {
        "score": score,
        "log2_fold_change": log2_fold_change(mean_a, mean_b),
        "p_value": p_value,
        "p_value_adj": benjamini_hochberg_scanpy(p_value),
        "mean_a": mean_a,
        "mean_b": mean_b,
        "pct_a": a.k / n_a,
        "pct_b": b.k / n_b,
    }
    names = np.array(tested, dtype=object)
    order = score_order(names, score)
    return Comparison(method, n_a, n_b, names[order].tolist(), {k: v[order] for k, v in values.items()})
