// Co-expression: the genes most correlated with one gene over the chosen cell types (Pearson, zeros
// included), as a ranked chart and a table; each gene opens the two-gene view.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { coexpressionSpec } from "../specs.js";
import { el, geneInput, cellTypePicker, errorBox, sortableTable, downloads, slug, geneReport } from "../ui.js";
import { correctWhere, describeWhere, encodeWhere } from "../where.js";

export default {
  title: "Co-expression",
  takesWhere: true,
  carries: ["gene", "cell_types", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters }) {
    const whereText = encodeWhere(filters.where);
    const gene = params.get("gene") || "";
    const chosen = params.getAll("cell_types");
    const limit = Math.min(1000, Math.max(1, Number(params.get("limit")) || 25));
    const input = geneInput({ id: "coexp-gene", label: "Gene", value: gene, dataset, required: true });
    const picker = cellTypePicker({ cellTypes, chosen });
    const limitInput = el("input", { id: "coexp-limit", name: "limit", type: "number", min: 1, max: 1000, value: limit });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("coexpression", { gene: input.input.value.trim(), cell_types: picker.value(), limit: limitInput.value, where: encodeWhere(filters.value()) }); } },
        input.node,
        el("label", { class: "field" }, el("span", {}, "How many"), limitInput),
        picker.node,
        filters.node,
        el("button", { type: "submit", id: "coexp-submit" }, "Find co-expressed genes"),
      ),
    );
    if (!gene) {
      container.append(el("p", { class: "hint" }, "Choose a gene and, if you like, cell types: the genes that go up and down with it across those cells are listed, most correlated first."));
      return;
    }
    let data;
    try {
      data = await api(`/genes/${encodeURIComponent(gene)}/coexpression`, { query: { dataset, cell_types: chosen, limit, where: whereText } });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        navigate("coexpression", {
          gene: field === "gene" ? suggestion : gene,
          cell_types: fixed ? chosen : chosen.map((c) => (c === value ? suggestion : c)),
          limit,
          where: fixed ? encodeWhere(fixed) : whereText,
        });
      }));
      return;
    }
    const where = [data.cell_types.length ? data.cell_types.join(", ") : "every cell", whereText ? `with ${describeWhere(filters.where)}` : ""].filter(Boolean).join(" ");
    container.append(el("h3", {}, `Genes co-expressed with ${data.gene} in ${where} (${fmt.int(data.observation_count)} cells)`));
    if (data.note) container.append(el("p", { class: "note" }, data.note));
    container.append(geneReport(data)); // "Read as: cd74 → CD74" when the name was read as another symbol
    const rows = data.results.map((r, i) => ({ rank: i + 1, gene: r.gene, r: r.pearson_correlation, p: r.p_value, n_expressing: r.n_expressing }));
    const chart = el("div", { class: "chart", id: "chart-coexpression" });
    container.append(chart);
    const pairLink = (other) => link("pair", { gene_a: data.gene, gene_b: other, cell_types: data.cell_types, where: whereText });
    const view = await draw(
      "coexpression",
      chart,
      coexpressionSpec(rows, { gene: data.gene }),
      { description: `Genes most correlated with ${data.gene}`, onClick: (d) => navigate("pair", { gene_a: data.gene, gene_b: d.gene, cell_types: data.cell_types, where: whereText }) },
    );
    container.append(
      el("p", { class: "muted" }, "Click a bar or a gene to see the two genes cell by cell."),
      downloads({ name: slug(dataset, data.gene, "coexpression"), rows, columns: ["rank", "gene", "r", "p", "n_expressing"], chart: view, anndata: { dataset, genes: [data.gene, ...rows.map((r) => r.gene)], cellTypes: data.cell_types, where: filters.where } }),
      sortableTable({
        columns: [
          { key: "rank", label: "rank", numeric: true },
          { key: "gene", label: "gene", link: (r) => pairLink(r.gene) },
          { key: "r", label: "r", numeric: true, format: (v) => v.toFixed(4) },
          { key: "p", label: "p", numeric: true, format: fmt.p },
          { key: "n_expressing", label: "cells expressing", numeric: true, format: fmt.int },
        ],
        rows,
      }),
    );
  },
};
