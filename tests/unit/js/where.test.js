// The `where` object in the URL and across datasets (gateway/static/explorer/where.js, context.js): pure
// functions, no browser.

import assert from "node:assert/strict";
import { test } from "node:test";

import { carry, contextOf, fitContext } from "../../../gateway/static/explorer/context.js";
import { cleanWhere, correctWhere, countWhere, decodeWhere, describeWhere, distinctColumns, encodeWhere, fitWhere, isRange } from "../../../gateway/static/explorer/where.js";

const COLUMNS = [
  { name: "cell_type", kind: "group", values: [{ value: "T cell", cells: 5 }, { value: "B (naive)", cells: 3 }], n_more_values: 0 },
  { name: "condition", kind: "group", values: [{ value: "drug A+B", cells: 4 }, { value: "control", cells: 4 }], n_more_values: 0 },
  { name: "donor", kind: "group", values: [{ value: "d1", cells: 6 }], n_more_values: 12 },
  { name: "pct_mito", kind: "numeric", min: 0, max: 9.5, values: null, n_more_values: null },
];

test("ranges are objects of min and/or max numbers", () => {
  assert.ok(isRange({ min: 1 }) && isRange({ max: 2 }) && isRange({ min: null, max: 2 }));
  assert.ok(!isRange({}) && !isRange([1]) && !isRange({ min: "1" }) && !isRange({ polygon: [[0, 0]] }) && !isRange(null));
});

test("clean drops what selects nothing and keeps other shapes untouched", () => {
  const polygon = { polygon: [[0, 0], [1, 0], [1, 1]] };
  assert.deepEqual(cleanWhere({ a: [], b: {}, c: { min: null, max: null }, d: ["x", "x", "y"], e: { min: 0, max: null }, umap: polygon }), {
    d: ["x", "y"],
    e: { min: 0 },
    umap: polygon,
  });
  assert.equal(cleanWhere({ a: [] }), null);
  assert.equal(cleanWhere(null), null);
  assert.equal(cleanWhere({ umap: polygon }).umap, polygon); // the very object, not a copy
});

test("the URL text round-trips exactly, names with spaces, + / and parentheses included", () => {
  const where = { condition: ["drug A+B", "ctrl/placebo (x)"], pct_mito: { min: 0.5, max: 5 }, "X_umap": { polygon: [[0.1, 2], [3, 4], [5, -6]] } };
  const text = encodeWhere(where);
  assert.deepEqual(decodeWhere(text), { where, error: null });
  assert.equal(encodeWhere(decodeWhere(text).where), text);
  const url = new URLSearchParams({ where: text });
  assert.equal(new URLSearchParams(url.toString()).get("where"), text);
  assert.equal(encodeWhere(null), "");
  assert.equal(encodeWhere({ a: [] }), "");
  assert.deepEqual(decodeWhere(""), { where: null, error: null });
  assert.deepEqual(decodeWhere(null), { where: null, error: null });
});

test("bad URL text is an error naming the parameter and the column", () => {
  assert.match(decodeWhere("{not json").error, /^where: not JSON/);
  assert.match(decodeWhere("[1]").error, /^where: must be a JSON object/);
  assert.match(decodeWhere('{"condition": "a"}').error, /^where\.condition: must be a list of values/);
  assert.match(decodeWhere('{"pct_mito": {"min": "1"}}', "a_where").error, /^a_where\.pct_mito: min and max must be numbers/);
  assert.match(decodeWhere('{"condition": [{"x": 1}]}').error, /^where\.condition: the list must hold values/);
  assert.equal(decodeWhere('{"emb": {"polygon": [[0, 0]]}}').error, null);
});

test("described in words, counted by column", () => {
  assert.equal(describeWhere({ condition: ["a", "b"], pct_mito: { max: 5 }, n: { min: 1 }, q: { min: 1, max: 2 } }), "condition: a, b · pct_mito ≤ 5 · n ≥ 1 · 1 ≤ q ≤ 2");
  assert.equal(describeWhere({ umap: { polygon: [] } }), "umap: polygon");
  assert.equal(describeWhere(null), "");
  assert.equal(countWhere({ a: ["x"], b: [], c: { max: 1 } }), 2);
});

test("fitting to another dataset keeps what exists there and says what it dropped", () => {
  const where = { condition: ["control", "gone"], donor: ["d99"], pct_mito: { max: 5 }, sex: ["f"], cell_type: { min: 1 }, umap: { polygon: [[0, 0]] } };
  const { where: kept, dropped } = fitWhere(where, COLUMNS);
  assert.deepEqual(kept, { condition: ["control"], donor: ["d99"], pct_mito: { max: 5 } }); // donor's list is capped: kept
  assert.deepEqual(dropped.sort(), ["cell_type", "condition: gone", "sex", "umap"]);
  assert.deepEqual(fitWhere({ condition: ["gone"] }, COLUMNS), { where: null, dropped: ["condition: gone"] });
  assert.deepEqual(fitWhere(null, COLUMNS), { where: null, dropped: [] });
});

test("context: genes, cell types and filters carry from one view's URL to another's", () => {
  const where = encodeWhere({ condition: ["control"] });
  const fromPair = contextOf(new URLSearchParams([["view", "pair"], ["gene_a", "EPCAM"], ["gene_b", "KRT18"], ["cell_types", "T cell"], ["cell_types", "B (naive)"], ["where", where]]));
  assert.deepEqual(fromPair, { genes: ["EPCAM", "KRT18"], cellTypes: ["T cell", "B (naive)"], where });
  assert.deepEqual(carry(fromPair, ["genes", "where"]), { genes: ["EPCAM", "KRT18"], where });
  assert.deepEqual(carry(fromPair, ["gene", "cell_types", "where"]), { gene: "EPCAM", cell_types: ["T cell", "B (naive)"], where });
  assert.deepEqual(carry(fromPair, ["cell_type"]), { cell_type: "T cell" });
  assert.deepEqual(carry(fromPair, ["a_cell_types", "a_where"]), { a_cell_types: ["T cell", "B (naive)"], a_where: where });
  const fromCompare = contextOf(new URLSearchParams([["a_cell_types", "T cell"], ["a_where", where], ["b_cell_types", "B (naive)"]]));
  assert.deepEqual(carry(fromCompare, ["cell_type", "where"]), { cell_type: "T cell", where });
  assert.deepEqual(carry(fromPair, []), {});
  const fromGenes = contextOf(new URLSearchParams([["genes", "CD3D"], ["genes", ""], ["genes", "NKG7"]]));
  assert.deepEqual(carry(fromGenes, ["gene_a", "gene_b"]), { gene_a: "CD3D", gene_b: "NKG7" });
  const fromMarkers = contextOf(new URLSearchParams({ cell_type: "T cell" }));
  assert.deepEqual(carry(fromMarkers, ["genes", "cell_types", "where"]), { cell_types: ["T cell"] });
});

test("context fitted to another dataset", () => {
  const context = { genes: ["EPCAM", "CD3D"], cellTypes: ["T cell", "Epithelial"], where: encodeWhere({ condition: ["control"], sex: ["f"] }) };
  const { context: fitted, dropped } = fitContext(context, { hasGene: (g) => g === "CD3D", cellTypes: ["T cell", "B (naive)"], columns: COLUMNS });
  assert.deepEqual(fitted, { genes: ["CD3D"], cellTypes: ["T cell"], where: encodeWhere({ condition: ["control"] }) });
  assert.deepEqual(dropped, ["EPCAM", "Epithelial", "sex"]);
  assert.deepEqual(fitContext({ genes: [], cellTypes: [], where: "{bad" }, { hasGene: () => true, cellTypes: [], columns: [] }).dropped, ["where"]);
});

test("the gateway's suggestion corrects a column or a value of the selection", () => {
  const where = { condtion: ["recurent", "naive"], pct_mito: { max: 5 } };
  assert.deepEqual(correctWhere(where, { field: "where", value: "condtion" }, "condition"), { condition: ["recurent", "naive"], pct_mito: { max: 5 } });
  assert.deepEqual(correctWhere(where, { field: "where.condtion", value: "recurent" }, "recurrent"), { condtion: ["recurrent", "naive"], pct_mito: { max: 5 } });
  assert.deepEqual(correctWhere(where, { field: "group_b.where.condtion", value: "naive" }, "treatment-naive", "group_b."), { condtion: ["recurent", "treatment-naive"], pct_mito: { max: 5 } });
  assert.equal(correctWhere(where, { field: "group_a.where.condtion", value: "naive" }, "x", "group_b."), null);
  assert.equal(correctWhere(where, { field: "gene_a", value: "EPCM" }, "EPCAM"), null);
  assert.equal(correctWhere(where, { field: "where.pct_mito", value: null }, "x"), null);
  assert.equal(correctWhere(null, { field: "where", value: "a" }, "b"), null);
});

test("a study's column repeating cell_type or sample is left out unless in use", () => {
  const values = [{ value: "T", cells: 3 }, { value: "B", cells: 2 }];
  const columns = [
    { name: "cell_type", kind: "group", values, n_more_values: 0 },
    { name: "sample", kind: "group", values: [{ value: "s1", cells: 5 }], n_more_values: 0 },
    { name: "Cluster", kind: "group", values: [...values], n_more_values: 0 },
    { name: "donor_id", kind: "group", values: [{ value: "s1", cells: 5 }], n_more_values: 0 },
    { name: "louvain", kind: "group", values: [{ value: "T", cells: 4 }, { value: "B", cells: 1 }], n_more_values: 0 },
    { name: "pct_mito", kind: "numeric", min: 0, max: 1 },
  ];
  assert.deepEqual(distinctColumns(columns).map((c) => c.name), ["cell_type", "sample", "louvain", "pct_mito"]);
  assert.deepEqual(distinctColumns(columns, ["Cluster"]).map((c) => c.name), ["cell_type", "sample", "Cluster", "louvain", "pct_mito"]);
});
