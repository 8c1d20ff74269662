// The Distribution and Variability charts (gateway/static/explorer/distspecs.js): pure functions of the API's
// answers, and specs the vendored Vega-Lite compiles. Run by tests/unit/test_explorer_specs.py (`node --test`).

import assert from "node:assert/strict";
import fs from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

import { dispersionSpec, distributionRows, distributionSpec } from "../../../gateway/static/explorer/distspecs.js";
import { fractionTicks } from "../../../gateway/static/explorer/format.js";
import { variabilitySpec } from "../../../gateway/static/explorer/specs.js";

const VENDOR = new URL("../../../gateway/static/vendor/", import.meta.url);
vm.runInThisContext(fs.readFileSync(new URL("vega-6.4.0/vega.min.js", VENDOR), "utf8"));
vm.runInThisContext(fs.readFileSync(new URL("vega-lite-6.5.0/vega-lite.min.js", VENDOR), "utf8"));
const compile = (spec) => globalThis.vegaLite.compile(spec).spec;

const DATA = Object.freeze({
  gene: "G",
  edges: [0.5, 1, 1.5, 2],
  groups: [
    { cell_type: "big", n_cells: 10, n_zero: 4, n_expressing: 6, mean: 0.5, mean_expressing: 1.2, counts: [1, 2, 3] },
    { cell_type: 'none "quoted"', n_cells: 5, n_zero: 5, n_expressing: 0, mean: 0, mean_expressing: null, counts: [0, 0, 0] },
  ],
});

test("distribution rows: per cell type the zero bin first, then every bin with its edges", () => {
  const rows = distributionRows(DATA);
  assert.equal(rows.length, 8);
  assert.deepEqual(rows[0], { cell_type: "big", bin: "0 (not detected)", low: 0, high: 0, n_cells_in_bin: 4, fraction_of_cells: 0.4 });
  assert.deepEqual(rows[3], { cell_type: "big", bin: "3", low: 1.5, high: 2, n_cells_in_bin: 3, fraction_of_cells: 0.3 });
  assert.equal(rows[4].n_cells_in_bin, 5);
});

test("distribution: the zero bin apart, violins of the non-zero bins, each type's widest bin spanning its row", () => {
  const { spec, names } = distributionSpec(DATA, { gene: "G" });
  assert.deepEqual(names, ["big", 'none "quoted"']);
  const [zeros, right] = spec.hconcat;
  assert.deepEqual(zeros.layer[0].data.values.map((z) => z.fraction), [0.4, 1]);
  const violins = right.layer[0].data.values;
  assert.equal(violins.length, 3); // the empty type draws no violin
  assert.deepEqual(violins.map((v) => v.share), [1 / 6, 2 / 6, 3 / 6]);
  const widest = violins[2];
  assert.ok(Math.abs(widest.y1 - widest.y0 - 0.88) < 1e-12);
  assert.equal(right.layer[1].data.values.length, 1); // a mean only where cells express the gene
  // The row labels are the names, looked up by row number (quotes escaped as JSON).
  assert.equal(zeros.layer[0].encoding.y.axis.labelExpr, `${JSON.stringify(names)}[datum.value]`);
  assert.deepEqual(spec.resolve, { scale: { y: "shared" } });
  compile(spec);
});

test("fraction ticks: distinct labels, never 0 %, 0 %, 1 %", () => {
  assert.deepEqual(fractionTicks(0.0078, 0.012), { values: [0.008, 0.009, 0.011, 0.012], format: ".1%" });
  assert.deepEqual(fractionTicks(0.05, 0.9), { values: [0.05, 0.33, 0.62, 0.9], format: ".0%" });
  assert.deepEqual(fractionTicks(0.3, 0.3), { values: [0.3], format: ".0%" });
  for (const [low, high] of [[0.001, 0.0013], [0, 0.02], [0.5, 0.51]]) {
    const { values, format } = fractionTicks(low, high);
    const digits = Number(format[1]);
    const printed = values.map((v) => (100 * v).toFixed(digits));
    assert.equal(new Set(printed).size, values.length, `${low}–${high}: ${printed}`);
  }
  // The CV plot (drawn when the dispersion background is unavailable) uses them too.
  const cv = variabilitySpec([{ gene: "a", mean_expression: 0.1, cv: 5, pct_expressing: 0.0078 }, { gene: "b", mean_expression: 0.2, cv: 4, pct_expressing: 0.012 }]);
  assert.deepEqual(cv.layer[0].encoding.size.legend, { values: [0.008, 0.009, 0.011, 0.012], format: ".1%" });
  compile(cv);
});

test("dispersion: every gene with a defined normalised dispersion as background, the chosen on top", () => {
  const all = [
    { gene: "a", means: 1, dispersions_norm: 2, pct_expressing: 0.1 },
    { gene: "b", means: 2, dispersions_norm: null, pct_expressing: 0.3 },
    { gene: "c", means: 3, dispersions_norm: -1, pct_expressing: 0.5 },
  ];
  const spec = dispersionSpec(all, [{ gene: "c", pct_expressing: 0.5, cv: 2 }, { gene: "b", pct_expressing: 0.3 }], { flavor: "cell_ranger" });
  const [background, genes, labels] = spec.layer;
  assert.equal(background.name, "background");
  assert.deepEqual(background.data.values.map((g) => g.gene), ["a", "c"]);
  assert.equal(genes.name, "genes");
  assert.deepEqual(genes.data.values.map((g) => [g.gene, g.means, g.cv]), [["c", 3, 2]]);
  assert.equal(genes.encoding.y.title, "normalised dispersion (scanpy, cell_ranger)");
  assert.deepEqual(labels.data.values.map((g) => g.gene), ["c"]);
  compile(spec);
});
