// The dot plot's pasted gene list with `#group` lines, and its layout for many genes and long cell-type names.

import assert from "node:assert/strict";
import { test } from "node:test";

import { formatGeneList, geneGroups, parseGeneList, resolvedGroups } from "../../../gateway/static/explorer/genelist.js";
import { cellTypeAxis, dotPlotSpec, dotRowStep, wrapLabel } from "../../../gateway/static/explorer/specs.js";

test("a pasted list: genes once each, #group lines label the genes after them", () => {
  const tokens = parseGeneList("#T cells\nCD3D, CD3E;CD3D\n#empty\n#  B cells \nMS4A1\tCD79A\n");
  assert.deepEqual(tokens, ["#T cells", "CD3D", "CD3E", "#B cells", "MS4A1", "CD79A"]);
  const { genes, groups } = geneGroups(tokens);
  assert.deepEqual(genes, ["CD3D", "CD3E", "MS4A1", "CD79A"]);
  assert.deepEqual(groups, { CD3D: "T cells", CD3E: "T cells", MS4A1: "B cells", CD79A: "B cells" });
  assert.equal(formatGeneList(tokens), "#T cells\nCD3D CD3E\n#B cells\nMS4A1 CD79A");
  assert.deepEqual(geneGroups(parseGeneList("EPCAM KRT18")), { genes: ["EPCAM", "KRT18"], groups: null });
  assert.deepEqual(resolvedGroups({ cd3d: "T" }, [{ given: "cd3d", gene: "CD3D" }]), { cd3d: "T", CD3D: "T" });
});

test("cell-type names: horizontal when they fit, else wrapped (cut with …), rotated only in narrow columns", () => {
  assert.deepEqual(wrapLabel("CD4+/CD25 T Reg", 10), ["CD4+/CD25", "T Reg"]);
  assert.deepEqual(wrapLabel("CD4+/CD25 T Reg", 6), ["CD4+/", "CD25 T", "Reg"]);
  assert.deepEqual(wrapLabel("Plasmacytoid dendritic cell of the blood", 12), ["Plasmacytoid", "dendritic", "cell of the…"]);
  assert.deepEqual(cellTypeAxis(["T", "B"], 60), { labelAngle: 0, labelLimit: 60 });
  const wrapped = cellTypeAxis(["CD4+/CD25 T Reg", "B"], 70);
  assert.equal(wrapped.labelAngle, 0);
  assert.match(wrapped.labelExpr, /^\[\["CD4\+\/CD25","T Reg"\],\["B"\]\]\[indexof\(\["CD4\+\/CD25 T Reg","B"\], datum.value\)\]$/);
  assert.equal(cellTypeAxis(["a long cell type"], 30).labelAngle, -45);
  // A name with quotes stays a string literal in the expression.
  assert.ok(cellTypeAxis(['say "hi" \\ there friend'], 40).labelExpr.includes('"say \\"hi\\" \\\\'));
});

test("dot plot layout: the width is used, many genes get small rows sorted by rank, groups are labelled blocks", () => {
  const rows = [{ gene: "A", cell_type: "t", mean: 1, pct_expressing: 0.5, scaled: 0 }];
  const wide = dotPlotSpec(rows, { genes: ["A"], cellTypes: ["t"], width: 1200 });
  assert.equal(wide.width.step, 120);
  assert.equal(dotPlotSpec(rows, { genes: ["A"], cellTypes: Array.from({ length: 30 }, (_, i) => `c${i}`), width: 1200 }).width.step, 34);
  assert.equal(dotRowStep(10), 30);
  assert.equal(dotRowStep(5000), 3);
  const genes = Array.from({ length: 300 }, (_, i) => `G${i}`);
  const many = dotPlotSpec(genes.map((g) => ({ ...rows[0], gene: g })), { genes, cellTypes: ["t"] });
  assert.deepEqual(many.encoding.y.sort, { field: "gene_rank", op: "min" });
  assert.equal(many.data.values[299].gene_rank, 299);
  const grouped = dotPlotSpec([{ ...rows[0] }, { ...rows[0], gene: "B" }], { genes: ["A", "B"], cellTypes: ["t"], groups: { A: "first", B: "second" } });
  assert.deepEqual(grouped.vconcat.map((v) => v.title.text), ["first", "second"]);
  assert.deepEqual(grouped.vconcat.map((v) => v.name), ["dots", "dots_2"]);
  assert.deepEqual(grouped.vconcat[1].data.values.map((r) => [r.gene, r.gene_group]), [["B", "second"]]);
  assert.equal(grouped.vconcat[1].encoding.x.axis, null);
});

test("a list's #group labels do not travel to other views as genes", async () => {
  const { contextOf } = await import("../../../gateway/static/explorer/context.js");
  const params = new URLSearchParams([["genes", "#T cells"], ["genes", "CD3D"], ["genes", "#B"], ["genes", "MS4A1"]]);
  assert.deepEqual(contextOf(params).genes, ["CD3D", "MS4A1"]);
});
