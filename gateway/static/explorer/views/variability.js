// Variability: the most variable genes of a cell type, ranked by the seed's coefficient of variation or by
// scanpy's normalised dispersion (highly_variable_genes, flavours seurat and cell_ranger), over every cell,
// zeros included; by default only genes expressed in ≥ 5 % of the cells. A mean-vs-dispersion plot with every
// gene of the cell type in grey and the chosen ones on top, and a table.

import { api, ApiError, isAbort } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { rendererFor, variabilitySpec } from "../specs.js";
import { dispersionSpec } from "../distspecs.js";
import { el, cellTypeSelect, errorBox, sortableTable, downloads, slug } from "../ui.js";
import { correctWhere, describeWhere, encodeWhere } from "../where.js";

/** Without a min_pct in the URL, genes expressed in fewer cells than this (in %) are left out. */
const DEFAULT_MIN_PCT = "5";
const RANKINGS = {
  cv: "coefficient of variation (sd / mean)",
  seurat: "normalised dispersion — scanpy, seurat",
  cell_ranger: "normalised dispersion — scanpy, cell_ranger",
};

export default {
  title: "Variability",
  takesWhere: true,
  carries: ["cell_type", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters }) {
    const where = encodeWhere(filters.where);
    const cellType = params.get("cell_type") || "";
    const limit = Math.min(1000, Math.max(1, Number(params.get("limit")) || 50));
    const minMean = params.get("min_mean") ?? "";
    const minPct = params.get("min_pct") ?? DEFAULT_MIN_PCT;
    const rank = RANKINGS[params.get("rank")] ? params.get("rank") : "cv";
    const select = cellTypeSelect({ id: "var-cell-type", label: "Cell type", cellTypes, value: cellType });
    const rankSelect = el("select", { id: "var-rank", name: "rank" }, Object.entries(RANKINGS).map(([k, v]) => el("option", { value: k, selected: k === rank }, v)));
    const limitInput = el("input", { id: "var-limit", name: "limit", type: "number", min: 1, max: 1000, value: limit });
    const meanInput = el("input", { id: "min-mean", name: "min_mean", type: "number", step: "any", value: minMean, placeholder: "any" });
    const pctInput = el("input", { id: "min-pct", name: "min_pct", type: "number", step: "any", min: 0, max: 100, value: minPct, placeholder: "any" });
    const values = (overrides = {}) => ({ cell_type: select.select.value, rank: rankSelect.value, limit: limitInput.value, min_mean: meanInput.value, min_pct: pctInput.value === "" ? "0" : pctInput.value, where: encodeWhere(filters.value()), ...overrides });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("variability", values()); } },
        select.node,
        el("label", { class: "field" }, el("span", {}, "Rank by"), rankSelect),
        el("label", { class: "field" }, el("span", {}, "mean ≥"), meanInput),
        el("label", { class: "field" }, el("span", {}, "% expressing ≥"), pctInput),
        el("label", { class: "field" }, el("span", {}, "How many"), limitInput),
        filters.node,
        el("button", { type: "submit", id: "var-submit" }, "Show variable genes"),
      ),
    );
    if (!cellType) {
      container.append(el("p", { class: "hint" }, "Choose a cell type: its most variable genes are listed, by coefficient of variation or by scanpy's normalised dispersion."));
      return;
    }
    // The CV ranking's background is cell_ranger's: means on the same lognorm scale as the CV table's, and
    // for a whole cell type read from marts.gene_stats (no second pass over the cell type's rows).
    const flavor = rank === "cv" ? "cell_ranger" : rank;
    const hvgBody = { dataset, flavor, cell_types: [cellType], ...(filters.where ? { where: filters.where } : {}) };
    let rows;
    let background; // every gene's dispersion (null: none to draw); the list never waits for it
    try {
      if (rank === "cv") {
        const body = { dataset, cell_type: cellType, limit };
        if (filters.where) body.where = filters.where;
        if (minMean !== "") body.min_mean = Number(minMean);
        if (minPct !== "") body.min_pct_expressing = Number(minPct) / 100;
        background = api("/highly-variable-genes", { body: hvgBody }).then((r) => r.genes, backgroundError);
        background.catch(() => null); // awaited below; an abort before then is not an unhandled rejection
        rows = (await api("/gene-variability", { body })).map((r, i) => ({ rank: i + 1, ...r }));
      } else {
        const all = (await api("/highly-variable-genes", { body: hvgBody })).genes;
        rows = all
          .filter((g) => g.dispersions_norm !== null && (minPct === "" || g.pct_expressing >= Number(minPct) / 100) && (minMean === "" || g.means >= Number(minMean)))
          .slice(0, limit)
          .map((g, i) => ({ rank: i + 1, ...g }));
        background = Promise.resolve(all);
      }
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field, value }) => {
        // A misspelt filter column or value is fixed in the filter; anything else is the cell type.
        const fixed = correctWhere(filters.where, { field, value }, suggestion);
        navigate("variability", values(fixed ? { cell_type: cellType, where: encodeWhere(fixed) } : { cell_type: suggestion }));
      }));
      return;
    }
    const filtersText = [minPct !== "" && Number(minPct) > 0 ? `expressed in ≥ ${minPct} % of the cells${params.get("min_pct") === null ? " (the default; 0 keeps every gene)" : ""}` : "", minMean !== "" ? `mean ≥ ${minMean}` : ""].filter(Boolean).join(", ");
    container.append(
      el("h3", {}, `${fmt.int(rows.length)} most variable genes of ${cellType}${where ? ` with ${describeWhere(filters.where)}` : ""}`),
      el("p", { class: "note", id: "var-filters" }, `Ranked by ${RANKINGS[rank]}; ${filtersText ? `only genes ${filtersText}` : "every gene detected in the cell type"}.`),
    );
    // The list is shown at once; the plot follows (tens of thousands of background genes take a while to draw).
    const chart = el("div", { class: "chart", id: "chart-variability" }, el("p", { class: "muted" }, "Drawing every gene's mean and dispersion…"));
    const legend = el("p", { class: "muted" }, "Over every cell of the type, zeros included; variance with n − 1. Click a gene for its dot plot.");
    let view = null;
    const later = (async () => {
      const all = await background;
      const spec = all ? dispersionSpec(all, rows, { flavor }) : variabilitySpec(rows);
      chart.replaceChildren();
      // Tens of thousands of background genes draw on a canvas (SVG elements would take seconds).
      view = await draw("variability", chart, spec, {
        renderer: rendererFor(all ? all.length : rows.length),
        description: all ? `Mean against normalised dispersion (${flavor}) of every gene in ${cellType}, the chosen ones highlighted` : `Mean against coefficient of variation in ${cellType}`,
        onClick: (d) => d.gene && navigate("genes", { genes: [d.gene] }),
      });
      if (all) legend.prepend(`Grey: every gene detected in the cell type, by scanpy's highly_variable_genes (flavor ${flavor}; normalised dispersion within bins of the mean). Orange: the genes listed below. `);
    })();
    container.append(chart);
    const scanpy = rank !== "cv";
    container.append(
      legend,
      downloads({
        name: slug(dataset, cellType, "variability", rank),
        rows,
        columns: scanpy ? ["rank", "gene", "dispersions_norm", "dispersions", "means", "pct_expressing"] : ["rank", "gene", "mean_expression", "stddev", "cv", "pct_expressing"],
        chart: () => view,
        anndata: { dataset, genes: rows.map((r) => r.gene), cellTypes: [cellType], where: filters.where },
      }),
      sortableTable({
        columns: scanpy
          ? [
            { key: "rank", label: "rank", numeric: true },
            { key: "gene", label: "gene", link: (r) => link("genes", { genes: [r.gene] }) },
            { key: "dispersions_norm", label: "normalised dispersion", numeric: true, format: (v) => fmt.num(v) },
            { key: "dispersions", label: flavor === "seurat" ? "log dispersion" : "dispersion", numeric: true, format: (v) => fmt.num(v) },
            { key: "means", label: flavor === "seurat" ? "mean (log1p of mean expm1)" : "mean", numeric: true, format: (v) => fmt.num(v) },
            { key: "pct_expressing", label: "expressing", numeric: true, format: fmt.pct },
          ]
          : [
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
    return { later };
  },
};

/** The background is a bonus in the CV ranking: without it (e.g. a group too small) the CV plot is drawn. */
function backgroundError(error) {
  if (isAbort(error) || !(error instanceof ApiError)) throw error;
  return null;
}
