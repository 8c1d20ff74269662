"""Gene–gene correlation over every cell of the chosen groups, from sums that ClickHouse computes.

Only the two genes' stored (non-zero) rows are read, from marts.expression_by_gene by gene_idx (one or
two parts, two short ranges, whatever the cell types); the zeros enter through n, the number of cells in
the group (the catalog's counts from marts.cells). Spearman ranks are exact too: each gene's zeros share one
averaged rank, the non-zeros are ranked by a window function — nothing is densified, nothing is pulled
into Python but sums.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gateway.analyses.cell_masks import group_codes, selection_mask
from gateway.analyses.cells import CellSelection, cell_filter
from gateway.analyses.stats import (
    PairSums,
    RankParts,
    centred_ss,
    fisher_z_difference,
    pearson_p_value,
    spearman_p_value,
)
from gateway.catalog import DatasetCatalog
from gateway.clients import SMALL_READ, ClientPool
from gateway.schemas import CorrelationDifference, CorrelationGroup, CorrelationStats

# The designated grouping columns both marts carry (keys validated by the caller, values are SQL); any other
# group column is read from marts.cells' group_attributes.
GROUP_COLUMNS = {None: "''", "cell_type": "cell_type", "sample": "sample"}


# The two genes' stored rows in marts.expression_by_gene: by gene_idx, its sort key (one or two parts).
TWO_GENES = "dataset = {dataset:String} AND gene_idx IN ({gene_a_idx:UInt32}, {gene_b_idx:UInt32})"


def per_cell_cte(cells: str, group_column: str | None = None) -> str:
    """`per_cell (cell[, grp], x, y)`: the cells where either gene is stored, from their rows alone. (Stored
    rows are non-zero — dbt tests it — and a zero would change no sum here: x != 0 counts, not row counts.)"""
    group = f"any({group_column}) AS grp, " if group_column else ""
    return f"""per_cell AS (
    SELECT cell, {group}sumIf(lognorm, gene_idx = {{gene_a_idx:UInt32}}) AS x,
           sumIf(lognorm, gene_idx = {{gene_b_idx:UInt32}}) AS y
    FROM marts.expression_by_gene
    WHERE {TWO_GENES} AND {cells}
    GROUP BY cell
)"""


def _pearson_sql(group_column: str | None, cells: str) -> str:
    # Only the two genes' stored rows; the groups' sizes (the zeros) come from the catalog, not marts.cells.
    # Without a breakdown there is one group, and no GROUP BY (0.3 ms of a 5 ms query).
    group = ("grp", "GROUP BY grp") if group_column else ("'' AS grp", "")
    return f"""
WITH {per_cell_cte(cells, group_column)}
SELECT {group[0]}, sum(x) AS sx, sum(x * x) AS sxx, sum(y) AS sy, sum(y * y) AS syy, sum(x * y) AS sxy,
       countIf(x != 0) AS nx, countIf(y != 0) AS ny, countIf(x != 0 AND y != 0) AS nb
FROM per_cell
{group[1]}
"""


def _spearman_sql(group_column: str, cells: str) -> str:
    """Spearman per group of a column both marts carry (cell_type, sample), over cells of a `cells` term."""
    sizes = f"""SELECT {group_column} AS grp, count() AS n
    FROM marts.cells
    WHERE dataset = {{dataset:String}} AND {cells}
    GROUP BY grp"""
    stored = f"""SELECT {group_column} AS grp, cell, gene_idx AS gene, lognorm AS v
    FROM marts.expression_by_gene
    WHERE {TWO_GENES} AND lognorm != 0 AND {cells}"""
    return _ranked_sql(sizes, stored)


def _chosen_cte(group: str, cells: str) -> str:
    """`chosen (cell, grp)`: the selected cells of marts.cells with their group (any metadata column)."""
    return f"""chosen AS (
    SELECT cell, {group} AS grp FROM marts.cells WHERE dataset = {{dataset:String}} AND {cells}
)"""


def _spearman_chosen_sql(group: str, cells: str) -> str:
    """Spearman per group of any metadata column, over any selection (a `where`): cells from `chosen`."""
    stored = """SELECT chosen.grp AS grp, e.cell AS cell, e.gene_idx AS gene, e.lognorm AS v
    FROM marts.expression_by_gene AS e INNER JOIN chosen ON e.cell = chosen.cell
    WHERE e.dataset = {dataset:String} AND e.gene_idx IN ({gene_a_idx:UInt32}, {gene_b_idx:UInt32})"""
    return _ranked_sql("SELECT grp, count() AS n FROM chosen GROUP BY grp", stored, _chosen_cte(group, cells))


# The two genes' stored rows, as the fast path reads them (a selection's sums are taken over its cells).
PAIR_ROWS_SQL = f"SELECT cell, gene_idx, lognorm FROM marts.expression_by_gene WHERE {TWO_GENES}"


def _pearson_masked(
    pool: ClientPool,
    catalog: DatasetCatalog,
    params: dict[str, Any],
    selection: CellSelection,
    by: str | None,
) -> list[tuple[str, PairSums, tuple[int, int, int]]]:
    """Pearson sums per group of any group column over any selection (a `where`): the cells are a mask of
    the catalog's columns (gateway.analyses.cell_masks), the two genes' stored rows are read by gene index
    as on the fast path, and the sums are taken per group of the chosen cells (a zero adds nothing)."""
    mask = selection_mask(pool, catalog, selection)
    groups = group_codes(pool, catalog, by)
    size = len(groups.names)
    rows = pool.fetch_arrow(PAIR_ROWS_SQL, params, settings=SMALL_READ)
    cells = rows.column("cell").to_numpy()
    values = rows.column("lognorm").to_numpy().astype(np.float64)
    of_a = rows.column("gene_idx").to_numpy() == params["gene_a_idx"]
    cells_a, x = cells[of_a], values[of_a]
    same_gene = params["gene_a_idx"] == params["gene_b_idx"]
    cells_b, y = (cells_a, x) if same_gene else (cells[~of_a], values[~of_a])

    def per_group(at: np.ndarray, weights: np.ndarray) -> np.ndarray:
        chosen = mask[at]
        return np.bincount(groups.codes[at[chosen]], weights=weights[chosen], minlength=size)

    x_of_cell = np.zeros(len(mask))  # gene A's value at each cell (0 where not stored)
    x_of_cell[cells_a] = x
    x_at_b = x_of_cell[cells_b]
    sums = (
        per_group(cells_a, x),
        per_group(cells_a, x * x),
        per_group(cells_b, y),
        per_group(cells_b, y * y),
        per_group(cells_b, x_at_b * y),
    )
    counts = (
        per_group(cells_a, (x != 0) * 1.0),
        per_group(cells_b, (y != 0) * 1.0),
        per_group(cells_b, ((x_at_b != 0) & (y != 0)) * 1.0),
    )
    n = np.bincount(groups.codes[mask], minlength=size)
    return [
        (
            name,
            PairSums(int(n[i]), *(float(s[i]) for s in sums)),
            (int(counts[0][i]), int(counts[1][i]), int(counts[2][i])),
        )
        for i, name in sorted(enumerate(groups.names), key=lambda item: item[1])
        if n[i] > 0
    ]


def _ranked_sql(sizes: str, stored: str, chosen: str = "") -> str:
    """Spearman's sparse rank parts per group: `sizes (grp, n)` and the `stored (grp, cell, gene, v)` rows."""
    return f"""
WITH
{chosen + "," if chosen else ""}
sizes AS (
    {sizes}
),
stored AS (
    {stored}
),
ranked AS (
    SELECT grp, cell, gene, v,
           rank() OVER (PARTITION BY grp, gene ORDER BY v)
             + (count() OVER (PARTITION BY grp, gene, v) - 1) / 2 AS rank_among_stored,
           count() OVER (PARTITION BY grp, gene) AS n_stored
    FROM stored
),
-- Positive values rank above the group's zero block (n − n_stored zeros); negative ones below it.
full_rank AS (
    SELECT ranked.grp AS grp, cell, gene, v,
           rank_among_stored + if(v > 0, sizes.n - n_stored, 0) AS r
    FROM ranked INNER JOIN sizes ON ranked.grp = sizes.grp
),
per_cell AS (
    SELECT grp, cell,
           countIf(gene = {{gene_a_idx:UInt32}}) > 0 AS hx, countIf(gene = {{gene_b_idx:UInt32}}) > 0 AS hy,
           sumIf(r, gene = {{gene_a_idx:UInt32}}) AS rx, sumIf(r, gene = {{gene_b_idx:UInt32}}) AS ry,
           countIf(gene = {{gene_a_idx:UInt32}} AND v < 0) AS negx,
           countIf(gene = {{gene_b_idx:UInt32}} AND v < 0) AS negy
    FROM full_rank
    GROUP BY grp, cell
),
parts AS (
    SELECT grp, countIf(hx) AS nx, countIf(hy) AS ny, countIf(hx AND hy) AS nb,
           sum(negx) AS negx, sum(negy) AS negy,
           sumIf(rx, hx) AS rx_sum, sumIf(rx * rx, hx) AS rxx_sum,
           sumIf(ry, hy) AS ry_sum, sumIf(ry * ry, hy) AS ryy_sum,
           sumIf(rx * ry, hx AND hy) AS both_rxy, sumIf(rx, hx AND hy) AS both_rx,
           sumIf(ry, hx AND hy) AS both_ry
    FROM per_cell
    GROUP BY grp
)
SELECT sizes.grp AS grp, sizes.n AS n,
       coalesce(parts.nx, 0) AS nx, coalesce(parts.ny, 0) AS ny, coalesce(parts.nb, 0) AS nb,
       coalesce(parts.negx, 0) AS negx, coalesce(parts.negy, 0) AS negy,
       coalesce(parts.rx_sum, 0) AS rx_sum, coalesce(parts.rxx_sum, 0) AS rxx_sum,
       coalesce(parts.ry_sum, 0) AS ry_sum, coalesce(parts.ryy_sum, 0) AS ryy_sum,
       coalesce(parts.both_rxy, 0) AS both_rxy, coalesce(parts.both_rx, 0) AS both_rx,
       coalesce(parts.both_ry, 0) AS both_ry
FROM sizes LEFT JOIN parts ON sizes.grp = parts.grp
ORDER BY grp
"""


def _undefined_note(sums: PairSums, genes: tuple[str, str]) -> str:
    if sums.n < 2:
        return f"undefined: {int(sums.n)} cell(s) in the selection, at least 2 are needed"
    constant = [
        gene
        for gene, (s, ss) in zip(genes, ((sums.sx, sums.sxx), (sums.sy, sums.syy)), strict=True)
        if centred_ss(sums.n, s, ss) == 0.0
    ]
    names = list(dict.fromkeys(constant))
    verb = "is" if len(names) == 1 else "are"
    return f"undefined: {' and '.join(names)} {verb} constant (zero variance) over these cells"


def _finish(
    sums: PairSums, counts: tuple[int, int, int], method: str, genes: tuple[str, str]
) -> dict[str, Any]:
    """The response fields of one selection from its sums (of values, or of ranks for Spearman)."""
    n = int(sums.n)
    r = sums.correlation() if n >= 2 else None
    p_value = pearson_p_value(r, n) if method == "pearson" else spearman_p_value(r, n)
    return {
        "correlation": r,
        "pearson_correlation": r if method == "pearson" else None,
        "observation_count": n,
        "p_value": p_value,
        "n_expressing_a": counts[0],
        "n_expressing_b": counts[1],
        "n_expressing_both": counts[2],
        "note": None if r is not None else _undefined_note(sums, genes),
    }


def _pearson_rows(
    rows: list[dict[str, Any]], sizes: dict[str, int]
) -> list[tuple[str, PairSums, tuple[int, int, int]]]:
    """Every group of `sizes` (in its order) with its sums; a group without stored rows has zero sums."""
    by_group = {row["grp"]: row for row in rows}
    empty = {"sx": 0.0, "sxx": 0.0, "sy": 0.0, "syy": 0.0, "sxy": 0.0, "nx": 0, "ny": 0, "nb": 0}
    groups = []
    for name, n in sizes.items():
        row = by_group.get(name, empty)
        sums = PairSums(n, row["sx"], row["sxx"], row["sy"], row["syy"], row["sxy"])
        groups.append((name, sums, (row["nx"], row["ny"], row["nb"])))
    return groups


def _spearman_rows(rows: list[dict[str, Any]]) -> list[tuple[str, PairSums, tuple[int, int, int]]]:
    fields = RankParts.__dataclass_fields__
    return [
        (
            row["grp"],
            RankParts(**{k: v for k, v in row.items() if k in fields}).sums(),
            (row["nx"], row["ny"], row["nb"]),
        )
        for row in rows
    ]


def pair_parameters(
    catalog: DatasetCatalog, gene_a: str, gene_b: str, cell_types: list[str]
) -> dict[str, Any]:
    """The query parameters of `per_cell_cte` for two resolved gene symbols of `catalog`."""
    return {
        "dataset": catalog.name,
        "gene_a_idx": catalog.gene_index[gene_a],
        "gene_b_idx": catalog.gene_index[gene_b],
        "cell_types": cell_types,
    }


def _group_sql(by: str | None) -> tuple[str, dict[str, Any]]:
    """The SQL of a breakdown's group over marts.cells (any group column; '' for cells without a value)."""
    if by in GROUP_COLUMNS:
        return GROUP_COLUMNS[by], {}
    return "group_attributes[{by_key:String}]", {"by_key": by}


def _rows(
    pool: ClientPool,
    catalog: DatasetCatalog,
    params: dict[str, Any],
    selection: CellSelection,
    method: str,
    by: str | None,
) -> list[tuple[str, PairSums, tuple[int, int, int]]]:
    """Every group of `by` (one group '' without) with its sums, over the selection."""
    fast = not selection.has_where and by in GROUP_COLUMNS
    if fast:
        cells = cell_filter(list(selection.cell_types))
        if method == "pearson":
            rows = pool.fetch(
                _pearson_sql(GROUP_COLUMNS[by] if by else None, cells), params, settings=SMALL_READ
            )
            return _pearson_rows(rows, catalog.sizes(list(selection.cell_types), by))
        return _spearman_rows(
            pool.fetch(_spearman_sql(GROUP_COLUMNS[by], cells), params, settings=SMALL_READ)
        )
    if method == "pearson":
        return _pearson_masked(pool, catalog, params, selection, by)
    cells, cell_params = selection.predicate("sel")
    group, group_params = _group_sql(by)
    params = {**params, **cell_params, **group_params}
    return _spearman_rows(pool.fetch(_spearman_chosen_sql(group, cells), params, settings=SMALL_READ))


def correlate(
    pool: ClientPool,
    catalog: DatasetCatalog,
    *,
    gene_a: str,
    gene_b: str,
    selection: CellSelection,
    method: str,
    by: str | None,
) -> tuple[CorrelationStats, list[CorrelationGroup] | None, CorrelationDifference | None]:
    """The correlation over the whole selection, per group of `by` (any group column) when asked, and with
    exactly two groups Fisher's z test that their correlations differ (genes, cell types and `by` as
    resolved by the caller; without a `where` the groups' sizes — the zeros — come from the catalog)."""
    params = pair_parameters(catalog, gene_a, gene_b, list(selection.cell_types))
    genes = (gene_a, gene_b)
    groups = _rows(pool, catalog, params, selection, method, by)
    if method == "pearson":
        # Sums are additive: the per-group query also gives the whole selection.
        total = PairSums(
            *(sum(getattr(g[1], f) for g in groups) for f in ("n", "sx", "sxx", "sy", "syy", "sxy"))
        )
        n_x, n_y, n_both = (sum(g[2][i] for g in groups) for i in range(3))
        overall = _finish(total, (n_x, n_y, n_both), method, genes)
    else:
        # Ranks are not: the whole selection and each group are ranked separately.
        whole = _rows(pool, catalog, params, selection, method, None) if by else groups
        [(_, total, counts)] = whole or [("", PairSums(0, 0, 0, 0, 0, 0), (0, 0, 0))]
        overall = _finish(total, counts, method, genes)
    if not by:
        return CorrelationStats(**overall), None, None
    breakdown = [CorrelationGroup(group=name, **_finish(s, c, method, genes)) for name, s, c in groups]
    difference = None
    if len(breakdown) == 2:
        first, second = breakdown
        z, p = fisher_z_difference(
            (first.correlation, first.observation_count),
            (second.correlation, second.observation_count),
        )
        difference = CorrelationDifference(
            test="fisher_z", groups=[first.group, second.group], z=z, p_value=p
        )
    return CorrelationStats(**overall), breakdown, difference
