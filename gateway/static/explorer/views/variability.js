// Variability: the seed's question — the most variable genes of a cell type (coefficient of variation over
// every cell, zeros included), filtered by mean and fraction expressing; a table and a mean-vs-CV plot.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { variabilitySpec } from "../specs.js";
import { el, cellTypeSelect, errorBox, sortableTable, downloads, slug } from "../ui.js";
import { correctWhere, describeWhere, encodeWhere } from "../where.js";

export default {
  title: "Variability",
  takesWhere: true,
  carries: ["cell_type", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters }) {
    const where = encodeWhere(filters.where);
    const cellType = params.get("cell_type") || "";
    const limit = Math.min(1000, Math.max(1, Number(params.get("limit")) || 50));
    const minMean = params.get("min_mean") ?? "";
    const minPct = params.get("min_pct") ?? "";
    const select = cellTypeSelect({ id: "var-cell-type", label: "Cell type", cellTypes, value: cellType });
    const limitInput = el("input", { id: "var-limit", name: "limit", type: "number", min: 1, max: 1000, value: limit });
    const meanInput = el("input", { id: "min-mean", name: "min_mean", type: "number", step: "any", value: minMean, placeholder: "any" });
    const pctInput = el("input", { id: "min-pct", name: "min_pct", type: "number", step: "any", min: 0, max: 100, value: minPct, placeholder: "any" });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("variability", { cell_type: select.select.value, limit: limitInput.value, min_mean: meanInput.value, min_pct: pctInput.value, where: encodeWhere(filters.value()) }); } },
        select.node,
        el("label", { class: "field" }, el("span", {}, "mean ≥"), meanInput),
        el("label", { class: "field" }, el("span", {}, "% expressing ≥"), pctInput),
        el("label", { class: "field" }, el("span", {}, "How many"), limitInput),
        filters.node,
        el("button", { type: "submit", id: "var-submit" }, "Show variable genes"),
      ),
    );
    if (!cellType) {
      container.append(el("p", { class: "hint" }, "Choose a cell type: its genes with the highest coefficient of variation are listed."));
      return;
    }
    const body = { dataset, cell_type: cellType, limit };
    if (filters.where) body.where = filters.where;
    if (minMean !== "") body.min_mean = Number(minMean);
    if (minPct !== "") body.min_pct_expressing = Number(minPct) / 100;
    let data;
    try {
      data = await api("/gene-variability", { body });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        navigate("variability", { cell_type: fixed ? cellType : suggestion, limit, min_mean: minMean, min_pct: minPct, where: fixed ? encodeWhere(fixed) : where });
      }));
      return;
    }
    const rows = data.map((r, i) => ({ rank: i + 1, ...r }));
    container.append(el("h3", {}, `${fmt.int(rows.length)} most variable genes of ${cellType}${where ? ` with ${describeWhere(filters.where)}` : ""}`));
    const chart = el("div", { class: "chart", id: "chart-variability" });
    container.append(chart);
    const view = await draw(
      "variability",
      chart,
      variabilitySpec(rows),
      { description: `Mean against coefficient of variation in ${cellType}`, onClick: (d) => d.gene && navigate("genes", { genes: [d.gene] }) },
    );
    container.append(
      el("p", { class: "muted" }, "Over every cell of the type, zeros included; standard deviation with n − 1. Click a gene for its dot plot."),
      downloads({ name: slug(dataset, cellType, "variability"), rows, columns: ["rank", "gene", "mean_expression", "stddev", "cv", "pct_expressing"], chart: view, anndata: { dataset, genes: rows.map((r) => r.gene), cellTypes: [cellType], where: filters.where } }),
      sortableTable({
        columns: [
          { key: "rank", label: "rank", numeric: true },
          { key: "gene", label: "gene", link: (r) => link("genes", { genes: [r.gene] }) },
          { key: "cv", label: "CV", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_expression", label: "mean", numeric: true, format: (v) => fmt.num(v) },
          { key: "stddev", label: "sd", numeric: true, format: (v) => fmt.num(v) },
          { key: "pct_expressing", label: "expressing", numeric: true, format: fmt.pct },
        ],
        rows,
      }),
    );
  },
};
