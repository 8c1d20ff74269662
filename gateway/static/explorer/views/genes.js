// Genes across cell types: the dot plot (size = fraction of cells expressing, colour = mean over all
// cells, zeros included) for one gene or a pasted list, from GET /dot-plot.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { dotPlotRows, dotPlotSpec } from "../specs.js";
import { el, geneInput, splitGenes, errorBox, geneReport, sortableTable, downloads, slug } from "../ui.js";

const ORDERS = { clustered: "clustered (similar profiles together)", name: "by name", size: "by number of cells" };

export default {
  title: "Genes across cell types",
  async render(container, { dataset, params, navigate, link }) {
    const genes = params.getAll("genes");
    const order = params.get("order") || "clustered";
    const colour = params.get("colour") || "mean";

    const list = el("textarea", { id: "genes-list", name: "genes", rows: 2, spellcheck: "false", placeholder: "EPCAM KRT18 CD3D …" }, genes.join(" "));
    const go = (extra = []) => navigate("genes", { genes: [...splitGenes(list.value), ...extra], order: orderSelect.value, colour: colourSelect.value });
    const add = geneInput({ id: "gene-add", label: "Find a gene", dataset, onEnter: (g) => g && go([g]) });
    const orderSelect = el("select", { id: "order", name: "order" }, Object.entries(ORDERS).map(([k, v]) => el("option", { value: k, selected: k === order }, v)));
    const colourSelect = el(
      "select",
      { id: "colour", name: "colour" },
      el("option", { value: "mean", selected: colour === "mean" }, "mean (log-normalised)"),
      el("option", { value: "scaled", selected: colour === "scaled" }, "mean scaled per gene (0–1)"),
    );
    const form = el(
      "form",
      { class: "controls", onsubmit: (e) => { e.preventDefault(); go(add.input.value.trim() ? [add.input.value.trim()] : []); } },
      add.node,
      el("label", { class: "field wide" }, el("span", {}, "Genes (paste a list)"), list),
      el("label", { class: "field" }, el("span", {}, "Cell type order"), orderSelect),
      el("label", { class: "field" }, el("span", {}, "Colour"), colourSelect),
      el("button", { type: "submit", id: "genes-submit" }, "Show dot plot"),
    );
    container.append(form);
    if (!genes.length) {
      container.append(el("p", { class: "hint" }, "Type a gene (suggestions appear as you type) and press Enter, or paste a list of genes."));
      return;
    }
    let data;
    try {
      // POST: a pasted list of thousands of genes does not fit a URL's query string.
      data = await api("/dot-plot", { body: { dataset, genes, cell_order: order } });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { value }) => {
        navigate("genes", { genes: genes.map((g) => (g === value ? suggestion : g)), order, colour });
      }));
      return;
    }
    const rows = dotPlotRows(data.rows, data.genes);
    const chart = el("div", { class: "chart", id: "chart-dotplot" });
    const replace = (suggestion, given) => navigate("genes", { genes: genes.map((g) => (g === given ? suggestion : g)), order, colour });
    container.append(geneReport(data, replace), chart);
    const view = await draw(
      "dotplot",
      chart,
      dotPlotSpec(rows, { genes: data.genes, cellTypes: data.cell_types, colour }),
      {
        description: `Dot plot of ${data.genes.join(", ")} across cell types`,
        onClick: (d) => navigate("coexpression", { gene: d.gene, cell_types: [d.cell_type] }),
      },
    );
    container.append(
      el("p", { class: "muted" }, "Click a dot for the genes co-expressed with that gene in that cell type. Mean over every cell of the type, zeros included (log-normalised values)."),
      downloads({ name: slug(dataset, "dotplot", data.genes.slice(0, 5)), rows, columns: ["gene", "cell_type", "n_cells", "n_expressing", "pct_expressing", "mean", "mean_expressing"], chart: view, anndata: { dataset, genes: data.genes } }),
      el(
        "ul",
        { class: "gene-actions" },
        data.genes.map((g) => el("li", {}, el("strong", {}, g), " — ", el("a", link("coexpression", { gene: g }), "co-expressed genes"), " · ", el("a", link("pair", { gene_a: g }), "two-gene scatter"))),
      ),
      sortableTable({
        columns: [
          { key: "gene", label: "gene" },
          { key: "cell_type", label: "cell type" },
          { key: "n_cells", label: "cells", numeric: true, format: fmt.int },
          { key: "pct_expressing", label: "expressing", numeric: true, format: fmt.pct },
          { key: "mean", label: "mean", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_expressing", label: "mean (expressing)", numeric: true, format: (v) => fmt.num(v) },
        ],
        rows,
      }),
    );
  },
};
