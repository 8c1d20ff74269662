// Comparing groups of cells (gateway/static/explorer/comparespecs.js): the compared dot plot, the per-value
// forest's rows and the two-group volcano's rows, pure functions checked without a browser.

import assert from "node:assert/strict";
import { test } from "node:test";

import { compareDotPlotSpec, compareDotRows, differentialRows, forestRows, groupLabel, twoGroupParams } from "../../../gateway/static/explorer/comparespecs.js";
import { volcanoSpec } from "../../../gateway/static/explorer/specs.js";

const row = (gene, cell_type, compare_value, mean) => ({ gene, cell_type, compare_value, mean, pct_expressing: 0.5, n_cells: 4, n_expressing: 2, mean_expressing: 2 * mean });

test("compared dot plot: one row per cell type × value, cell types in order, values in the metadata's order", () => {
  const rows = Object.freeze([row("A", "T", "naive", 1), row("A", "T", "drug A+B", 2), row("A", "B", "naive", 3), row("A", "B", "zeta", 0)]);
  const compared = compareDotRows(rows, { cellTypes: ["B", "T"], values: ["drug A+B", "naive"] });
  assert.deepEqual(compared.values, ["drug A+B", "naive", "zeta"]);
  assert.deepEqual(compared.order, ["B · naive", "B · zeta", "T · drug A+B", "T · naive"]);
  assert.equal(compared.rows.length, rows.length);
  assert.deepEqual(compared.rows.map((r) => r.row), ["T · naive", "T · drug A+B", "B · naive", "B · zeta"]);
  assert.equal(compared.rows[0].mean, 1);
  const spec = compareDotPlotSpec(compared.rows, { genes: ["A"], order: compared.order, compareBy: "condition" });
  assert.equal(spec.name, "dots");
  assert.deepEqual(spec.encoding.y.sort, compared.order);
  assert.equal(spec.encoding.y.field, "row");
  assert.deepEqual(spec.encoding.x.sort, ["A"]);
  assert.equal(spec.encoding.color.field, "mean");
  assert.equal(compareDotPlotSpec(compared.rows, { genes: ["A"], order: compared.order, compareBy: "c", colour: "scaled" }).encoding.color.field, "scaled");
  assert.ok(spec.encoding.tooltip.some((t) => t.field === "compare_value" && t.title === "condition"));
});

test("forest rows: Fisher z interval around r, undefined r kept without one", () => {
  const groups = [
    { group: "control", correlation: 0.5, p_value: 0.01, observation_count: 28, n_expressing_both: 9 },
    { group: "drug", correlation: null, p_value: null, observation_count: 2, n_expressing_both: 0, note: "constant" },
  ];
  const [a, b] = forestRows(groups, "pearson");
  const se = 1 / Math.sqrt(25);
  assert.ok(Math.abs(a.ci_low - Math.tanh(Math.atanh(0.5) - 1.959963984540054 * se)) < 1e-12);
  assert.ok(Math.abs(a.ci_high - Math.tanh(Math.atanh(0.5) + 1.959963984540054 * se)) < 1e-12);
  assert.deepEqual([a.group, a.r, a.p, a.n, a.note], ["control", 0.5, 0.01, 28, null]);
  assert.deepEqual([b.r, b.ci_low, b.ci_high, b.note], [null, null, null, "constant"]);
  const [s] = forestRows(groups, "spearman");
  assert.ok(s.ci_high - s.ci_low > a.ci_high - a.ci_low); // Fieller's wider variance
});

test("differential rows feed the volcano with the markers' shape", () => {
  const results = [
    { gene: "UP", score: 9, log2_fold_change: 3, p_value: 1e-10, p_value_adj: 1e-9, mean_a: 2, mean_b: 0.1, pct_a: 0.9, pct_b: 0.1 },
    { gene: "DOWN", score: -8, log2_fold_change: -2, p_value: 1e-6, p_value_adj: 1e-5, mean_a: 0.1, mean_b: 1, pct_a: 0.1, pct_b: 0.8 },
    { gene: "ZERO", score: 7, log2_fold_change: 1.5, p_value: 0, p_value_adj: 0, mean_a: 3, mean_b: 0, pct_a: 1, pct_b: 0 },
    { gene: "FLAT", score: null, log2_fold_change: 0, p_value: null, p_value_adj: 1, mean_a: 0, mean_b: 0, pct_a: 0, pct_b: 0 },
  ];
  const marked = differentialRows(results, { maxP: 0.05, minFold: 1 });
  assert.deepEqual(marked.rows.map((r) => r.call), ["up", "down", "up", "not significant"]);
  assert.deepEqual(marked.rows.map((r) => r.rank), [1, 2, 3, 4]);
  assert.equal(marked.rows[0].pct_in, 0.9);
  assert.equal(marked.rows[1].mean_out, 1);
  assert.ok(marked.belowFloat && marked.rows[2].neg_log10_p_adj === 1.1 * 9);
  const spec = volcanoSpec(marked, { cellType: "A", maxP: 0.05, minFold: 1, contrast: "Epithelial vs T cell" });
  assert.equal(spec.layer[0].encoding.x.title, "log2 fold change (Epithelial vs T cell)");
  assert.equal(volcanoSpec(marked, { cellType: "A", maxP: 0.05, minFold: 1 }).layer[0].encoding.x.title, "log2 fold change (A vs rest)");
});

test("group labels", () => {
  assert.equal(groupLabel({ cellTypes: ["T", "B"], where: "condition: a" }), "T, B (condition: a)");
  assert.equal(groupLabel({ cellTypes: [], where: "" }, "the rest"), "the rest");
  assert.equal(groupLabel({ cellTypes: [], where: "x ≤ 1" }), "x ≤ 1");
});

test("a fold change only the pseudocount decides is drawn at the edge, its value kept", () => {
  const results = [
    { gene: "ON", score: 9, log2_fold_change: 2, p_value: 1e-10, p_value_adj: 1e-9, mean_a: 2, mean_b: 0.5, pct_a: 0.9, pct_b: 0.3, fold_change_bound: false },
    { gene: "OFF", score: -8, log2_fold_change: -29.9, p_value: 1e-6, p_value_adj: 1e-5, mean_a: 0, mean_b: 1, pct_a: 0, pct_b: 0.8, fold_change_bound: true },
  ];
  const marked = differentialRows(results, { maxP: 0.05, minFold: 1 });
  assert.ok(marked.clipped);
  const off = marked.plotted.find((r) => r.gene === "OFF");
  assert.equal(off.log2_fold_change, -29.9);
  assert.ok(off.plot_log2_fold_change < 0 && Math.abs(off.plot_log2_fold_change) < 3);
  assert.equal(volcanoSpec(marked, { cellType: "A", maxP: 0.05, minFold: 1, contrast: "A vs B" }).layer[0].encoding.x.field, "plot_log2_fold_change");
});

test("two values of a breakdown become group A and group B of the compare view", () => {
  const where = { pct_mito: { max: 5 } };
  assert.deepEqual(twoGroupParams({ cellTypes: ["T"], where, by: "sex", groups: ["female", "male"] }), {
    a_cell_types: ["T"],
    a_where: JSON.stringify({ pct_mito: { max: 5 }, sex: ["female"] }),
    b: "group",
    b_cell_types: ["T"],
    b_where: JSON.stringify({ pct_mito: { max: 5 }, sex: ["male"] }),
  });
  assert.deepEqual(twoGroupParams({ cellTypes: ["T", "B"], where: null, by: "cell_type", groups: ["T", "B"] }), {
    a_cell_types: ["T"], a_where: "", b: "group", b_cell_types: ["B"], b_where: "",
  });
  // The breakdown's own column replaces a filter on it.
  assert.equal(twoGroupParams({ where: { sex: ["female", "male"] }, by: "sex", groups: ["male", "female"] }).a_where, JSON.stringify({ sex: ["male"] }));
});
