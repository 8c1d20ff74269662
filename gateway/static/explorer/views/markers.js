// Markers: a cell type against every other cell (Welch t-test, zeros included) — a volcano plot of
// log2 fold change against −log10 adjusted p over all genes, and a sortable table; a gene opens its dot plot.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { markerRows, rendererFor, volcanoSpec } from "../specs.js";
import { el, cellTypeSelect, errorBox, sortableTable, downloads } from "../ui.js";
import { chartFileName, chartTitle } from "../exports.js";
import { correctWhere, describeWhere, encodeWhere } from "../where.js";

export default {
  title: "Markers",
  takesWhere: true,
  carries: ["cell_type", "where"],
  async render(container, { dataset, info, cellTypes, params, navigate, link, filters }) {
    const where = encodeWhere(filters.where); // restricts the cell type and the rest alike
    const cellType = params.get("cell_type") || "";
    const minFold = Number(params.get("min_log2fc") ?? 1);
    const maxP = Number(params.get("max_padj") ?? 0.05);
    const select = cellTypeSelect({ id: "marker-cell-type", label: "Cell type", cellTypes, value: cellType });
    const foldInput = el("input", { id: "min-log2fc", name: "min_log2fc", type: "number", step: "0.1", min: 0, value: minFold });
    const pInput = el("input", { id: "max-padj", name: "max_padj", type: "number", step: "any", min: 0, max: 1, value: maxP });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("markers", { cell_type: select.select.value, min_log2fc: foldInput.value, max_padj: pInput.value, where: encodeWhere(filters.value()) }); } },
        select.node,
        el("label", { class: "field" }, el("span", {}, "|log2 fold change| ≥"), foldInput),
        el("label", { class: "field" }, el("span", {}, "adjusted p ≤"), pInput),
        filters.node,
        el("button", { type: "submit", id: "markers-submit" }, "Show markers"),
      ),
    );
    if (!cellType) {
      container.append(el("p", { class: "hint" }, "Choose a cell type: every gene is tested against all other cells."));
      return;
    }
    let data;
    try {
      data = await api(`/cell-types/${encodeURIComponent(cellType)}/markers`, { query: { dataset, limit: info.n_genes, where } });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        navigate("markers", { cell_type: fixed ? cellType : suggestion, min_log2fc: minFold, max_padj: maxP, where: fixed ? encodeWhere(fixed) : where });
      }));
      return;
    }
    const marked = markerRows(data.results, { maxP, minFold });
    const { rows, plotted, belowFloat } = marked;
    const nUp = rows.filter((r) => r.call === "up").length;
    container.append(el("h3", {}, `${data.cell_type}: ${fmt.int(nUp)} genes up, ${fmt.int(rows.filter((r) => r.call === "down").length)} down of ${fmt.int(rows.length)}`));
    if (data.small_group) {
      container.append(el("div", { class: "notice", role: "status", id: "small-group-warning" }, el("strong", {}, "Few cells: "), `${data.cell_type} has ${fmt.int(data.n_in)} cells against ${fmt.int(data.n_out)} (fewer than ${data.min_group_size} on one side). Its p-values rest on few cells; read them with care.`));
    }
    const chart = el("div", { class: "chart", id: "chart-volcano" });
    if (where) container.append(el("p", { class: "note" }, `Only cells with ${describeWhere(filters.where)}, in ${data.cell_type} and in the rest.`));
    container.append(el("p", {}, el("a", link("compare", { a_cell_types: [data.cell_type], a_where: where, b: "group" }), `Compare ${data.cell_type} with a group of your choice`)));
    container.append(chart);
    const view = await draw(
      "volcano",
      chart,
      volcanoSpec(marked, { cellType: data.cell_type, maxP, minFold }),
      { renderer: rendererFor(plotted.length), description: `Volcano plot of ${data.cell_type} markers`, onClick: (d) => d.gene && navigate("genes", { genes: [d.gene] }) },
    );
    container.append(
      el("p", { class: "muted" }, `Click a gene for its dot plot. Welch t-test of ${fmt.int(data.n_in)} cells against ${fmt.int(data.n_out)} other cells, Benjamini–Hochberg adjusted. The fold change is log2 of the ratio of expm1 means (scanpy's).${belowFloat ? " Triangles: adjusted p is 0 in double precision (below 1e-308), drawn at the top." : ""}${marked.clipped ? " Diamonds at the edge: the gene is not expressed on one side, so only the pseudocount decides its fold change (true value in the table)." : ""}`),
      downloads({ name: chartFileName({ view: "markers", groups: [data.cell_type, "vs-rest", "t-test"], dataset }), title: chartTitle({ view: "Markers (volcano)", groups: [data.cell_type, "rest"], dataset }), rows, columns: ["rank", "gene", "log2_fold_change", "t_statistic", "p_value", "p_value_adj", "mean_in", "mean_out", "expm1_mean_in", "expm1_mean_out", "fold_change_bound", "pct_in", "pct_out", "call"], chart: view, anndata: { dataset, genes: rows.map((r) => r.gene) } }),
      sortableTable({
        columns: [
          { key: "rank", label: "rank (t)", numeric: true },
          { key: "gene", label: "gene", link: (r) => link("genes", { genes: [r.gene] }) },
          { key: "log2_fold_change", label: "log2FC", numeric: true, format: (v, r) => (r.fold_change_bound ? `${fmt.num(v)} (pseudocount)` : fmt.num(v)) },
          { key: "p_value_adj", label: "adj. p", numeric: true, format: fmt.p },
          { key: "t_statistic", label: "t", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_in", label: "mean in", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_out", label: "mean out", numeric: true, format: (v) => fmt.num(v) },
          { key: "expm1_mean_in", label: "expm1 mean in", numeric: true, format: (v) => fmt.num(v) },
          { key: "expm1_mean_out", label: "expm1 mean out", numeric: true, format: (v) => fmt.num(v) },
          { key: "pct_in", label: "% in", numeric: true, format: fmt.pct },
          { key: "pct_out", label: "% out", numeric: true, format: fmt.pct },
        ],
        rows,
        pageSize: 50,
      }),
    );
  },
};
