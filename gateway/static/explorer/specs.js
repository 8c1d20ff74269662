// Every view's chart as a pure function of its data and options: rows in, a Vega-Lite spec out (no DOM, no
// fetch), so the views only fetch, call one of these and hand the result to charts.js's draw(), and node's
// test runner checks the specs without a browser (tests/unit/js/).

import { fmt, fractionTicks } from "./format.js";

/** Okabe & Ito's eight colours, distinguishable with every common colour-vision deficiency. */
export const OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
/** Viridis, reversed so that more reads darker on white; perceptually uniform and colour-blind safe. */
export const SEQUENTIAL = { scheme: "viridis", reverse: true };
export const HIGHLIGHT = { up: "#D55E00", down: "#0072B2", other: "#BBBBBB" };
/** One look for every chart (vega-embed's `config`). */
export const THEME = {
  font: "system-ui, -apple-system, 'Segoe UI', sans-serif",
  background: "#ffffff",
  range: { category: OKABE_ITO },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eeeeee" },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: null },
};

const Z95 = 1.959963984540054;
/** An adjusted p of 0 (below float64) is drawn 10 % above the highest other point. */
const VOLCANO_MARGIN = 1.1;
/** More points than this are drawn on a canvas instead of as SVG elements. */
const CANVAS_ABOVE = 3000;

/** Study: cells per cell type, largest first. rows: [{cell_type, n_cells}]. */
export function studySpec(rows) {
  return {
    data: { values: rows },
    name: "bars",
    width: 560,
    height: { step: 22 },
    mark: { type: "bar", color: "#0072B2", tooltip: true },
    encoding: {
      y: { field: "cell_type", type: "nominal", sort: "-x", title: null },
      x: { field: "n_cells", type: "quantitative", title: "cells" },
    },
  };
}

/** The dot plot's rows with `scaled`: each gene's mean rescaled to 0–1 over the cell types (0 when flat). One
 * pass over the rows (a 5,000-gene list has 50,000 of them). */
export function dotPlotRows(rows, genes) {
  const span = new Map(genes.map((g) => [g, [Infinity, -Infinity]]));
  for (const r of rows) {
    const range = span.get(r.gene) || [Infinity, -Infinity];
    range[0] = Math.min(range[0], r.mean);
    range[1] = Math.max(range[1], r.mean);
    span.set(r.gene, range);
  }
  return rows.map((r) => {
    const [low, high] = span.get(r.gene);
    return { ...r, scaled: high > low ? (r.mean - low) / (high - low) : 0 };
  });
}

/** Pixels per gene row: 30 for a few genes, fewer for many (≥ 3), so thousands of genes stay one drawable
 * canvas (under ~16,000 px; the page scrolls it). */
export function dotRowStep(nGenes) {
  return nGenes <= 40 ? 30 : Math.max(3, Math.min(18, Math.floor(16000 / nGenes)));
}

const LABEL_CHAR_PX = 7.2; // an 11 px label's widest characters (capitals, digits)
const LABEL_LINE_PX = 12;
const SORT_LIST_MAX = 200;
const LABEL_LINES = 3;

/** `name` broken into lines of at most `perLine` characters (after spaces, '/', '-', ',' where it can; at most
 * LABEL_LINES lines, the last ending in "…" when cut). */
export function wrapLabel(name, perLine) {
  const lines = [];
  let rest = name;
  while (rest.length > perLine && lines.length < LABEL_LINES - 1) {
    const window = rest.slice(0, perLine + 1);
    const cut = Math.max(window.lastIndexOf(" "), window.lastIndexOf("/") + 1, window.lastIndexOf("-") + 1, window.lastIndexOf(",") + 1);
    const at = cut > 0 ? cut : perLine;
    lines.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  lines.push(rest.length > perLine ? `${rest.slice(0, perLine - 1)}…` : rest);
  return lines;
}

/**
 * The cell-type axis of a dot plot with `step` px per column: names horizontal when every one fits; else
 * wrapped onto up to three lines (cut with "…"; the full name shows on hover over the label — charts.js — and
 * is in the dots' tooltip and the table); columns too
 * narrow for that get the names rotated. Returns Vega-Lite axis properties.
 */
export function cellTypeAxis(cellTypes, step) {
  const perLine = Math.floor((step - 4) / LABEL_CHAR_PX);
  if (cellTypes.every((c) => c.length <= perLine)) return { labelAngle: 0, labelLimit: step };
  if (perLine < 5) return { labelAngle: -45, labelLimit: 180 };
  const wrapped = cellTypes.map((c) => wrapLabel(c, perLine));
  // Vega writes a label's lines downwards from its first: above the plot, every label gets as many lines
  // (blank ones first) and the labels move up by the extra lines, so all end just above the dots.
  const most = Math.max(...wrapped.map((l) => l.length));
  const lines = wrapped.map((l) => [...Array(most - l.length).fill(""), ...l]);
  // Cell-type names are data: they enter the expression as JSON string literals, never as code.
  return { labelAngle: 0, labelLimit: step, labelLineHeight: LABEL_LINE_PX, labelPadding: 3 + (most - 1) * LABEL_LINE_PX, labelExpr: `${JSON.stringify(lines)}[indexof(${JSON.stringify(cellTypes)}, datum.value)]` };
}

/** Pixels per cell-type column so the plot uses `width` (34–120 px; room kept for gene names and legends). */
export function cellTypeStep(nCellTypes, width) {
  return Math.max(34, Math.min(120, Math.floor((width - 260) / Math.max(1, nCellTypes))));
}

/**
 * Dot plot (scanpy's sc.pl.dotplot): one row per gene, one column per cell type, size = fraction of cells
 * expressing, colour = mean over all cells ("mean") or that mean scaled per gene ("scaled").
 * rows: dotPlotRows(); options: {genes, cellTypes} in drawing order, colour, width (px available), groups
 * (gene → its group's label, from a pasted list's `#group` lines: one labelled block of rows per group).
 */
export function dotPlotSpec(rows, { genes, cellTypes, colour = "mean", width = 900, groups = null }) {
  const scaled = colour === "scaled";
  const rowStep = dotRowStep(genes.length);
  const columnStep = cellTypeStep(cellTypes.length, width);
  const dot = Math.min(rowStep, columnStep) - 2;
  const encoding = {
    x: { field: "cell_type", type: "nominal", sort: cellTypes, title: "cell type", axis: { orient: "top", ...cellTypeAxis(cellTypes, columnStep) } },
    // Vega-Lite compiles a sort list into one nested expression, which overflows the parser's stack with
    // thousands of genes: long lists sort by each row's place in the list instead.
    y: { field: "gene", type: "nominal", sort: genes.length > SORT_LIST_MAX ? { field: "gene_rank", op: "min" } : genes, title: null, axis: rowStep < 10 ? { labelOverlap: "greedy", labelFontSize: 9 } : {} },
    size: { field: "pct_expressing", type: "quantitative", scale: { domain: [0, 1], range: [0, Math.max(4, Math.round(0.58 * dot * dot))] }, legend: { title: "cells expressing", format: ".0%", values: [0.2, 0.4, 0.6, 0.8, 1] } },
    color: { field: scaled ? "scaled" : "mean", type: "quantitative", scale: SEQUENTIAL, legend: { title: scaled ? "mean (scaled)" : "mean expression" } },
    tooltip: [
      { field: "gene" }, { field: "cell_type", title: "cell type" },
      ...(groups ? [{ field: "gene_group", title: "group" }] : []),
      { field: "mean", format: ".4f", title: "mean (all cells)" },
      { field: "pct_expressing", format: ".1%", title: "expressing" },
      { field: "mean_expressing", format: ".4f", title: "mean (expressing)" },
      { field: "n_cells", title: "cells" },
    ],
  };
  const mark = { type: "circle", stroke: rowStep < 10 ? null : "#555555", strokeWidth: 0.5, opacity: 1, cursor: "pointer" };
  if (genes.length > SORT_LIST_MAX) {
    const rank = new Map(genes.map((g, i) => [g, i]));
    rows = rows.map((r) => ({ ...r, gene_rank: rank.get(r.gene) }));
  }
  if (!groups) {
    return { data: { values: rows }, name: "dots", width: { step: columnStep }, height: { step: rowStep }, mark, encoding };
  }
  // One block of rows per group, its label above it; the cell-type axis on the first block only. (A facet
  // would move the axis into a header, where Vega cannot evaluate the wrapped labels' expression.)
  const labels = [...new Set(genes.map((g) => groups[g] || ""))];
  return {
    spacing: 8,
    vconcat: labels.map((label, i) => {
      const members = genes.filter((g) => (groups[g] || "") === label);
      const member = new Set(members);
      return {
        name: i === 0 ? "dots" : `dots_${i + 1}`,
        title: { text: label || "(no group)", anchor: "start", fontSize: 12, fontWeight: "bold", orient: "top", offset: i === 0 ? 4 : 2 },
        data: { values: rows.filter((r) => member.has(r.gene)).map((r) => ({ ...r, gene_group: label })) },
        width: { step: columnStep },
        height: { step: rowStep },
        mark,
        encoding: {
          ...encoding,
          x: i === 0 ? encoding.x : { ...encoding.x, axis: null },
          y: { ...encoding.y, sort: members.length > SORT_LIST_MAX ? encoding.y.sort : members },
        },
      };
    }),
    resolve: { scale: { y: "independent" } },
  };
}

/** Co-expression: genes ranked by Pearson r with `gene`. rows: [{rank, gene, r, p, n_expressing}]. */
export function coexpressionSpec(rows, { gene }) {
  return {
    data: { values: rows },
    name: "bars",
    width: 420,
    height: { step: 18 },
    mark: { type: "bar", color: "#0072B2", cursor: "pointer" },
    encoding: {
      y: { field: "gene", type: "nominal", sort: { field: "rank" }, title: null },
      x: { field: "r", type: "quantitative", title: `Pearson r with ${gene}`, scale: { domain: [Math.min(0, ...rows.map((r) => r.r)), 1] } },
      tooltip: [{ field: "gene" }, { field: "r", format: ".4f" }, { field: "p", format: ".2e" }, { field: "n_expressing", title: "cells expressing" }],
    },
  };
}

/**
 * The markers' rows as the volcano and the table show them: rank, −log10 adjusted p (an adjusted p of 0 at
 * the ceiling), and the call "up"/"down"/"not significant" by the two thresholds. Also the plotted rows,
 * the up genes to label, and whether any plotted p sits at the ceiling.
 */
export function markerRows(results, { maxP, minFold }) {
  const finite = results.filter((r) => r.p_value_adj > 0).map((r) => -Math.log10(r.p_value_adj));
  const ceiling = finite.length ? VOLCANO_MARGIN * Math.max(...finite) : 300;
  const rows = results.map((r, i) => {
    const significant = r.p_value_adj !== null && r.p_value_adj <= maxP && r.log2_fold_change !== null && Math.abs(r.log2_fold_change) >= minFold;
    return {
      rank: i + 1,
      ...r,
      neg_log10_p_adj: r.p_value_adj === null ? null : r.p_value_adj > 0 ? -Math.log10(r.p_value_adj) : ceiling,
      p_below_float: r.p_value_adj === 0,
      call: significant ? (r.log2_fold_change > 0 ? "up" : "down") : "not significant",
    };
  });
  const measured = rows.filter((r) => r.log2_fold_change !== null && !r.fold_change_bound).map((r) => Math.abs(r.log2_fold_change));
  // Fold changes only the pseudocount decides (about ±30) sit at the plot's edge, not stretching its axis.
  const edge = VOLCANO_MARGIN * Math.max(1, ...measured);
  const plotted = rows
    .filter((r) => r.neg_log10_p_adj !== null && r.log2_fold_change !== null)
    .map((r) => ({ ...r, plot_log2_fold_change: r.fold_change_bound ? Math.sign(r.log2_fold_change) * edge : r.log2_fold_change, point: r.fold_change_bound ? "fold change bound (edge)" : r.p_below_float ? "adj. p = 0" : "measured" }));
  const up = plotted.filter((r) => r.call === "up");
  const down = plotted.filter((r) => r.call === "down").reverse(); // strongest (lowest score) first
  const candidates = [];
  for (let i = 0; i < LABELS_PER_SIDE; i++) candidates.push(up[i], down[i]);
  return {
    rows,
    plotted,
    labelled: withoutOverlaps(candidates.filter(Boolean), plotted, edge),
    belowFloat: finite.length < plotted.length,
    clipped: plotted.some((r) => r.fold_change_bound),
  };
}

const LABELS_PER_SIDE = 6;
const VOLCANO_SIZE = { width: 520, height: 400 };

/** Of `candidates` (most important first), those whose text box (≈ 6 px a character, 11 px high, right of
 * the point) overlaps no label kept before it, on a VOLCANO_SIZE plot of `plotted`. */
function withoutOverlaps(candidates, plotted, edge) {
  const top = Math.max(1, ...plotted.map((r) => r.neg_log10_p_adj));
  const boxes = [];
  const kept = [];
  for (const r of candidates) {
    const x = ((r.plot_log2_fold_change + edge) / (2 * edge)) * VOLCANO_SIZE.width + 5;
    const y = (1 - r.neg_log10_p_adj / top) * VOLCANO_SIZE.height - 4;
    const box = [x, y - 11, x + 6 * r.gene.length, y];
    if (boxes.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
    boxes.push(box);
    kept.push(r);
  }
  return kept;
}

/**
 * Points named "genes" (clicked to open a gene) with the genes of `labelled` written beside theirs: the
 * volcano's and the variability plot's shared layout. `encoding` is the points' (x and y label them too).
 */
function labelledGenes({ width, height, rows, labelled, mark, encoding, labelOffset }) {
  return {
    width,
    height,
    layer: [
      { data: { values: rows }, name: "genes", mark: { ...mark, cursor: "pointer" }, encoding },
      {
        data: { values: labelled },
        mark: { type: "text", align: "left", fontSize: 10, ...labelOffset },
        encoding: { x: { field: encoding.x.field, type: "quantitative" }, y: { field: encoding.y.field, type: "quantitative" }, text: { field: "gene" } },
      },
    ],
  };
}

/** Volcano: log2 fold change against −log10 adjusted p, with the threshold rules. marked: markerRows();
 * `contrast` names the comparison on the x axis (default "<cellType> vs rest"). */
export function volcanoSpec({ plotted, labelled, belowFloat, clipped = false }, { cellType, maxP, minFold, contrast = null }) {
  const genes = labelledGenes({
    width: 520,
    height: 400,
    rows: plotted,
    labelled,
    mark: { type: "point", filled: true, size: 26, opacity: 0.75 },
    encoding: {
      x: { field: "plot_log2_fold_change", type: "quantitative", title: `log2 fold change (${contrast || `${cellType} vs rest`})` },
      y: { field: "neg_log10_p_adj", type: "quantitative", title: "−log10 adjusted p" },
      shape: { field: "point", type: "nominal", title: null, scale: { domain: ["measured", "adj. p = 0", "fold change bound (edge)"], range: ["circle", "triangle-up", "diamond"] }, legend: belowFloat || clipped ? {} : null },
      color: { field: "call", type: "nominal", title: null, scale: { domain: ["up", "down", "not significant"], range: [HIGHLIGHT.up, HIGHLIGHT.down, HIGHLIGHT.other] } },
      tooltip: [{ field: "gene" }, { field: "log2_fold_change", format: ".3f", title: "log2FC" }, { field: "p_value_adj", format: ".2e", title: "adj. p" }, { field: "pct_in", format: ".1%", title: "expressing in" }, { field: "pct_out", format: ".1%", title: "expressing out" }],
    },
    labelOffset: { dx: 5, dy: -4 },
  });
  const threshold = { type: "rule", strokeDash: [4, 3], color: "#999999" };
  return {
    ...genes,
    layer: [
      ...genes.layer,
      { data: { values: [{ y: -Math.log10(maxP) }] }, mark: threshold, encoding: { y: { field: "y", type: "quantitative" } } },
      { data: { values: [{ x: -minFold }, { x: minFold }] }, mark: threshold, encoding: { x: { field: "x", type: "quantitative" } } },
    ],
  };
}

/** The renderer for `n` points: SVG elements while few, a canvas beyond CANVAS_ABOVE. */
export function rendererFor(n) {
  return n > CANVAS_ABOVE ? "canvas" : "svg";
}

/** Variability: mean against CV of the most variable genes, the first five labelled. rows: ranked. */
export function variabilitySpec(rows) {
  const pct = rows.map((r) => r.pct_expressing);
  const ticks = fractionTicks(Math.min(...pct, 1), Math.max(...pct, 0));
  return labelledGenes({
    width: 520,
    height: 380,
    rows,
    labelled: rows.slice(0, 5),
    mark: { type: "circle", size: 40, opacity: 0.8, color: HIGHLIGHT.down },
    encoding: {
      x: { field: "mean_expression", type: "quantitative", scale: { type: "log", nice: false, padding: 12 }, title: "mean (log-normalised, log scale)" },
      y: { field: "cv", type: "quantitative", scale: { zero: false, padding: 12 }, title: "coefficient of variation" },
      size: { field: "pct_expressing", type: "quantitative", title: "expressing", legend: { values: ticks.values, format: ticks.format }, scale: { domain: [Math.min(...ticks.values, ...pct), Math.max(...ticks.values, ...pct)], range: [15, 200] } },
      tooltip: [{ field: "gene" }, { field: "mean_expression", format: ".4f", title: "mean" }, { field: "cv", format: ".3f" }, { field: "stddev", format: ".4f", title: "sd" }, { field: "pct_expressing", format: ".1%", title: "expressing" }],
    },
    labelOffset: { dx: 7 },
  });
}

/** 95 % interval of r by Fisher's z (Spearman: Fieller's variance 1.06 / (n − 3)); display only. */
export function interval(r, n, method) {
  if (r === null || n <= 3) return [null, null];
  const se = Math.sqrt((method === "spearman" ? 1.06 : 1) / (n - 3));
  const z = Math.atanh(Math.max(-0.999999999999, Math.min(0.999999999999, r)));
  return [Math.tanh(z - Z95 * se), Math.tanh(z + Z95 * se)];
}

/**
 * Two genes, every cell a point coloured by cell type (one colour when there are more types than colours).
 * points: /gene-pair's columns {barcode, cell_type, x, y}; options: the genes' names {a, b}.
 * Returns the spec, the rows to download (columns named after the genes) and the renderer.
 */
export function scatterSpec(points, { a, b }) {
  const values = points.x.map((x, i) => ({ barcode: points.barcode[i], cell_type: points.cell_type[i], x, y: points.y[i] }));
  const types = [...new Set(points.cell_type)];
  const colour = types.length <= OKABE_ITO.length
    ? { field: "cell_type", type: "nominal", title: "cell type", scale: { domain: types, range: OKABE_ITO } }
    : { value: OKABE_ITO[0] };
  return {
    rows: values.map((v) => ({ barcode: v.barcode, cell_type: v.cell_type, [a]: v.x, [b]: v.y })),
    renderer: rendererFor(values.length),
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

/**
 * Two genes as a 2-D histogram whose bin 0 holds exactly the cells where a gene is not detected.
 * bins: /gene-pair's {x_bin, y_bin, n_cells, x_step, y_step}; options: the genes' names {a, b}.
 */
export function densitySpec(bins, { a, b }) {
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

/**
 * Forest plot: r per group with its interval, the overall r as a dashed rule; groups whose r is undefined
 * are left out. groups: [{group, r, n, ci_low, ci_high, p}]; options: {overall, by} (the breakdown's column).
 */
export function forestSpec(groups, { overall, by }) {
  return {
    data: { values: groups.filter((g) => g.r !== null) },
    width: 360,
    height: { step: 24 },
    layer: [
      { mark: { type: "rule", strokeDash: [4, 3], color: "#999999" }, data: { values: [{ r: overall }] }, encoding: { x: { field: "r", type: "quantitative" } } },
      { mark: { type: "rule", color: "#555555" }, encoding: { y: { field: "group", type: "nominal", sort: null, title: by === "cell_type" ? "cell type" : by }, x: { field: "ci_low", type: "quantitative", scale: { domain: [-1, 1] }, title: "r (95 % interval)" }, x2: { field: "ci_high" } } },
      { name: "groups", mark: { type: "point", filled: true, color: "#0072B2" }, encoding: { y: { field: "group", type: "nominal", sort: null }, x: { field: "r", type: "quantitative" }, size: { field: "n", type: "quantitative", title: "cells", scale: { range: [30, 300] } }, tooltip: [{ field: "group" }, { field: "r", format: ".4f" }, { field: "p", format: ".2e" }, { field: "n", title: "cells" }] } },
    ],
  };
}
