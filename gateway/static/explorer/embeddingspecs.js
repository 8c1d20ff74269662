// The Embedding view's charts and selection as pure functions (no DOM, no fetch; node-tested): cells on a
// UMAP/t-SNE as points or as the gateway's grid, coloured by a gene (zeros grey), a numeric column (no value
// grey) or a group column; a box drawn on the plot as the API's `where` polygon term.

import { OKABE_ITO, SEQUENTIAL, rendererFor } from "./specs.js";
import { fmt } from "./format.js";

/** Cells where the gene is not detected (or that have no value): drawn apart, in grey, under the others. */
export const ZERO_GREY = "#C8C8C8";
const WIDTH = 520;
const HEIGHT = 480;

/** The brush every embedding chart carries: a box on x and y, read back as a region (boxPolygon). */
const BRUSH = [{ name: "region", select: { type: "interval", encodings: ["x", "y"], clear: "dblclick" } }];
/** A filled plot area, so that a box can start between the cells (the brush needs a mark under the pointer). */
const PLOT_AREA = { fill: "#ffffff", stroke: null };

/**
 * The colour encoding of a cell or a bin: kind "gene" / "numeric" (a value, grey where 0 / missing), "group"
 * (a label), "none" (cell type for points, cells per bin for a grid).
 */
function colourOf(kind, { name, field, grey, many }) {
  if (kind === "gene" || kind === "numeric") {
    const title = kind === "gene" ? `${name} (log-normalised)` : name;
    return { condition: { test: grey, value: ZERO_GREY }, field, type: "quantitative", title, scale: SEQUENTIAL };
  }
  if (kind === "group" || kind === "none") {
    const title = kind === "group" ? name : "cell type";
    return many <= OKABE_ITO.length
      ? { field, type: "nominal", title, scale: { range: OKABE_ITO } }
      : { field, type: "nominal", title, scale: { scheme: "tableau20" } };
  }
  return { value: OKABE_ITO[0] };
}

function axes(embedding) {
  return {
    x: { field: "x", type: "quantitative", title: `${embedding} 1`, scale: { zero: false, nice: false } },
    y: { field: "y", type: "quantitative", title: `${embedding} 2`, scale: { zero: false, nice: false } },
  };
}

/**
 * Every cell as a point. points: /embedding's {barcode, cell_type, x, y, value, label}; options: the
 * embedding's name, the colour kind ("gene", "numeric", "group", "none") and its name (gene or column).
 * Grey cells are drawn first, then by increasing value, so the expressing cells are on top.
 * Returns {spec, rows (for the CSV), renderer}.
 */
export function embeddingPointsSpec(points, { embedding, kind, name = "" }) {
  const values = points.x.map((x, i) => ({
    barcode: points.barcode[i],
    cell_type: points.cell_type[i],
    x,
    y: points.y[i],
    value: points.value ? points.value[i] : null,
    label: points.label ? points.label[i] : null,
  }));
  const grey = (v) => v.value === null || (kind === "gene" && v.value === 0);
  if (kind === "gene" || kind === "numeric") {
    values.sort((p, q) => Number(grey(q)) - Number(grey(p)) || (p.value ?? 0) - (q.value ?? 0));
  }
  const field = kind === "group" ? "label" : kind === "none" ? "cell_type" : "value";
  const many = new Set(values.map((v) => v[field])).size;
  /** @type {{field: string, title?: string, format?: string}[]} */
  const tooltip = [{ field: "barcode" }, { field: "cell_type", title: "cell type" }];
  if (kind === "gene" || kind === "numeric") tooltip.push({ field: "value", title: name, format: ".4f" });
  if (kind === "group") tooltip.push({ field: "label", title: name });
  const rows = values.map((v) => {
    const row = { barcode: v.barcode, cell_type: v.cell_type, x: v.x, y: v.y };
    if (kind === "gene" || kind === "numeric") row[name] = v.value;
    if (kind === "group") row[name] = v.label;
    return row;
  });
  return {
    rows,
    renderer: rendererFor(values.length),
    spec: {
      data: { values },
      name: "cells",
      width: WIDTH,
      height: HEIGHT,
      params: BRUSH,
      view: PLOT_AREA,
      mark: { type: "circle", size: values.length > 2000 ? 8 : 20, opacity: 0.75 },
      encoding: {
        ...axes(embedding),
        color: colourOf(kind, { name, field, grey: kind === "gene" ? "datum.value === 0" : "datum.value === null", many }),
        tooltip,
      },
    },
  };
}

/**
 * The gateway's grid: one rectangle per non-empty bin, between its edges. bins: /embedding's {x_edges,
 * y_edges, x_bin, y_bin, n_cells, mean, n_expressing, top_value, top_count}. A gene's bins where no cell
 * expresses it are grey; the colour is the bin's mean (over all its cells, zeros included), its most frequent
 * value (group) or its cells (no colour).
 */
export function embeddingBinsSpec(bins, { embedding, kind, name = "" }) {
  const values = bins.n_cells.map((n, i) => {
    const bx = bins.x_bin[i];
    const by = bins.y_bin[i];
    return {
      x: bins.x_edges[bx],
      x_end: bins.x_edges[bx + 1],
      y: bins.y_edges[by],
      y_end: bins.y_edges[by + 1],
      n_cells: n,
      mean: bins.mean ? bins.mean[i] : null,
      n_expressing: bins.n_expressing ? bins.n_expressing[i] : null,
      top_value: bins.top_value ? bins.top_value[i] : null,
      top_count: bins.top_count ? bins.top_count[i] : null,
    };
  });
  const field = kind === "group" ? "top_value" : kind === "none" ? "n_cells" : "mean";
  let color;
  if (kind === "none") color = { field, type: "quantitative", title: "cells", scale: { ...SEQUENTIAL, type: "log" } };
  else {
    const grey = kind === "gene" ? "datum.n_expressing === 0" : "datum.mean === null";
    color = colourOf(kind, { name: kind === "gene" ? `${name} mean` : name, field, grey, many: new Set(values.map((v) => v.top_value)).size });
    if (kind === "gene") color.title = `${name} mean (log-normalised)`;
  }
  /** @type {{field: string, title?: string, format?: string}[]} */
  const tooltip = [
    { field: "x", title: "x from", format: ".3f" },
    { field: "y", title: "y from", format: ".3f" },
    { field: "n_cells", title: "cells" },
  ];
  if (kind === "gene") tooltip.push({ field: "mean", title: `${name} mean`, format: ".4f" }, { field: "n_expressing", title: `${name} detected` });
  if (kind === "numeric") tooltip.push({ field: "mean", title: `${name} mean`, format: ".4f" });
  if (kind === "group") tooltip.push({ field: "top_value", title: `most frequent ${name}` }, { field: "top_count", title: "of its cells" });
  const rows = values.map((v) => {
    const row = { x_from: v.x, x_to: v.x_end, y_from: v.y, y_to: v.y_end, n_cells: v.n_cells };
    if (kind === "gene") Object.assign(row, { [`${name}_mean`]: v.mean, [`${name}_detected`]: v.n_expressing });
    if (kind === "numeric") row[`${name}_mean`] = v.mean;
    if (kind === "group") Object.assign(row, { [`top_${name}`]: v.top_value, top_count: v.top_count });
    return row;
  });
  return {
    rows,
    renderer: "svg",
    spec: {
      data: { values },
      name: "bins",
      width: WIDTH,
      height: HEIGHT,
      params: BRUSH,
      view: PLOT_AREA,
      mark: { type: "rect" },
      encoding: { ...axes(embedding), x2: { field: "x_end" }, y2: { field: "y_end" }, color, tooltip },
    },
  };
}

/**
 * A box as a polygon: the brush's {x: [a, b], y: [c, d]} (either order) → [[x0, y0], [x1, y0], [x1, y1],
 * [x0, y1]]; null when the box is empty or not finite.
 */
export function boxPolygon(box) {
  if (!box || !Array.isArray(box.x) || !Array.isArray(box.y) || box.x.length !== 2 || box.y.length !== 2) return null;
  const [x0, x1] = [Math.min(...box.x), Math.max(...box.x)];
  const [y0, y1] = [Math.min(...box.y), Math.max(...box.y)];
  if (![x0, x1, y0, y1].every(Number.isFinite) || x0 === x1 || y0 === y1) return null;
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
}

/** The URL's `region` text ("x0,x1,y0,y1") as a box, or null when it is not four finite numbers. */
export function parseRegion(text) {
  if (!text) return null;
  const parts = text.split(",").map((s) => (s.trim() === "" ? NaN : Number(s)));
  if (parts.length !== 4 || !parts.every(Number.isFinite)) return null;
  return { x: [parts[0], parts[1]], y: [parts[2], parts[3]] };
}

/** A box as the URL's `region` text, full precision. */
export function formatRegion(box) {
  const polygon = boxPolygon(box);
  if (!polygon) return "";
  return [polygon[0][0], polygon[1][0], polygon[0][1], polygon[2][1]].join(",");
}

/** `where` with the cells inside `polygon` of `embedding` as one more term (the API's region term). */
export function regionWhere(where, embedding, polygon) {
  return { ...(where || {}), [embedding]: { polygon } };
}

/** The box in words: "umap 1 ∈ [−2.1, 3.4], umap 2 ∈ [0.5, 7]". */
export function describeBox(box, embedding) {
  const polygon = boxPolygon(box);
  if (!polygon) return "";
  return `${embedding} 1 ∈ [${fmt.num(polygon[0][0])}, ${fmt.num(polygon[1][0])}], ${embedding} 2 ∈ [${fmt.num(polygon[0][1])}, ${fmt.num(polygon[2][1])}]`;
}

/** At most this many vertices go to the API (a lasso traced slowly has many more points). */
export const MAX_VERTICES = 500;

/**
 * A lasso traced in pixels as a polygon in the embedding's coordinates: `invertX` / `invertY` map a pixel of
 * the plot area to data (Vega's scale inversion); repeated points are dropped and long traces thinned to
 * MAX_VERTICES. null when fewer than three distinct vertices remain (a click, a line).
 * @param {[number, number][]} pixels
 * @param {(px: number) => number} invertX
 * @param {(py: number) => number} invertY
 */
export function lassoPolygon(pixels, invertX, invertY) {
  const distinct = [];
  for (const [px, py] of pixels) {
    const last = distinct[distinct.length - 1];
    if (!last || Math.hypot(px - last[0], py - last[1]) >= 1) distinct.push([px, py]);
  }
  const step = Math.ceil(distinct.length / MAX_VERTICES);
  const kept = distinct.filter((_, i) => i % step === 0);
  const polygon = kept.map(([px, py]) => [invertX(px), invertY(py)]);
  if (polygon.length < 3 || !polygon.every(([x, y]) => Number.isFinite(x) && Number.isFinite(y))) return null;
  return polygon;
}

/** A polygon as the URL's `lasso` text: "x y,x y,…" at full precision. */
export function formatPolygon(polygon) {
  return polygon.map(([x, y]) => `${x} ${y}`).join(",");
}

/** The URL's `lasso` text as a polygon, or null unless it is three or more pairs of finite numbers. */
export function parsePolygon(text) {
  if (!text) return null;
  const polygon = text.split(",").map((pair) => pair.trim().split(/\s+/).map(Number));
  if (polygon.length < 3 || !polygon.every((p) => p.length === 2 && p.every(Number.isFinite))) return null;
  return polygon;
}
