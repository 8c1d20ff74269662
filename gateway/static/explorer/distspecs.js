// Charts of per-cell distributions and of gene variability, as pure functions (rows in, Vega-Lite spec out;
// no DOM, no fetch): the Distribution view's violins with the zero bin drawn apart, and the Variability view's
// mean-vs-dispersion plot with every gene as background. Node's test runner checks them (tests/unit/js/).

import { fractionTicks } from "./format.js";
import { HIGHLIGHT } from "./specs.js";

const ZERO_COLOUR = "#999999";
const VIOLIN_COLOUR = "#0072B2";

/**
 * Rows of GET /genes/{gene}/distribution, one per cell type and bin, the zero bin first (for CSV and the
 * table): {cell_type, bin, low, high, n_cells_in_bin, fraction_of_cells}. The zero bin has low = high = 0.
 */
export function distributionRows(data) {
  const rows = [];
  for (const group of data.groups) {
    rows.push({ cell_type: group.cell_type, bin: "0 (not detected)", low: 0, high: 0, n_cells_in_bin: group.n_zero, fraction_of_cells: group.n_cells ? group.n_zero / group.n_cells : 0 });
    group.counts.forEach((n, i) => {
      rows.push({ cell_type: group.cell_type, bin: String(i + 1), low: data.edges[i], high: data.edges[i + 1], n_cells_in_bin: n, fraction_of_cells: group.n_cells ? n / group.n_cells : 0 });
    });
  }
  return rows;
}

/**
 * Violins of one gene across cell types: on the right each type's non-zero values as a histogram mirrored
 * around its row (width ∝ the share of the type's expressing cells in the bin, the widest bin of each type
 * spanning its row), a
 * white tick at the mean over the expressing cells; on the left, apart, the zero bin: the fraction of the
 * type's cells where the gene is not detected. data: the API's answer; options: {gene}.
 * Returns {spec, names}: names are the cell types top to bottom.
 */
export function distributionSpec(data, { gene }) {
  const names = data.groups.map((g) => g.cell_type);
  const shares = [];
  data.groups.forEach((group, row) => {
    group.counts.forEach((n, i) => {
      if (n > 0) shares.push({ row, cell_type: group.cell_type, low: data.edges[i], high: data.edges[i + 1], n, share: n / group.n_expressing });
    });
  });
  // Each type's widest bin spans its row (scanpy's violin scale "width"): the shape within a type is what
  // reads; how many cells express it is the zero bin's story, on the left.
  const widest = new Map();
  for (const s of shares) widest.set(s.row, Math.max(widest.get(s.row) || 0, s.share));
  const violins = shares.map((s) => {
    const half = (0.44 * s.share) / widest.get(s.row);
    return { ...s, y0: s.row - half, y1: s.row + half };
  });
  const zeros = data.groups.map((g, row) => ({ row, cell_type: g.cell_type, n_zero: g.n_zero, n_cells: g.n_cells, start: 0, fraction: g.n_cells ? g.n_zero / g.n_cells : 0, y0: row - 0.3, y1: row + 0.3 }));
  const means = data.groups.filter((g) => g.mean_expressing !== null).map((g) => ({ row: names.indexOf(g.cell_type), cell_type: g.cell_type, mean_expressing: g.mean_expressing, y0: names.indexOf(g.cell_type) - 0.44, y1: names.indexOf(g.cell_type) + 0.44 }));
  const height = Math.max(80, 34 * names.length);
  // Rows are numbered top to bottom; the axis prints each number's cell type (a lookup, never markup).
  const y = {
    field: "y0",
    type: "quantitative",
    scale: { domain: [-0.6, names.length - 0.4], reverse: true, nice: false, zero: false },
    axis: { values: names.map((_, i) => i), labelExpr: `${JSON.stringify(names).replace(/\u2028|\u2029/g, " ")}[datum.value]`, title: null, grid: false, ticks: false, labelLimit: 220 },
  };
  return {
    names,
    spec: {
      hconcat: [
        {
          width: 140,
          height,
          layer: [
            {
              data: { values: zeros },
              name: "zeros",
              mark: { type: "rect", color: ZERO_COLOUR },
              encoding: {
                y,
                y2: { field: "y1" },
                x: { field: "start", type: "quantitative", scale: { domain: [0, 1] }, axis: { format: ".0%", title: "not detected (value 0)", tickCount: 3 } },
                x2: { field: "fraction" },
                tooltip: [{ field: "cell_type", title: "cell type" }, { field: "n_zero", title: "cells at 0" }, { field: "n_cells", title: "cells" }, { field: "fraction", format: ".1%", title: "not detected" }],
              },
            },
          ],
        },
        {
          width: 440,
          height,
          layer: [
            {
              data: { values: violins },
              name: "violins",
              mark: { type: "rect", color: VIOLIN_COLOUR, opacity: 0.85 },
              encoding: {
                x: { field: "low", type: "quantitative", title: `${gene}, cells where detected (log-normalised)`, scale: { zero: false, nice: false } },
                x2: { field: "high" },
                y: { ...y, axis: null },
                y2: { field: "y1" },
                tooltip: [{ field: "cell_type", title: "cell type" }, { field: "low", format: ".3f", title: "from" }, { field: "high", format: ".3f", title: "to" }, { field: "n", title: "cells" }, { field: "share", format: ".1%", title: "of expressing" }],
              },
            },
            {
              data: { values: means },
              name: "means",
              mark: { type: "rule", color: "#ffffff", strokeWidth: 2 },
              encoding: {
                x: { field: "mean_expressing", type: "quantitative" },
                y: { ...y, axis: null },
                y2: { field: "y1" },
                tooltip: [{ field: "cell_type", title: "cell type" }, { field: "mean_expressing", format: ".4f", title: "mean (expressing)" }],
              },
            },
          ],
        },
      ],
      resolve: { scale: { y: "shared" } },
    },
  };
}

/**
 * Mean against normalised dispersion for every gene detected in the group (grey), the chosen genes on top
 * (size = fraction expressing), the first five labelled. all: /highly-variable-genes' genes; chosen: the
 * genes to highlight in rank order (any rows with gene and pct_expressing); options: {flavor}.
 */
export function dispersionSpec(all, chosen, { flavor }) {
  const byGene = new Map(all.map((g) => [g.gene, g]));
  const plotted = all.filter((g) => g.dispersions_norm !== null);
  const highlighted = chosen.filter((c) => byGene.has(c.gene) && byGene.get(c.gene).dispersions_norm !== null).map((c) => ({ ...byGene.get(c.gene), ...c, means: byGene.get(c.gene).means, dispersions_norm: byGene.get(c.gene).dispersions_norm }));
  const pct = highlighted.map((g) => g.pct_expressing);
  const ticks = fractionTicks(Math.min(...pct, 1), Math.max(...pct, 0));
  const meanTitle = flavor === "seurat" ? "mean (log1p of the mean of expm1(lognorm))" : "mean (log-normalised)";
  const x = { field: "means", type: "quantitative", title: meanTitle, scale: { zero: false, nice: false, padding: 10 } };
  const y = { field: "dispersions_norm", type: "quantitative", title: `normalised dispersion (scanpy, ${flavor})`, scale: { zero: false, padding: 10 } };
  return {
    width: 520,
    height: 380,
    layer: [
      {
        data: { values: plotted },
        name: "background",
        mark: { type: "circle", size: 12, color: HIGHLIGHT.other, opacity: 0.6 },
        encoding: { x, y, tooltip: [{ field: "gene" }, { field: "means", format: ".4f", title: "mean" }, { field: "dispersions_norm", format: ".3f", title: "norm. dispersion" }] },
      },
      {
        data: { values: highlighted },
        name: "genes",
        mark: { type: "circle", color: HIGHLIGHT.up, opacity: 0.85, cursor: "pointer" },
        encoding: {
          x,
          y,
          size: {
            field: "pct_expressing",
            type: "quantitative",
            title: "expressing",
            scale: { domain: [Math.min(...ticks.values, ...pct), Math.max(...ticks.values, ...pct)], range: [20, 200] },
            legend: { values: ticks.values, format: ticks.format },
          },
          tooltip: [{ field: "gene" }, { field: "means", format: ".4f", title: "mean" }, { field: "dispersions_norm", format: ".3f", title: "norm. dispersion" }, { field: "pct_expressing", format: ".1%", title: "expressing" }],
        },
      },
      {
        data: { values: highlighted.slice(0, 5) },
        mark: { type: "text", align: "left", fontSize: 10, dx: 7 },
        encoding: { x, y, text: { field: "gene" } },
      },
    ],
  };
}
