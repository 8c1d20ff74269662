// Two genes: every cell of the chosen cell types as a point (or, when cells are many, as a 2-D histogram
// whose bin 0 holds exactly the zeros), with r, p and n from /gene-correlation and a per-group forest plot.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { densitySpec, forestSpec, scatterSpec } from "../specs.js";
import { forestRows, twoGroupParams } from "../comparespecs.js";
import { el, geneInput, cellsControls, errorBox, sortableTable, downloads, slug, geneReport } from "../ui.js";
import { correctWhere, describeWhere, distinctColumns, encodeWhere } from "../where.js";

const MAX_POINTS = 5000; // more cells than this are drawn as a 2-D histogram

export default {
  title: "Two genes",
  takesWhere: true,
  carries: ["gene_a", "gene_b", "cell_types", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters, metadata }) {
    const geneA = params.get("gene_a") || "";
    const geneB = params.get("gene_b") || "";
    const chosen = params.getAll("cell_types");
    const method = params.get("method") === "spearman" ? "spearman" : "pearson";
    // Any group column of the study's metadata (compare-by): one r per value, a forest of them.
    const by = params.get("by") || "cell_type";
    const groupColumns = distinctColumns(await metadata(), [by]).filter((c) => c.kind === "group").map((c) => c.name);
    const where = encodeWhere(filters.where);

    const a = geneInput({ id: "gene-a", label: "Gene A (x)", value: geneA, dataset, required: true });
    const b = geneInput({ id: "gene-b", label: "Gene B (y)", value: geneB, dataset, required: true });
    const methodField = el(
      "fieldset",
      { class: "inline" },
      el("legend", {}, "Correlation"),
      ["pearson", "spearman"].map((m) => el("label", {}, el("input", { type: "radio", name: "method", id: `method-${m}`, value: m, checked: m === method }), ` ${m[0].toUpperCase()}${m.slice(1)} `)),
    );
    const bySelect = el(
      "select",
      { id: "by", name: "by" },
      [["cell_type", "per cell type"], ["sample", "per sample"], ...groupColumns.filter((c) => c !== "cell_type" && c !== "sample").map((c) => [c, `per ${c}`]), ["none", "none"]]
        .concat(["cell_type", "sample", "none", ...groupColumns].includes(by) ? [] : [[by, `per ${by}`]])
        .map(([k, v]) => el("option", { value: k, selected: k === by }, v)),
    );
    const cellChoice = cellsControls({ id: "display", requested: params.get("display"), binned: ["density", "density (2-D histogram)"], maxPoints: MAX_POINTS, cellTypes, chosen, filters });
    const display = cellChoice.display;
    const values = (overrides = {}) => {
      const { cell_types: chosenTypes, ...drawn } = cellChoice.value(); // the URL keeps its order of parameters
      return {
        gene_a: a.input.value.trim(),
        gene_b: b.input.value.trim(),
        cell_types: chosenTypes,
        method: methodField.querySelector("input:checked").value,
        by: bySelect.value,
        ...drawn,
        ...overrides,
      };
    };
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("pair", values()); } },
        a.node, b.node, methodField,
        el("label", { class: "field" }, el("span", {}, "Breakdown (compare by)"), bySelect),
        ...cellChoice.nodes,
        el("button", { type: "submit", id: "pair-submit" }, "Show scatter"),
      ),
    );
    if (!geneA || !geneB) {
      container.append(el("p", { class: "hint" }, "Choose two genes (suggestions appear as you type) and, if you like, some cell types; no cell type means every cell."));
      return;
    }
    const request = { dataset, gene_a: geneA, gene_b: geneB, cell_types: chosen, ...(filters.where ? { where: filters.where } : {}) };
    let pair;
    let corr;
    try {
      [pair, corr] = await Promise.all([
        api("/gene-pair", { body: { ...request, max_points: display === "density" ? 0 : MAX_POINTS } }),
        api("/gene-correlation", { body: { ...request, method, by: by === "none" ? null : by } }),
      ]);
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        if (fixed) return navigate("pair", values({ where: encodeWhere(fixed) }));
        if (field === "by") return navigate("pair", values({ by: suggestion }));
        if (field === "cell_types") return navigate("pair", values({ cell_types: chosen.map((c) => (c === value ? suggestion : c)) }));
        navigate("pair", values({ [field === "gene_b" ? "gene_b" : "gene_a"]: suggestion }));
      }));
      return;
    }
    const ga = pair.gene_a;
    const gb = pair.gene_b;
    const cells = [pair.cell_types.length ? pair.cell_types.join(", ") : "every cell", where ? `with ${describeWhere(filters.where)}` : ""].filter(Boolean).join(" ");
    const stats = el(
      "dl",
      { class: "stats", id: "pair-stats" },
      el("dt", {}, method === "spearman" ? "Spearman ρ" : "Pearson r"), el("dd", { id: "stat-r" }, corr.correlation === null ? "undefined" : corr.correlation.toFixed(4)),
      el("dt", {}, "p"), el("dd", { id: "stat-p" }, fmt.p(corr.p_value)),
      el("dt", {}, "n (cells)"), el("dd", { id: "stat-n" }, fmt.int(corr.observation_count)),
      el("dt", {}, `${ga} detected`), el("dd", {}, fmt.int(corr.n_expressing_a)),
      el("dt", {}, `${pair.gene_b} detected`), el("dd", {}, fmt.int(corr.n_expressing_b)),
      el("dt", {}, "both"), el("dd", {}, fmt.int(corr.n_expressing_both)),
      el("dt", {}, "neither"), el("dd", { id: "stat-zero" }, fmt.int(pair.n_zero_both)),
    );
    container.append(el("h3", {}, `${ga} vs ${pair.gene_b} in ${cells}`), stats);
    if (corr.note) container.append(el("p", { class: "note" }, corr.note));
    container.append(geneReport(corr)); // the names read as another symbol (case, gene id)
    const { spec, rows, renderer } = pair.mode === "points" ? scatterSpec(pair.points, { a: ga, b: gb }) : densitySpec(pair.bins, { a: ga, b: gb });
    const chart = el("div", { class: "chart", id: "chart-pair" });
    container.append(
      chart,
      el("p", { class: "muted" }, pair.mode === "points"
        ? `Every cell is a point (${fmt.int(pair.observation_count)}); ${fmt.int(pair.n_zero_both)} cells where neither gene is detected sit at (0, 0).`
        : `${fmt.int(pair.observation_count)} cells in a 2-D histogram; the bins on the axes (0) hold the cells where a gene is not detected.`),
    );
    const view = await draw("pair", chart, spec, { renderer, description: `Scatter of ${ga} and ${gb}` });
    const anndata = { dataset, genes: [ga, pair.gene_b], cellTypes: pair.cell_types, where: filters.where };
    container.append(downloads({ name: slug(dataset, ga, gb), rows, columns: Object.keys(rows[0] || {}), chart: view, anndata }));

    if (corr.groups) {
      const groups = forestRows(corr.groups, method);
      const byLabel = by === "cell_type" ? "cell type" : by;
      const forest = el("div", { class: "chart", id: "chart-forest" });
      container.append(el("h3", {}, `Per ${byLabel}`), forest);
      if (corr.difference) {
        const d = corr.difference;
        container.append(
          el(
            "p",
            { class: "note", id: "pair-difference" },
            `Do the correlations of ${d.groups.join(" and ")} differ? Fisher's z test of two independent correlations: z = `,
            el("strong", { id: "difference-z" }, d.z === null ? "undefined" : d.z.toFixed(4)),
            ", p = ",
            el("strong", { id: "difference-p" }, fmt.p(d.p_value)),
            ` (two-sided${method === "spearman" ? "; on Spearman's ρ" : ""}). `,
            el("a", { id: "compare-groups-link", ...link("compare", twoGroupParams({ cellTypes: chosen, where: filters.where, by, groups: d.groups })) }, `Compare ${d.groups[0]} with ${d.groups[1]}, every gene`),
          ),
        );
      }
      const forestView = await draw("forest", forest, forestSpec(groups, { overall: corr.correlation, by }), { description: `Correlation per ${byLabel} with 95 % intervals` });
      container.append(
        el("p", { class: "muted" }, "Intervals: Fisher's z (Spearman: Fieller's variance), for reading only; r, p and n are the API's exact values."),
        downloads({ name: slug(dataset, ga, pair.gene_b, "by", by), rows: groups, columns: ["group", "r", "p", "n", "n_expressing_both", "ci_low", "ci_high", "note"], chart: forestView }),
        sortableTable({
          columns: [
            { key: "group", label: byLabel },
            { key: "r", label: method === "spearman" ? "ρ" : "r", numeric: true, format: (v) => (v === null ? "undefined" : v.toFixed(4)) },
            { key: "p", label: "p", numeric: true, format: fmt.p },
            { key: "n", label: "cells", numeric: true, format: fmt.int },
            { key: "n_expressing_both", label: "both detected", numeric: true, format: fmt.int },
          ],
          rows: groups,
        }),
      );
    }
  },
};
