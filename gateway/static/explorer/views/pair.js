// Two genes: every cell of the chosen cell types as a point (or, when cells are many, as a 2-D histogram
// whose bin 0 holds exactly the zeros), with r, p and n from /gene-correlation and a per-group forest plot.

import { api } from "../api.js";
import { draw, OKABE_ITO, SEQUENTIAL } from "../charts.js";
import { el, fmt, geneInput, cellTypePicker, errorBox, sortableTable, downloads, slug } from "../ui.js";

const Z95 = 1.959963984540054;
const MAX_POINTS = 5000; // more cells than this are drawn as a 2-D histogram

/** 95 % interval of r by Fisher's z (Spearman: Fieller's variance 1.06 / (n − 3)); display only. */
function interval(r, n, method) {
  if (r === null || n <= 3) return [null, null];
  const se = Math.sqrt((method === "spearman" ? 1.06 : 1) / (n - 3));
  const z = Math.atanh(Math.max(-0.999999999999, Math.min(0.999999999999, r)));
  return [Math.tanh(z - Z95 * se), Math.tanh(z + Z95 * se)];
}

function scatterSpec(pair, a, b) {
  const p = pair.points;
  const values = p.x.map((x, i) => ({ barcode: p.barcode[i], cell_type: p.cell_type[i], x, y: p.y[i] }));
  const types = [...new Set(p.cell_type)];
  const colour = types.length <= OKABE_ITO.length
    ? { field: "cell_type", type: "nominal", title: "cell type", scale: { domain: types, range: OKABE_ITO } }
    : { value: OKABE_ITO[0] };
  return {
    rows: values.map((v) => ({ barcode: v.barcode, cell_type: v.cell_type, [a]: v.x, [b]: v.y })),
    renderer: values.length > 3000 ? "canvas" : "svg",
    spec: {
      data: { values },
      name: "cells",
      width: 460,
      height: 420,
      mark: { type: "circle", size: 18, opacity: 0.55 },
      encoding: {
        x: { field: "x", type: "quantitative", title: `${a} (log-normalised)` },
        y: { field: "y", type: "quantitative", title: `${b} (log-normalised)` },
        color: colour,
        tooltip: [{ field: "barcode" }, { field: "cell_type", title: "cell type" }, { field: "x", title: a, format: ".4f" }, { field: "y", title: b, format: ".4f" }],
      },
    },
  };
}

function binSpec(pair, a, b) {
  const bins = pair.bins;
  const values = bins.n_cells.map((n, i) => {
    const bx = bins.x_bin[i];
    const by = bins.y_bin[i];
    return {
      x_bin: bx, y_bin: by, n_cells: n,
      x0: (bx - 0.5) * bins.x_step, x1: (bx + 0.5) * bins.x_step,
      y0: (by - 0.5) * bins.y_step, y1: (by + 0.5) * bins.y_step,
      x_range: bx === 0 ? "0" : `${fmt.num((bx - 0.5) * bins.x_step, 3)} – ${fmt.num((bx + 0.5) * bins.x_step, 3)}`,
      y_range: by === 0 ? "0" : `${fmt.num((by - 0.5) * bins.y_step, 3)} – ${fmt.num((by + 0.5) * bins.y_step, 3)}`,
    };
  });
  return {
    rows: values.map((v) => ({ [`${a}_from`]: v.x0, [`${a}_to`]: v.x1, [`${b}_from`]: v.y0, [`${b}_to`]: v.y1, n_cells: v.n_cells })),
    renderer: "svg",
    spec: {
      data: { values },
      name: "bins",
      width: 460,
      height: 420,
      mark: { type: "rect" },
      encoding: {
        x: { field: "x0", type: "quantitative", title: `${a} (log-normalised; bin 0 = not detected)` },
        x2: { field: "x1" },
        y: { field: "y0", type: "quantitative", title: `${b} (log-normalised)` },
        y2: { field: "y1" },
        color: { field: "n_cells", type: "quantitative", title: "cells", scale: { ...SEQUENTIAL, type: "log" } },
        tooltip: [{ field: "x_range", title: a }, { field: "y_range", title: b }, { field: "n_cells", title: "cells" }],
      },
    },
  };
}

function forestSpec(groups, overall, by) {
  return {
    data: { values: groups.filter((g) => g.r !== null) },
    width: 360,
    height: { step: 24 },
    layer: [
      { mark: { type: "rule", strokeDash: [4, 3], color: "#999999" }, data: { values: [{ r: overall }] }, encoding: { x: { field: "r", type: "quantitative" } } },
      { mark: { type: "rule", color: "#555555" }, encoding: { y: { field: "group", type: "nominal", sort: null, title: by === "sample" ? "sample" : "cell type" }, x: { field: "ci_low", type: "quantitative", scale: { domain: [-1, 1] }, title: "r (95 % interval)" }, x2: { field: "ci_high" } } },
      { name: "groups", mark: { type: "point", filled: true, color: "#0072B2" }, encoding: { y: { field: "group", type: "nominal", sort: null }, x: { field: "r", type: "quantitative" }, size: { field: "n", type: "quantitative", title: "cells", scale: { range: [30, 300] } }, tooltip: [{ field: "group" }, { field: "r", format: ".4f" }, { field: "p", format: ".2e" }, { field: "n", title: "cells" }] } },
    ],
  };
}

export default {
  title: "Two genes",
  async render(container, { dataset, cellTypes, params, navigate }) {
    const geneA = params.get("gene_a") || "";
    const geneB = params.get("gene_b") || "";
    const chosen = params.getAll("cell_types");
    const method = params.get("method") === "spearman" ? "spearman" : "pearson";
    const by = ["cell_type", "sample", "none"].includes(params.get("by")) ? params.get("by") : "cell_type";
    const display = params.get("display") === "density" ? "density" : "auto";

    const a = geneInput({ id: "gene-a", label: "Gene A (x)", value: geneA, dataset, required: true });
    const b = geneInput({ id: "gene-b", label: "Gene B (y)", value: geneB, dataset, required: true });
    const picker = cellTypePicker({ cellTypes, chosen });
    const methodField = el(
      "fieldset",
      { class: "inline" },
      el("legend", {}, "Correlation"),
      ["pearson", "spearman"].map((m) => el("label", {}, el("input", { type: "radio", name: "method", id: `method-${m}`, value: m, checked: m === method }), ` ${m[0].toUpperCase()}${m.slice(1)} `)),
    );
    const bySelect = el(
      "select",
      { id: "by", name: "by" },
      [["cell_type", "per cell type"], ["sample", "per sample"], ["none", "none"]].map(([k, v]) => el("option", { value: k, selected: k === by }, v)),
    );
    const displaySelect = el(
      "select",
      { id: "display", name: "display" },
      el("option", { value: "auto", selected: display === "auto" }, `points (up to ${fmt.int(MAX_POINTS)} cells)`),
      el("option", { value: "density", selected: display === "density" }, "density (2-D histogram)"),
    );
    const values = (overrides = {}) => ({
      gene_a: a.input.value.trim(),
      gene_b: b.input.value.trim(),
      cell_types: picker.value(),
      method: methodField.querySelector("input:checked").value,
      by: bySelect.value,
      display: displaySelect.value,
      ...overrides,
    });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("pair", values()); } },
        a.node, b.node, methodField,
        el("label", { class: "field" }, el("span", {}, "Breakdown"), bySelect),
        el("label", { class: "field" }, el("span", {}, "Draw cells as"), displaySelect),
        picker.node,
        el("button", { type: "submit", id: "pair-submit" }, "Show scatter"),
      ),
    );
    // The method switch and the breakdown apply at once when a pair is shown.
    if (geneA && geneB) {
      for (const input of methodField.querySelectorAll("input")) input.addEventListener("change", () => navigate("pair", values()));
      for (const select of [bySelect, displaySelect]) select.addEventListener("change", () => navigate("pair", values()));
    }
    if (!geneA || !geneB) {
      container.append(el("p", { class: "hint" }, "Choose two genes (suggestions appear as you type) and, if you like, some cell types; no cell type means every cell."));
      return;
    }
    const request = { dataset, gene_a: geneA, gene_b: geneB, cell_types: chosen };
    let pair;
    let corr;
    try {
      [pair, corr] = await Promise.all([
        api("/gene-pair", { body: { ...request, max_points: display === "density" ? 0 : MAX_POINTS } }),
        api("/gene-correlation", { body: { ...request, method, by: by === "none" ? null : by } }),
      ]);
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field }) => navigate("pair", values({ [field === "gene_b" ? "gene_b" : "gene_a"]: suggestion }))));
      return;
    }
    const ga = pair.gene_a;
    const gb = pair.gene_b;
    const where = pair.cell_types.length ? pair.cell_types.join(", ") : "every cell";
    const stats = el(
      "dl",
      { class: "stats", id: "pair-stats" },
      el("dt", {}, method === "spearman" ? "Spearman ρ" : "Pearson r"), el("dd", { id: "stat-r" }, corr.pearson_correlation === null ? "undefined" : corr.pearson_correlation.toFixed(4)),
      el("dt", {}, "p"), el("dd", { id: "stat-p" }, fmt.p(corr.p_value)),
      el("dt", {}, "n (cells)"), el("dd", { id: "stat-n" }, fmt.int(corr.observation_count)),
      el("dt", {}, `${ga} detected`), el("dd", {}, fmt.int(corr.n_expressing_a)),
      el("dt", {}, `${pair.gene_b} detected`), el("dd", {}, fmt.int(corr.n_expressing_b)),
      el("dt", {}, "both"), el("dd", {}, fmt.int(corr.n_expressing_both)),
      el("dt", {}, "neither"), el("dd", { id: "stat-zero" }, fmt.int(pair.n_zero_both)),
    );
    container.append(el("h3", {}, `${ga} vs ${pair.gene_b} in ${where}`), stats);
    if (corr.note) container.append(el("p", { class: "note" }, corr.note));
    const { spec, rows, renderer } = pair.mode === "points" ? scatterSpec(pair, ga, gb) : binSpec(pair, ga, gb);
    const chart = el("div", { class: "chart", id: "chart-pair" });
    container.append(
      chart,
      el("p", { class: "muted" }, pair.mode === "points"
        ? `Every cell is a point (${fmt.int(pair.observation_count)}); ${fmt.int(pair.n_zero_both)} cells where neither gene is detected sit at (0, 0).`
        : `${fmt.int(pair.observation_count)} cells in a 2-D histogram; the bins on the axes (0) hold the cells where a gene is not detected.`),
    );
    const view = await draw("pair", chart, spec, { renderer, description: `Scatter of ${ga} and ${gb}` });
    container.append(downloads({ name: slug(dataset, ga, gb), rows, columns: Object.keys(rows[0] || {}), chart: view }));

    if (corr.groups) {
      const groups = corr.groups.map((g) => {
        const [low, high] = interval(g.pearson_correlation, g.observation_count, method);
        return { group: g.group, r: g.pearson_correlation, p: g.p_value, n: g.observation_count, n_expressing_both: g.n_expressing_both, ci_low: low, ci_high: high, note: g.note };
      });
      const forest = el("div", { class: "chart", id: "chart-forest" });
      container.append(el("h3", {}, `Per ${by === "sample" ? "sample" : "cell type"}`), forest);
      const forestView = await draw("forest", forest, forestSpec(groups, corr.pearson_correlation, by), { description: "Correlation per group with 95 % intervals" });
      container.append(
        el("p", { class: "muted" }, "Intervals: Fisher's z (Spearman: Fieller's variance), for reading only; r, p and n are the API's exact values."),
        downloads({ name: slug(dataset, ga, pair.gene_b, "by", by), rows: groups, columns: ["group", "r", "p", "n", "n_expressing_both", "ci_low", "ci_high", "note"], chart: forestView }),
        sortableTable({
          columns: [
            { key: "group", label: by === "sample" ? "sample" : "cell type" },
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
