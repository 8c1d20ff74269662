// Compare two groups: group A (cell types and/or a metadata filter) against group B (the same) or every
// other cell, every gene, by POST /differential-expression (tie-corrected Wilcoxon by default, or Welch's t):
// a volcano (specs.js's) and a sortable table; a gene opens its dot plot.

import { api, download, isAbort } from "../api.js";
import { draw } from "../charts.js";
import { differentialRows, groupLabel } from "../comparespecs.js";
import { fmt } from "../format.js";
import { groupPicker } from "../groups.js";
import { rendererFor, volcanoSpec } from "../specs.js";
import { el, errorBox, sortableTable, downloads, slug } from "../ui.js";
import { correctWhere, decodeWhere, describeWhere, encodeWhere } from "../where.js";

const METHODS = { wilcoxon: "Wilcoxon rank-sum (tie-corrected)", "t-test": "Welch's t-test" };

export default {
  title: "Compare two groups",
  carries: ["a_cell_types", "a_where"],
  async render(container, { dataset, info, cellTypes, params, navigate, link, metadata }) {
    const aTypes = params.getAll("a_cell_types");
    const bTypes = params.getAll("b_cell_types");
    const b = params.get("b") === "group" ? "group" : "rest";
    const method = params.get("method") === "t-test" ? "t-test" : "wilcoxon";
    const minFold = Number(params.get("min_log2fc") ?? 1);
    const maxP = Number(params.get("max_padj") ?? 0.05);
    const aWhere = decodeWhere(params.get("a_where"), "a_where");
    const bWhere = decodeWhere(params.get("b_where"), "b_where");
    if (aWhere.error || bWhere.error) {
      container.append(el("div", { class: "error", role: "alert" }, aWhere.error || bWhere.error));
      return;
    }
    const columns = await metadata();
    const groupA = groupPicker({ side: "a", legend: "Group A", cellTypes, chosen: aTypes, where: aWhere.where, columns });
    const groupB = groupPicker({ side: "b", legend: "Group B", cellTypes, chosen: bTypes, where: bWhere.where, columns });
    const bChoice = el(
      "fieldset",
      { class: "inline" },
      el("legend", {}, "Against"),
      [["rest", "every other cell (A vs rest)"], ["group", "group B"]].map(([k, v]) =>
        el("label", {}, el("input", { type: "radio", name: "b", id: `b-${k}`, value: k, checked: k === b, onchange: () => { groupB.node.hidden = k === "rest"; } }), ` ${v} `),
      ),
    );
    groupB.node.hidden = b === "rest";
    const methodSelect = el("select", { id: "de-method", name: "method" }, Object.entries(METHODS).map(([k, v]) => el("option", { value: k, selected: k === method }, v)));
    const foldInput = el("input", { id: "de-min-log2fc", name: "min_log2fc", type: "number", step: "0.1", min: 0, value: minFold });
    const pInput = el("input", { id: "de-max-padj", name: "max_padj", type: "number", step: "any", min: 0, max: 1, value: maxP });
    const values = () => {
      const a = groupA.value();
      const other = groupB.value();
      const against = /** @type {HTMLInputElement} */ (bChoice.querySelector("input:checked")).value;
      return {
        a_cell_types: a.cell_types,
        a_where: encodeWhere(a.where),
        b: against,
        b_cell_types: against === "group" ? other.cell_types : [],
        b_where: against === "group" ? encodeWhere(other.where) : "",
        method: methodSelect.value,
        min_log2fc: foldInput.value,
        max_padj: pInput.value,
      };
    };
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("compare", values()); } },
        groupA.node,
        bChoice,
        groupB.node,
        el("label", { class: "field" }, el("span", {}, "Test"), methodSelect),
        el("label", { class: "field" }, el("span", {}, "|log2 fold change| ≥"), foldInput),
        el("label", { class: "field" }, el("span", {}, "adjusted p ≤"), pInput),
        el("button", { type: "submit", id: "compare-submit" }, "Compare"),
      ),
    );
    // Computed once asked (the button always says against what: b); a group carried over from another view
    // only fills the form.
    if (!params.has("b")) {
      container.append(el("p", { class: "hint" }, "Pick group A — cell types, metadata values, or both — and compare it with every other cell or with a group B. Every gene is tested over every cell of both groups, zeros included."));
      return;
    }
    if (b === "group" && !bTypes.length && !bWhere.where) {
      container.append(el("p", { class: "hint", id: "compare-hint" }, "Pick group B: cell types, metadata values, or both (or compare with every other cell)."));
      return;
    }
    const side = (types, where) => ({ cell_types: types, ...(where ? { where } : {}) });
    const body = {
      dataset,
      group_a: side(aTypes, aWhere.where),
      ...(b === "group" ? { group_b: side(bTypes, bWhere.where) } : {}),
      method,
      limit: Math.min(100_000, info.n_genes),
    };
    let data;
    try {
      data = await api("/differential-expression", { body });
    } catch (error) {
      const current = Object.fromEntries([...params.keys()].filter((k) => k !== "view" && k !== "dataset").map((k) => [k, params.getAll(k)]));
      container.append(errorBox(error, (suggestion, { field, value }) => {
        const fixA = correctWhere(aWhere.where, { field, value }, suggestion, "group_a.");
        const fixB = correctWhere(bWhere.where, { field, value }, suggestion, "group_b.");
        if (fixA) return navigate("compare", { ...current, a_where: encodeWhere(fixA) });
        if (fixB) return navigate("compare", { ...current, b_where: encodeWhere(fixB) });
        const side = field === "group_b.cell_types" ? "b_cell_types" : "a_cell_types";
        navigate("compare", { ...current, [side]: (current[side] || []).map((c) => (c === value ? suggestion : c)) });
      }));
      return;
    }
    const labelA = groupLabel({ cellTypes: aTypes, where: describeWhere(aWhere.where) });
    const labelB = b === "rest" ? "the rest" : groupLabel({ cellTypes: bTypes, where: describeWhere(bWhere.where) });
    const marked = differentialRows(data.results, { maxP, minFold });
    const { rows, plotted, belowFloat } = marked;
    const count = (call) => rows.filter((r) => r.call === call).length;
    container.append(
      el("h3", { id: "compare-heading" }, `A: ${labelA} (${fmt.int(data.n_a)} cells) vs B: ${labelB} (${fmt.int(data.n_b)} cells)`),
      el("p", { id: "compare-summary" }, `${fmt.int(count("up"))} genes up in A, ${fmt.int(count("down"))} down, of ${fmt.int(rows.length)} tested (${METHODS[data.method]}).`),
    );
    if (data.small_group) {
      container.append(el("div", { class: "notice", role: "status", id: "small-group-warning" }, el("strong", {}, "Few cells: "), `A has ${fmt.int(data.n_a)} cells and B ${fmt.int(data.n_b)} (fewer than ${data.min_group_size} on one side). The p-values rest on few cells; read them with care.`));
    }
    const chart = el("div", { class: "chart", id: "chart-volcano" });
    container.append(chart);
    const view = await draw(
      "volcano",
      chart,
      volcanoSpec(marked, { cellType: labelA, maxP, minFold, contrast: "A vs B" }),
      { renderer: rendererFor(plotted.length), description: `Volcano plot of ${labelA} against ${labelB}`, onClick: (d) => d.gene && navigate("genes", { genes: [d.gene] }) },
    );
    const name = slug(dataset, "compare", labelA, "vs", labelB);
    const top = rows.slice(0, 500).map((r) => r.gene);
    const problem = el("span", {});
    const saveB = async () => {
      problem.replaceChildren();
      try {
        const blob = await download("/expression-matrix", { dataset, gene_names: top, ...side(bTypes, bWhere.where) }, "application/x-hdf5");
        const url = URL.createObjectURL(blob);
        const a = el("a", { href: url, download: `${name}_group-B.h5ad` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
      } catch (error) {
        if (!isAbort(error)) problem.replaceChildren(errorBox(error));
      }
    };
    const files = downloads({
      name,
      rows,
      columns: ["rank", "gene", "score", "log2_fold_change", "p_value", "p_value_adj", "mean_a", "mean_b", "expm1_mean_a", "expm1_mean_b", "fold_change_bound", "pct_a", "pct_b", "call"],
      chart: view,
      anndata: { dataset, genes: top, cellTypes: aTypes, where: aWhere.where },
    });
    if (b === "group") files.append(el("button", { type: "button", title: "Group B's cells, the same genes", onclick: saveB }, "Download .h5ad (group B)"), problem);
    container.append(
      el("p", { class: "muted" }, `Click a gene for its dot plot. log2 fold change of A over B (from the means of expm1), Benjamini–Hochberg adjusted over every gene. The .h5ad holds group A's cells and the ${fmt.int(top.length)} highest-scoring genes.${belowFloat ? " Triangles: adjusted p is 0 in double precision (below 1e-308), drawn at the top." : ""}${marked.clipped ? " Diamonds at the edge: one group does not express the gene, so only the pseudocount decides its fold change (true value in the table)." : ""}`),
      files,
      sortableTable({
        columns: [
          { key: "rank", label: "rank (score)", numeric: true },
          { key: "gene", label: "gene", link: (r) => link("genes", { genes: [r.gene] }) },
          { key: "score", label: data.method === "t-test" ? "t" : "z", numeric: true, format: (v) => fmt.num(v) },
          { key: "log2_fold_change", label: "log2FC", numeric: true, format: (v, r) => (r.fold_change_bound ? `${fmt.num(v)} (pseudocount)` : fmt.num(v)) },
          { key: "p_value_adj", label: "adj. p", numeric: true, format: fmt.p },
          { key: "mean_a", label: "mean A", numeric: true, format: (v) => fmt.num(v) },
          { key: "mean_b", label: "mean B", numeric: true, format: (v) => fmt.num(v) },
          { key: "expm1_mean_a", label: "expm1 mean A", numeric: true, format: (v) => fmt.num(v) },
          { key: "expm1_mean_b", label: "expm1 mean B", numeric: true, format: (v) => fmt.num(v) },
          { key: "pct_a", label: "% A", numeric: true, format: fmt.pct },
          { key: "pct_b", label: "% B", numeric: true, format: fmt.pct },
        ],
        rows,
        pageSize: 50,
        id: "compare-table",
      }),
    );
  },
};
