// The explorer's chart specs without a browser: each is a pure function of its rows and options
// (gateway/static/explorer/specs.js). Run by tests/unit/test_explorer_specs.py (`node --test`).

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  HIGHLIGHT,
  OKABE_ITO,
  coexpressionSpec,
  densitySpec,
  dotPlotRows,
  dotPlotSpec,
  forestSpec,
  interval,
  markerRows,
  rendererFor,
  scatterSpec,
  studySpec,
  variabilitySpec,
  volcanoSpec,
} from "../../../gateway/static/explorer/specs.js";

const frozen = (value) => {
  if (value && typeof value === "object") {
    for (const item of Object.values(value)) frozen(item);
    Object.freeze(value);
  }
  return value;
};

test("study: bars of cells per cell type, longest first", () => {
  const rows = frozen([{ cell_type: "T", n_cells: 30 }, { cell_type: "B", n_cells: 24 }]);
  const spec = studySpec(rows);
  assert.equal(spec.name, "bars");
  assert.deepEqual(spec.data.values, rows);
  assert.equal(spec.encoding.y.sort, "-x");
  assert.deepEqual(studySpec(rows), spec);
});

test("dot plot rows: each gene's mean scaled to 0–1 over the cell types, 0 for a flat gene", () => {
  const rows = frozen([
    { gene: "A", cell_type: "t1", mean: 1 },
    { gene: "A", cell_type: "t2", mean: 3 },
    { gene: "A", cell_type: "t3", mean: 2 },
    { gene: "B", cell_type: "t1", mean: 5 },
    { gene: "B", cell_type: "t2", mean: 5 },
  ]);
  assert.deepEqual(dotPlotRows(rows, ["A", "B"]).map((r) => r.scaled), [0, 1, 0.5, 0, 0]);
});

test("dot plot: axes in the API's order, size = fraction expressing, colour = mean or scaled mean", () => {
  const rows = frozen(dotPlotRows([{ gene: "A", cell_type: "t1", mean: 1, pct_expressing: 0.5 }], ["A"]));
  const options = frozen({ genes: ["A"], cellTypes: ["t2", "t1"] });
  const mean = dotPlotSpec(rows, options);
  assert.equal(mean.name, "dots");
  assert.deepEqual(mean.encoding.x.sort, ["t2", "t1"]);
  assert.deepEqual(mean.encoding.y.sort, ["A"]);
  assert.equal(mean.encoding.size.field, "pct_expressing");
  assert.deepEqual(mean.encoding.size.scale.domain, [0, 1]);
  assert.equal(mean.encoding.color.field, "mean");
  assert.equal(mean.encoding.color.legend.title, "mean expression");
  const scaled = dotPlotSpec(rows, { ...options, colour: "scaled" });
  assert.equal(scaled.encoding.color.field, "scaled");
  assert.equal(scaled.encoding.color.legend.title, "mean (scaled)");
});

test("co-expression: ranked bars, the r axis reaching below 0 only when some r is negative", () => {
  const positive = frozen([{ rank: 1, gene: "B", r: 0.9 }, { rank: 2, gene: "C", r: 0.2 }]);
  const spec = coexpressionSpec(positive, { gene: "A" });
  assert.equal(spec.name, "bars");
  assert.deepEqual(spec.encoding.y.sort, { field: "rank" });
  assert.equal(spec.encoding.x.title, "Pearson r with A");
  assert.deepEqual(spec.encoding.x.scale.domain, [0, 1]);
  const mixed = coexpressionSpec([...positive, { rank: 3, gene: "D", r: -0.4 }], { gene: "A" });
  assert.deepEqual(mixed.encoding.x.scale.domain, [-0.4, 1]);
});

test("marker rows: rank, −log10 adjusted p, calls by both thresholds, p = 0 at the ceiling", () => {
  const results = frozen([
    { gene: "UP", log2_fold_change: 2, p_value_adj: 1e-10 },
    { gene: "ZERO", log2_fold_change: 3, p_value_adj: 0 },
    { gene: "DOWN", log2_fold_change: -1.5, p_value_adj: 0.01 },
    { gene: "SMALL", log2_fold_change: 0.5, p_value_adj: 1e-6 },
    { gene: "NOTP", log2_fold_change: 2, p_value_adj: 0.2 },
    { gene: "NULL", log2_fold_change: null, p_value_adj: null },
  ]);
  const { rows, plotted, labelled, belowFloat } = markerRows(results, { maxP: 0.05, minFold: 1 });
  assert.deepEqual(rows.map((r) => r.rank), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(rows.map((r) => r.call), ["up", "up", "down", "not significant", "not significant", "not significant"]);
  assert.ok(Math.abs(rows[0].neg_log10_p_adj - 10) < 1e-12);
  assert.ok(Math.abs(rows[1].neg_log10_p_adj - 11) < 1e-12); // 10 % above the highest finite point
  assert.deepEqual(rows.map((r) => r.p_below_float), [false, true, false, false, false, false]);
  assert.deepEqual(plotted.map((r) => r.gene), ["UP", "ZERO", "DOWN", "SMALL", "NOTP"]);
  // Issue 22: the strongest down gene is labelled too (up and down alternate, most important first).
  assert.deepEqual(labelled.map((r) => r.gene), ["UP", "DOWN", "ZERO"]);
  assert.equal(belowFloat, true);
  assert.equal(markerRows(results.slice(2), { maxP: 0.05, minFold: 1 }).belowFloat, false);
  assert.equal(markerRows([{ gene: "Z", log2_fold_change: 1, p_value_adj: 0 }], { maxP: 0.05, minFold: 1 }).rows[0].neg_log10_p_adj, 300);
});

test("volcano: genes coloured by call, thresholds drawn as rules, the p = 0 legend only when needed", () => {
  const marked = markerRows(frozen([{ gene: "UP", log2_fold_change: 2, p_value_adj: 0 }, { gene: "B", log2_fold_change: 0.1, p_value_adj: 0.5 }]), { maxP: 0.01, minFold: 1.5 });
  const spec = volcanoSpec(marked, { cellType: "T", maxP: 0.01, minFold: 1.5 });
  const [genes, labels, pRule, foldRules] = spec.layer;
  assert.equal(genes.name, "genes");
  assert.deepEqual(genes.data.values, marked.plotted);
  assert.equal(genes.encoding.x.title, "log2 fold change (T vs rest)");
  assert.deepEqual(genes.encoding.color.scale.range, [HIGHLIGHT.up, HIGHLIGHT.down, HIGHLIGHT.other]);
  assert.deepEqual(genes.encoding.shape.legend, {});
  assert.deepEqual(labels.data.values.map((r) => r.gene), ["UP"]);
  assert.deepEqual(pRule.data.values, [{ y: 2 }]);
  assert.deepEqual(foldRules.data.values, [{ x: -1.5 }, { x: 1.5 }]);
  const finite = markerRows([{ gene: "A", log2_fold_change: 2, p_value_adj: 0.001 }], { maxP: 0.01, minFold: 1 });
  assert.equal(volcanoSpec(finite, { cellType: "T", maxP: 0.01, minFold: 1 }).layer[0].encoding.shape.legend, null);
});

test("renderer: SVG up to 3000 points, a canvas beyond", () => {
  assert.equal(rendererFor(3000), "svg");
  assert.equal(rendererFor(3001), "canvas");
});

test("variability: mean against CV on a log x axis, the first five genes labelled", () => {
  const rows = frozen(Array.from({ length: 7 }, (_, i) => ({ rank: i + 1, gene: `G${i}`, mean_expression: 1 + i, cv: 2 - i / 10 })));
  const [genes, labels] = variabilitySpec(rows).layer;
  assert.equal(genes.name, "genes");
  assert.equal(genes.encoding.x.scale.type, "log");
  assert.deepEqual(labels.data.values.map((r) => r.gene), ["G0", "G1", "G2", "G3", "G4"]);
});

test("interval: Fisher's z at 95 %, wider for Spearman, undefined for n ≤ 3 or no r", () => {
  const [low, high] = interval(0.5, 103, "pearson");
  const z = Math.atanh(0.5);
  assert.ok(Math.abs(low - Math.tanh(z - 1.959963984540054 / 10)) < 1e-12);
  assert.ok(Math.abs(high - Math.tanh(z + 1.959963984540054 / 10)) < 1e-12);
  const [sLow, sHigh] = interval(0.5, 103, "spearman");
  assert.ok(sLow < low && sHigh > high);
  assert.deepEqual(interval(0.5, 3, "pearson"), [null, null]);
  assert.deepEqual(interval(null, 100, "pearson"), [null, null]);
  const [edgeLow, edgeHigh] = interval(1, 50, "pearson");
  assert.ok(Number.isFinite(edgeLow) && Number.isFinite(edgeHigh));
});

test("scatter: one point per cell, coloured by cell type while the palette lasts; downloads named by gene", () => {
  const points = frozen({ barcode: ["c1", "c2"], cell_type: ["T", "B"], x: [0, 1.5], y: [2, 0] });
  const { spec, rows, renderer } = scatterSpec(points, { a: "EPCAM", b: "KRT18" });
  assert.equal(spec.name, "cells");
  assert.deepEqual(spec.data.values, [{ barcode: "c1", cell_type: "T", x: 0, y: 2 }, { barcode: "c2", cell_type: "B", x: 1.5, y: 0 }]);
  assert.deepEqual(spec.encoding.color.scale.domain, ["T", "B"]);
  assert.deepEqual(rows, [{ barcode: "c1", cell_type: "T", EPCAM: 0, KRT18: 2 }, { barcode: "c2", cell_type: "B", EPCAM: 1.5, KRT18: 0 }]);
  assert.equal(renderer, "svg");
  const many = Array.from({ length: OKABE_ITO.length + 1 }, (_, i) => `type${i}`);
  const crowded = scatterSpec({ barcode: many, cell_type: many, x: many.map(() => 1), y: many.map(() => 1) }, { a: "A", b: "B" });
  assert.deepEqual(crowded.spec.encoding.color, { value: OKABE_ITO[0] });
});

test("density: rectangles around each bin centre, bin 0 labelled as not detected", () => {
  const bins = frozen({ x_bin: [0, 2], y_bin: [1, 0], n_cells: [40, 3], x_step: 0.5, y_step: 0.25 });
  const { spec, rows } = densitySpec(bins, { a: "A", b: "B" });
  assert.equal(spec.name, "bins");
  const [first, second] = spec.data.values;
  assert.deepEqual([first.x0, first.x1, first.y0, first.y1], [-0.25, 0.25, 0.125, 0.375]);
  assert.equal(first.x_range, "0");
  assert.equal(second.x_range, "0.75 – 1.25");
  assert.equal(second.y_range, "0");
  assert.deepEqual(rows[1], { A_from: 0.75, A_to: 1.25, B_from: -0.125, B_to: 0.125, n_cells: 3 });
  assert.equal(spec.encoding.color.scale.type, "log");
});

test("forest: groups with an r, the overall r as a rule, the axis titled by the breakdown", () => {
  const groups = frozen([{ group: "T", r: 0.4, n: 30, ci_low: 0.1, ci_high: 0.6 }, { group: "M", r: null, n: 1, ci_low: null, ci_high: null }]);
  const spec = forestSpec(groups, { overall: 0.3, by: "sample" });
  assert.deepEqual(spec.data.values.map((g) => g.group), ["T"]);
  assert.deepEqual(spec.layer[0].data.values, [{ r: 0.3 }]);
  assert.equal(spec.layer[1].encoding.y.title, "sample");
  assert.equal(spec.layer[2].name, "groups");
  assert.equal(forestSpec(groups, { overall: 0.3, by: "cell_type" }).layer[1].encoding.y.title, "cell type");
  assert.equal(forestSpec(groups, { overall: 0.3, by: "condition" }).layer[1].encoding.y.title, "condition");
});

test("volcano: pseudocount-decided fold changes at the edge, labels up and down that never overlap", () => {
  const results = frozen([
    { gene: "UP1", log2_fold_change: 2, p_value_adj: 1e-20 },
    { gene: "UP2", log2_fold_change: 2.01, p_value_adj: 1.1e-20 },
    { gene: "ABSENT", log2_fold_change: -29.9, p_value_adj: 1e-5, fold_change_bound: true },
    { gene: "DOWN", log2_fold_change: -3, p_value_adj: 1e-8 },
  ]);
  const marked = markerRows(results, { maxP: 0.05, minFold: 1 });
  const absent = marked.plotted.find((r) => r.gene === "ABSENT");
  assert.equal(absent.log2_fold_change, -29.9); // the true value stays for the table and CSV
  assert.ok(Math.abs(absent.plot_log2_fold_change + 3.3) < 1e-12); // drawn 10 % beyond the widest measured
  assert.equal(absent.point, "fold change bound (edge)");
  assert.equal(marked.clipped, true);
  // UP2 would sit on UP1's label: left out; the strongest down gene is labelled.
  assert.deepEqual(marked.labelled.map((r) => r.gene), ["UP1", "DOWN", "ABSENT"]);
  const spec = volcanoSpec(marked, { cellType: "T", maxP: 0.05, minFold: 1 });
  assert.equal(spec.layer[0].encoding.x.field, "plot_log2_fold_change");
  assert.deepEqual(spec.layer[0].encoding.shape.legend, {});
});
