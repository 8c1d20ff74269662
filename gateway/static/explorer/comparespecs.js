// The charts of comparing groups of cells, as pure functions (rows in, Vega-Lite spec out; node-tested like
// specs.js): the dot plot compared by a metadata column, the per-value forest of a correlation and the
// two-group differential expression's rows for specs.js's volcano.

import { SEQUENTIAL, interval, markerRows } from "./specs.js";
import { encodeWhere } from "./where.js";

const SEPARATOR = " · ";

/**
 * The dot plot's rows compared by a column, each with `row` ("cell type · value") and the rows' order:
 * cell types in `cellTypes` order, within each the values in `values` order (others after, by name).
 * @returns {{rows: any[], order: string[], values: string[]}}
 */
export function compareDotRows(rows, { cellTypes, values = [] }) {
  const seen = [...new Set(rows.map((r) => r.compare_value))];
  const ordered = [...values.filter((v) => seen.includes(v)), ...seen.filter((v) => !values.includes(v)).sort((a, b) => String(a).localeCompare(String(b)))];
  const labelled = rows.map((r) => ({ ...r, row: `${r.cell_type}${SEPARATOR}${r.compare_value}` }));
  const present = new Set(labelled.map((r) => r.row));
  const order = cellTypes.flatMap((c) => ordered.map((v) => `${c}${SEPARATOR}${v}`)).filter((label) => present.has(label));
  return { rows: labelled, order, values: ordered };
}

/**
 * Dot plot compared by a metadata column (CELLxGENE Gene Expression's "compare"): one row per cell type ×
 * value, one column per gene; size = fraction expressing, colour = mean over all those cells ("mean") or that
 * mean scaled per gene ("scaled"). rows: compareDotRows().rows (after dotPlotRows for `scaled`).
 */
export function compareDotPlotSpec(rows, { genes, order, compareBy, colour = "mean" }) {
  const scaled = colour === "scaled";
  return {
    data: { values: rows },
    name: "dots",
    width: { step: 34 },
    height: { step: 22 },
    mark: { type: "circle", stroke: "#555555", strokeWidth: 0.5, opacity: 1, cursor: "pointer" },
    encoding: {
      y: { field: "row", type: "nominal", sort: order, title: `cell type · ${compareBy}`, axis: { labelLimit: 260 } },
      x: { field: "gene", type: "nominal", sort: genes, title: null, axis: { orient: "top", labelAngle: -40 } },
      size: { field: "pct_expressing", type: "quantitative", scale: { domain: [0, 1], range: [0, 360] }, legend: { title: "cells expressing", format: ".0%", values: [0.2, 0.4, 0.6, 0.8, 1] } },
      color: { field: scaled ? "scaled" : "mean", type: "quantitative", scale: SEQUENTIAL, legend: { title: scaled ? "mean (scaled)" : "mean expression" } },
      tooltip: [
        { field: "gene" }, { field: "cell_type", title: "cell type" }, { field: "compare_value", title: compareBy },
        { field: "mean", format: ".4f", title: "mean (all cells)" },
        { field: "pct_expressing", format: ".1%", title: "expressing" },
        { field: "mean_expressing", format: ".4f", title: "mean (expressing)" },
        { field: "n_cells", title: "cells" },
      ],
    },
  };
}

/**
 * /gene-correlation's groups as the forest draws them: r, p, n and a 95 % interval (Fisher's z; Spearman with
 * Fieller's variance — display only, the API's r, p and n are exact).
 */
export function forestRows(groups, method) {
  return groups.map((g) => {
    const [low, high] = interval(g.correlation, g.observation_count, method);
    return { group: g.group, r: g.correlation, p: g.p_value, n: g.observation_count, n_expressing_both: g.n_expressing_both, ci_low: low, ci_high: high, note: g.note ?? null };
  });
}

/**
 * POST /differential-expression's results as the volcano (specs.js's volcanoSpec) and the table show them:
 * markerRows' rank, −log10 adjusted p and call, with the markers' names for the shared tooltip (pct_in/out =
 * pct_a/b, mean_in/out = mean_a/b).
 */
export function differentialRows(results, { maxP, minFold }) {
  const shaped = results.map((r) => ({ ...r, pct_in: r.pct_a, pct_out: r.pct_b, mean_in: r.mean_a, mean_out: r.mean_b }));
  return markerRows(shaped, { maxP, minFold });
}

/** A group's description for headings, titles and file names: "Epithelial (condition: a)" or "the rest". */
export function groupLabel({ cellTypes = [], where = "" }, fallback = "every cell") {
  const types = cellTypes.length ? cellTypes.join(", ") : "";
  if (types && where) return `${types} (${where})`;
  return types || where || fallback;
}

/**
 * The Compare two groups view's URL values for two values `groups` of the column `by` within the same cells
 * (`cellTypes`, `where`): A = the first value, B = the second; a cell-type breakdown picks the cell types.
 */
export function twoGroupParams({ cellTypes = [], where = null, by, groups: [first, second] }) {
  const side = (value) =>
    by === "cell_type"
      ? { types: [value], where: where || null }
      : { types: cellTypes, where: { ...(where || {}), [by]: [value] } };
  const a = side(first);
  const b = side(second);
  return {
    a_cell_types: a.types,
    a_where: encodeWhere(a.where),
    b: "group",
    b_cell_types: b.types,
    b_where: encodeWhere(b.where),
  };
}
