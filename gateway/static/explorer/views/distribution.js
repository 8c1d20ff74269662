// Distribution: one gene's per-cell values across cell types (GET /genes/{gene}/distribution) as violins of the
// cells where it is detected, with the cells where it is not (value exactly 0) counted apart; reached from the
// dot plot in one click.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { distributionRows, distributionSpec } from "../distspecs.js";
import { el, geneInput, cellTypePicker, errorBox, sortableTable, downloads, slug } from "../ui.js";
import { describeWhere, encodeWhere } from "../where.js";

export default {
  title: "Distribution",
  takesWhere: true,
  carries: ["gene", "cell_types", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters }) {
    const gene = params.get("gene") || "";
    const chosen = params.getAll("cell_types");
    const bins = Math.min(200, Math.max(4, Number(params.get("bins")) || 40));
    const where = encodeWhere(filters.where);
    const input = geneInput({ id: "dist-gene", label: "Gene", value: gene, dataset, required: true });
    const picker = cellTypePicker({ cellTypes, chosen });
    const binsInput = el("input", { id: "dist-bins", name: "bins", type: "number", min: 4, max: 200, value: bins });
    const values = () => ({ gene: input.input.value.trim(), cell_types: picker.value(), bins: binsInput.value, where: encodeWhere(filters.value()) });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("distribution", values()); } },
        input.node,
        el("label", { class: "field" }, el("span", {}, "Bins"), binsInput),
        picker.node,
        filters.node,
        el("button", { type: "submit", id: "dist-submit" }, "Show distribution"),
      ),
    );
    if (!gene) {
      container.append(el("p", { class: "hint" }, "Choose a gene: its per-cell values in each cell type are drawn, the cells where it is not detected counted apart."));
      return;
    }
    let data;
    try {
      data = await api(`/genes/${encodeURIComponent(gene)}/distribution`, { query: { dataset, cell_types: chosen, bins, where } });
    } catch (error) {
      container.append(errorBox(error, (suggestion) => navigate("distribution", { gene: suggestion, cell_types: chosen, bins, where })));
      return;
    }
    const cells = data.cell_types.length ? data.cell_types.join(", ") : "every cell type";
    container.append(el("h3", {}, `${data.gene} in ${cells}`));
    if (where) container.append(el("p", { class: "note", id: "where-note" }, `Only cells with ${describeWhere(filters.where)}.`));
    const chart = el("div", { class: "chart", id: "chart-distribution" });
    container.append(chart);
    const { spec } = distributionSpec(data, { gene: data.gene });
    const view = await draw("distribution", chart, spec, { description: `Distribution of ${data.gene} per cell type` });
    const groups = data.groups.map((g) => ({ ...g, pct_expressing: g.n_cells ? g.n_expressing / g.n_cells : 0 }));
    container.append(
      el("p", { class: "muted" }, "Left: the share of each cell type's cells where the gene is not detected (value exactly 0). Right: the log-normalised values of the cells where it is, binned in the database on edges shared by every cell type (width ∝ share of the type's expressing cells in the bin, each type's widest bin spanning its row; white line: their mean)."),
      el("p", {}, el("a", link("genes", { genes: [data.gene], where }), `Dot plot of ${data.gene}`)),
      downloads({ name: slug(dataset, data.gene, "distribution"), rows: distributionRows(data), columns: ["cell_type", "bin", "low", "high", "n_cells_in_bin", "fraction_of_cells"], chart: view, anndata: { dataset, genes: [data.gene], cellTypes: data.cell_types, where: filters.where } }),
      sortableTable({
        id: "distribution-table",
        columns: [
          { key: "cell_type", label: "cell type" },
          { key: "n_cells", label: "cells", numeric: true, format: fmt.int },
          { key: "n_zero", label: "not detected (0)", numeric: true, format: fmt.int },
          { key: "pct_expressing", label: "expressing", numeric: true, format: fmt.pct },
          { key: "mean", label: "mean (all cells)", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_expressing", label: "mean (expressing)", numeric: true, format: (v) => fmt.num(v) },
        ],
        rows: groups,
      }),
    );
  },
};
