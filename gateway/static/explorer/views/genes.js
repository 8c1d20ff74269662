// Genes across cell types: the dot plot (size = fraction of cells expressing, colour = mean over all
// cells, zeros included) for one gene or a pasted list, from POST /dot-plot.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { dotPlotRows, dotPlotSpec, rendererFor } from "../specs.js";
import { formatGeneList, geneGroups, parseGeneList, resolvedGroups } from "../genelist.js";
import { compareDotPlotSpec, compareDotRows } from "../comparespecs.js";
import { el, geneInput, errorBox, geneReport, sortableTable, downloads } from "../ui.js";
import { chartFileName, chartTitle } from "../exports.js";
import { correctWhere, describeWhere, distinctColumns, encodeWhere } from "../where.js";

const ACTION_GENES = 40;
const ORDERS = { clustered: "clustered (similar profiles together)", name: "by name", size: "by number of cells" };

export default {
  title: "Genes across cell types",
  takesWhere: true,
  carries: ["genes", "where"],
  async render(container, { dataset, params, navigate, link, filters, metadata }) {
    // `genes` holds the pasted list's tokens: genes, and "#label" for its `#group` lines.
    const tokens = params.getAll("genes");
    const { genes, groups } = geneGroups(tokens);
    const order = params.get("order") || "clustered";
    const colour = params.get("colour") || "mean";
    const compareBy = params.get("compare_by") || "";
    const groupColumns = distinctColumns(await metadata(), [compareBy]).filter((c) => c.kind === "group" && c.name !== "cell_type");
    const where = encodeWhere(filters.where);

    const list = el("textarea", { id: "genes-list", name: "genes", rows: 2, spellcheck: "false", placeholder: "EPCAM KRT18 CD3D …  (#group lines label the genes below them)" }, formatGeneList(tokens));
    const go = (extra = []) => navigate("genes", { genes: [...parseGeneList(list.value), ...extra], order: orderSelect.value, colour: colourSelect.value, compare_by: compareSelect.value, where: encodeWhere(filters.value()) });
    const add = geneInput({ id: "gene-add", label: "Find a gene", dataset, onEnter: (g) => g && go([g]) });
    const orderSelect = el("select", { id: "order", name: "order" }, Object.entries(ORDERS).map(([k, v]) => el("option", { value: k, selected: k === order }, v)));
    const colourSelect = el(
      "select",
      { id: "colour", name: "colour" },
      el("option", { value: "mean", selected: colour === "mean" }, "mean (log-normalised)"),
      el("option", { value: "scaled", selected: colour === "scaled" }, "mean scaled per gene (0–1)"),
    );
    const compareSelect = el(
      "select",
      { id: "compare-by", name: "compare_by" },
      el("option", { value: "", selected: !compareBy }, "nothing (one row per gene)"),
      groupColumns.map((c) => el("option", { value: c.name, selected: c.name === compareBy }, c.name)),
      compareBy && !groupColumns.some((c) => c.name === compareBy) ? el("option", { value: compareBy, selected: true }, compareBy) : null,
    );
    const form = el(
      "form",
      { class: "controls", onsubmit: (e) => { e.preventDefault(); go(add.input.value.trim() ? [add.input.value.trim()] : []); } },
      add.node,
      el("label", { class: "field wide" }, el("span", {}, "Genes (paste a list)"), list),
      el("label", { class: "field" }, el("span", {}, "Cell type order"), orderSelect),
      el("label", { class: "field" }, el("span", {}, "Colour"), colourSelect),
      el("label", { class: "field" }, el("span", {}, "Compare by"), compareSelect),
      filters.node,
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
      data = await api("/dot-plot", { body: { dataset, genes, cell_order: order, where: where || undefined, compare_by: compareBy || undefined } });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        if (fixed) return navigate("genes", { genes: tokens, order, colour, compare_by: compareBy, where: encodeWhere(fixed) });
        if (field === "compare_by") return navigate("genes", { genes: tokens, order, colour, compare_by: suggestion, where });
        navigate("genes", { genes: tokens.map((g) => (g === value ? suggestion : g)), order, colour, compare_by: compareBy, where });
      }));
      return;
    }
    const compared = data.compare_by
      ? compareDotRows(dotPlotRows(data.rows, data.genes), { cellTypes: data.cell_types, values: (groupColumns.find((c) => c.name === data.compare_by)?.values || []).map((v) => v.value) })
      : null;
    const rows = compared ? compared.rows : dotPlotRows(data.rows, data.genes);
    if (where) container.append(el("p", { class: "note", id: "where-note" }, `Only cells with ${describeWhere(filters.where)}.`));
    // Many genes scroll inside the plot's box, the cell-type axis on top.
    const chart = el("div", { class: data.genes.length > 40 ? "chart dotplot-scroll" : "chart", id: "chart-dotplot" });
    const replace = (suggestion, given) => navigate("genes", { genes: tokens.map((g) => (g === given ? suggestion : g)), order, colour, compare_by: compareBy, where });
    const byGene = resolvedGroups(groups, data.resolved || []);
    container.append(geneReport(data, replace), chart);
    const view = await draw(
      "dotplot",
      chart,
      compared
        ? compareDotPlotSpec(rows, { genes: data.genes, order: compared.order, compareBy: data.compare_by, colour })
        : dotPlotSpec(rows, { genes: data.genes, cellTypes: data.cell_types, colour, width: container.clientWidth || 900, groups: byGene }),
      {
        renderer: rendererFor(rows.length),
        description: `Dot plot of ${data.genes.join(", ")} across cell types${compared ? ` compared by ${data.compare_by}` : ""}`,
        onClick: (d) => navigate("coexpression", { gene: d.gene, cell_types: [d.cell_type], where }),
      },
    );
    // The table and CSV name each gene's group (from the list's #group lines) and the full cell-type names.
    const listed = byGene && !compared ? rows.map((r) => ({ ...r, gene_group: byGene[r.gene] || "" })) : rows;
    const grouped = listed !== rows;
    container.append(
      el("p", { class: "muted" }, "Click a dot for the genes co-expressed with that gene in that cell type. Mean over every cell of the type, zeros included (log-normalised values)."),
      downloads({ name: chartFileName({ view: "dot-plot", genes: data.genes, groups: compared ? ["by", data.compare_by] : [], dataset }), title: chartTitle({ view: "Dot plot", genes: data.genes, groups: compared ? [`compared by ${data.compare_by}`] : [], dataset }), rows: listed, columns: ["gene", ...(grouped ? ["gene_group"] : []), "cell_type", ...(compared ? ["compare_value"] : []), "n_cells", "n_expressing", "pct_expressing", "mean", "mean_expressing"], chart: view, anndata: { dataset, genes: data.genes, where: filters.where } }),
      el(
        "ul",
        { class: "gene-actions" },
        // The first genes' links (each link reads the page's URL, which a long list makes long).
        data.genes.slice(0, ACTION_GENES).map((g) => el("li", {}, el("strong", {}, g), " — ", el("a", link("coexpression", { gene: g }), "co-expressed genes"), " · ", el("a", link("pair", { gene_a: g }), "two-gene scatter"), " · ", el("a", link("distribution", { gene: g, where }), "distribution"))),
        data.genes.length > ACTION_GENES ? el("li", { class: "muted" }, `… and ${fmt.int(data.genes.length - ACTION_GENES)} more genes (click a dot for any of them)`) : null,
      ),
      sortableTable({
        columns: [
          { key: "gene", label: "gene" },
          ...(grouped ? [{ key: "gene_group", label: "group" }] : []),
          { key: "cell_type", label: "cell type" },
          ...(compared ? [{ key: "compare_value", label: data.compare_by }] : []),
          { key: "n_cells", label: "cells", numeric: true, format: fmt.int },
          { key: "pct_expressing", label: "expressing", numeric: true, format: fmt.pct },
          { key: "mean", label: "mean", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_expressing", label: "mean (expressing)", numeric: true, format: (v) => fmt.num(v) },
        ],
        rows: listed,
      }),
    );
  },
};
