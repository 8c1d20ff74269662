// Exported charts' titles and file names (gateway/static/explorer/exports.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { chartFileName, chartTitle, titledSvg } from "../../../gateway/static/explorer/exports.js";

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" class="marks" width="300" height="200" viewBox="0 0 300 200"><g><circle r="3"/></g></svg>';

test("a title line above the chart: the root grows, the chart moves down, the text is escaped", () => {
  const out = titledSvg(SVG, "Dot plot: CD3D <b>&</b> · dataset pbmc");
  assert.match(out, /^<svg [^>]*height="226"[^>]*viewBox="0 0 300 226"/);
  assert.match(out, /<text [^>]*>Dot plot: CD3D &lt;b&gt;&amp;&lt;\/b&gt; · dataset pbmc<\/text>/);
  assert.match(out, /<g transform="translate\(0,26\)"><g><circle r="3"\/><\/g><\/g><\/svg>$/);
  assert.equal(titledSvg(SVG, ""), SVG);
});

test("titles and file names name the view, the genes, the groups and the dataset", () => {
  const genes = ["CD3D", "CD3E", "CD3G", "MS4A1", "CD79A", "NKG7", "GNLY", "LYZ", "CD14", "FCGR3A"];
  assert.equal(chartTitle({ view: "Dot plot", genes: genes.slice(0, 2), dataset: "pbmc" }), "Dot plot: CD3D, CD3E · dataset pbmc");
  assert.equal(chartTitle({ view: "Dot plot", genes, dataset: "pbmc" }), "Dot plot: CD3D, CD3E, CD3G, MS4A1, CD79A, NKG7, GNLY, LYZ and 2 more · dataset pbmc");
  assert.equal(chartTitle({ view: "Markers", groups: ["CD4+/CD25 T Reg", "rest"], dataset: "pbmc" }), "Markers: CD4+/CD25 T Reg vs rest · dataset pbmc");
  assert.equal(chartFileName({ view: "dot-plot", genes, dataset: "pbmc" }), "pbmc_dot-plot_CD3D_CD3E_CD3G_MS4A1_CD79A_NKG7_and-4-more");
  assert.equal(chartFileName({ view: "markers", groups: ["CD4+/CD25 T Reg", "t-test"], dataset: "pbmc" }), "pbmc_markers_CD4-CD25-T-Reg_t-test");
});

test("the header says what the values are in words", async () => {
  const { valueKindText } = await import("../../../gateway/static/explorer/format.js");
  assert.equal(valueKindText("real"), "values: already normalised, used as loaded");
  assert.match(valueKindText("counts"), /^values: raw counts, normalised/);
});
