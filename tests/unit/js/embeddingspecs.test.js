// The Embedding view's specs and selection helpers without a browser (gateway/static/explorer/embeddingspecs.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_VERTICES,
  ZERO_GREY,
  boxPolygon,
  describeBox,
  embeddingBinsSpec,
  embeddingPointsSpec,
  formatPolygon,
  formatRegion,
  lassoPolygon,
  parsePolygon,
  parseRegion,
  regionWhere,
} from "../../../gateway/static/explorer/embeddingspecs.js";
import { OKABE_ITO } from "../../../gateway/static/explorer/specs.js";

const points = Object.freeze({
  barcode: ["A", "B", "C", "D"],
  cell_type: ["T", "B", "T", "NK"],
  x: [0, 1, 2, 3],
  y: [4, 5, 6, 7],
  value: [2.5, 0, 0.5, 0],
  label: null,
});

test("points by a gene: every cell once, zeros grey and drawn first, high values last", () => {
  const { spec, rows, renderer } = embeddingPointsSpec(points, { embedding: "umap", kind: "gene", name: "CD3D" });
  assert.equal(spec.name, "cells");
  assert.equal(renderer, "svg");
  assert.deepEqual(spec.data.values.map((v) => v.barcode), ["B", "D", "C", "A"]);
  assert.deepEqual(spec.encoding.color.condition, { test: "datum.value === 0", value: ZERO_GREY });
  assert.equal(spec.encoding.color.field, "value");
  assert.equal(spec.encoding.x.title, "umap 1");
  assert.equal(spec.params[0].select.type, "interval");
  assert.equal(rows.length, 4);
  assert.deepEqual(rows.find((r) => r.barcode === "A"), { barcode: "A", cell_type: "T", x: 0, y: 4, CD3D: 2.5 });
});

test("points by a group column: nominal colours from Okabe–Ito while they suffice", () => {
  const labelled = { ...points, value: null, label: ["g1", "g2", "g1", ""] };
  const { spec, rows } = embeddingPointsSpec(labelled, { embedding: "tsne", kind: "group", name: "phase" });
  assert.equal(spec.encoding.color.field, "label");
  assert.deepEqual(spec.encoding.color.scale, { range: OKABE_ITO });
  assert.deepEqual(spec.data.values.map((v) => v.barcode), ["A", "B", "C", "D"]); // order kept
  assert.equal(rows[1].phase, "g2");
  const many = { ...labelled, barcode: [...Array(9).keys()].map(String), cell_type: Array(9).fill("T"), x: Array(9).fill(0), y: Array(9).fill(0), label: [...Array(9).keys()].map((i) => `v${i}`) };
  assert.equal(embeddingPointsSpec(many, { embedding: "tsne", kind: "group", name: "phase" }).spec.encoding.color.scale.scheme, "tableau20");
});

test("points without a colour are coloured by cell type; numeric columns grey where missing", () => {
  const none = embeddingPointsSpec({ ...points, value: null }, { embedding: "umap", kind: "none" });
  assert.equal(none.spec.encoding.color.field, "cell_type");
  const numeric = embeddingPointsSpec({ ...points, value: [1, null, 3, 2] }, { embedding: "umap", kind: "numeric", name: "n_counts" });
  assert.deepEqual(numeric.spec.encoding.color.condition, { test: "datum.value === null", value: ZERO_GREY });
  assert.equal(numeric.spec.data.values[0].barcode, "B");
});

test("bins: one rectangle per bin between its edges, grey where no cell expresses the gene", () => {
  const bins = {
    x_edges: [0, 1, 2],
    y_edges: [10, 20, 30],
    x_bin: [0, 1],
    y_bin: [1, 0],
    n_cells: [5, 7],
    mean: [0.5, 0],
    n_expressing: [2, 0],
    top_value: null,
    top_count: null,
  };
  const { spec, rows } = embeddingBinsSpec(bins, { embedding: "umap", kind: "gene", name: "CD3D" });
  assert.equal(spec.name, "bins");
  assert.deepEqual(spec.data.values[0], { x: 0, x_end: 1, y: 20, y_end: 30, n_cells: 5, mean: 0.5, n_expressing: 2, top_value: null, top_count: null });
  assert.deepEqual(spec.encoding.color.condition, { test: "datum.n_expressing === 0", value: ZERO_GREY });
  assert.equal(spec.encoding.x2.field, "x_end");
  assert.deepEqual(rows[1], { x_from: 1, x_to: 2, y_from: 10, y_to: 20, n_cells: 7, CD3D_mean: 0, CD3D_detected: 0 });
  const plain = embeddingBinsSpec({ ...bins, mean: null, n_expressing: null }, { embedding: "umap", kind: "none" });
  assert.equal(plain.spec.encoding.color.field, "n_cells");
});

test("a box becomes the API's polygon term, whichever way it was drawn", () => {
  assert.deepEqual(boxPolygon({ x: [3, 1], y: [2, 5] }), [[1, 2], [3, 2], [3, 5], [1, 5]]);
  assert.equal(boxPolygon({ x: [1, 1], y: [2, 5] }), null);
  assert.equal(boxPolygon({ x: [1, NaN], y: [2, 5] }), null);
  assert.equal(boxPolygon(null), null);
  assert.deepEqual(regionWhere({ phase: ["G1"] }, "umap", [[0, 0], [1, 0], [1, 1]]), { phase: ["G1"], umap: { polygon: [[0, 0], [1, 0], [1, 1]] } });
  assert.deepEqual(regionWhere(null, "umap", [[0, 0]]), { umap: { polygon: [[0, 0]] } });
});

test("the URL's region round-trips at full precision and refuses anything but four numbers", () => {
  const box = { x: [0.1 + 0.2, -1.5], y: [2, 3] };
  assert.equal(formatRegion(box), "-1.5,0.30000000000000004,2,3");
  assert.deepEqual(parseRegion(formatRegion(box)), { x: [-1.5, 0.30000000000000004], y: [2, 3] });
  assert.equal(parseRegion("1,2,3"), null);
  assert.equal(parseRegion("1,2,x,4"), null);
  assert.equal(parseRegion("1,,3,4"), null);
  assert.equal(parseRegion(""), null);
  assert.equal(describeBox(box, "umap"), "umap 1 ∈ [-1.5, 0.3], umap 2 ∈ [2, 3]");
});

test("a lasso in pixels becomes a polygon in data coordinates, thinned and refused when degenerate", () => {
  const invertX = (px) => px / 10;
  const invertY = (py) => 100 - py;
  const traced = [[0, 0], [0, 0.2], [10, 0], [10, 10], [0, 10]];
  assert.deepEqual(lassoPolygon(traced, invertX, invertY), [[0, 100], [1, 100], [1, 90], [0, 90]]);
  assert.equal(lassoPolygon([[0, 0], [5, 5]], invertX, invertY), null);
  assert.equal(lassoPolygon([[0, 0], [5, 5], [9, 0]], () => NaN, invertY), null);
  const long = Array.from({ length: 2000 }, (_, i) => [Math.cos(i / 318) * 100 + 200, Math.sin(i / 318) * 100 + 200]);
  const thinned = lassoPolygon(long, invertX, invertY);
  assert.ok(thinned.length <= MAX_VERTICES && thinned.length >= MAX_VERTICES / 2);
});

test("the URL's lasso round-trips and refuses anything but three or more pairs", () => {
  const polygon = [[0.1 + 0.2, -1], [2, 3.5], [-4e-7, 1e10]];
  assert.deepEqual(parsePolygon(formatPolygon(polygon)), polygon);
  assert.equal(parsePolygon("1 2,3 4"), null);
  assert.equal(parsePolygon("1 2,3 x,5 6"), null);
  assert.equal(parsePolygon("1 2 3,3 4,5 6"), null);
  assert.equal(parsePolygon(""), null);
});
