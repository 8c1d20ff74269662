// Embedding: every cell of the selection on a UMAP/t-SNE the study shipped, coloured by a gene (lognorm, zeros
// grey) or a metadata column; beyond a few thousand cells the gateway bins them (a grid computed in
// ClickHouse). A box or a lasso drawn on the plot is a group of cells: a link puts it into the two-gene view or the
// "Compare two groups" view as a `where` polygon term, or keeps only those cells here.

import { api } from "../api.js";
import { draw } from "../charts.js";
import { fmt } from "../format.js";
import {
  boxPolygon,
  describeBox,
  embeddingBinsSpec,
  embeddingPointsSpec,
  formatPolygon,
  formatRegion,
  lassoPolygon,
  parsePolygon,
  parseRegion,
  regionWhere,
} from "../embeddingspecs.js";
import { el, geneInput, cellsControls, errorBox, downloads, slug } from "../ui.js";
import { describeWhere, encodeWhere } from "../where.js";

const MAX_POINTS = 5000; // more cells than this are drawn as the gateway's grid
const BINS = 100;

export default {
  title: "Embedding",
  takesWhere: true,
  carries: ["gene", "cell_types", "where"],
  async render(container, { dataset, cellTypes, params, navigate, link, filters, metadata }) {
    const found = await api(`/datasets/${encodeURIComponent(dataset)}/embeddings`);
    if (!found.embeddings.length) {
      container.append(
        el("p", { class: "hint", id: "no-embedding" }, "This study has no embedding: load it with its coordinates (an .h5ad's obsm, Single Cell Portal cluster files with --cluster, or Cell Ranger's analysis/ beside the matrix)."),
      );
      return;
    }
    const names = found.embeddings.map((e) => e.name);
    const asked = params.get("embedding");
    const embedding = names.includes(asked) ? asked : names.find((n) => /umap/i.test(n)) || names[0];
    const columns = await metadata();
    const colorBy = columns.some((c) => c.name === params.get("color_by")) ? params.get("color_by") : "";
    const gene = colorBy ? "" : params.get("gene") || "";
    const chosen = params.getAll("cell_types");

    const embeddingSelect = el(
      "select",
      { id: "embedding-name", name: "embedding" },
      found.embeddings.map((e) => el("option", { value: e.name, selected: e.name === embedding }, `${e.name} (${fmt.int(e.n_cells)} cells)`)),
    );
    const geneField = geneInput({ id: "embedding-gene", label: "Colour by gene", value: gene, dataset });
    const columnSelect = el(
      "select",
      { id: "embedding-color-by", name: "color_by" },
      el("option", { value: "", selected: !colorBy }, "— (the gene, or cell type)"),
      columns.map((c) => el("option", { value: c.name, selected: c.name === colorBy }, `${c.name} (${c.kind})`)),
    );
    const cellChoice = cellsControls({ id: "embedding-display", requested: params.get("display"), binned: ["bins", "grid (binned by the server)"], maxPoints: MAX_POINTS, cellTypes, chosen, filters });
    const display = cellChoice.display;
    const values = (overrides = {}) => ({
      embedding: embeddingSelect.value,
      color_by: columnSelect.value,
      gene: columnSelect.value ? "" : geneField.input.value.trim(),
      ...cellChoice.value(),
      ...overrides,
    });
    container.append(
      el(
        "form",
        { class: "controls", onsubmit: (e) => { e.preventDefault(); navigate("embedding", values()); } },
        el("label", { class: "field" }, el("span", {}, "Embedding"), embeddingSelect),
        geneField.node,
        el("label", { class: "field" }, el("span", {}, "or colour by metadata"), columnSelect),
        ...cellChoice.nodes,
        el("button", { type: "submit", id: "embedding-submit" }, "Show cells"),
      ),
    );

    const request = {
      dataset,
      embedding,
      cell_types: chosen,
      ...(gene ? { gene } : {}),
      ...(colorBy ? { color_by: colorBy } : {}),
      ...(filters.where ? { where: filters.where } : {}),
    };
    let answer;
    try {
      answer = await api("/embedding", { body: { ...request, max_points: display === "bins" ? 0 : MAX_POINTS, bins: BINS } });
    } catch (error) {
      container.append(errorBox(error, (suggestion, { field }) => navigate("embedding", values({ [field === "gene" ? "gene" : field]: suggestion }))));
      return;
    }
    const kind = answer.colour_kind;
    const name = answer.gene || answer.color_by || "";
    const cells = [answer.cell_types.length ? answer.cell_types.join(", ") : "every cell", filters.where ? `with ${describeWhere(filters.where)}` : ""].filter(Boolean).join(" ");
    container.append(
      el("h3", {}, `${answer.embedding} of ${cells}${name ? `, coloured by ${name}` : ""}`),
      el(
        "dl",
        { class: "stats", id: "embedding-stats" },
        el("dt", {}, "cells on the embedding"), el("dd", { id: "emb-n" }, fmt.int(answer.n_cells)),
        kind === "gene" ? [el("dt", {}, `${name} detected`), el("dd", { id: "emb-expressing" }, fmt.int(answer.n_expressing))] : null,
        el("dt", {}, "drawn as"), el("dd", { id: "emb-mode" }, answer.mode === "points" ? "points" : `a ${BINS} × ${BINS} grid`),
      ),
    );
    const { spec, rows, renderer } = answer.mode === "points"
      ? embeddingPointsSpec(answer.points, { embedding: answer.embedding, kind, name })
      : embeddingBinsSpec(answer.bins, { embedding: answer.embedding, kind, name });
    const chart = el("div", { class: "chart", id: "chart-embedding" });
    const note = answer.mode === "points"
      ? kind === "gene" ? `Every cell is a point; the ${fmt.int(answer.n_cells - answer.n_expressing)} cells where ${name} is not detected are grey, under the others.` : "Every cell is a point."
      : `${fmt.int(answer.n_cells)} cells in bins${kind === "gene" ? `: colour is the bin's mean ${name} over all its cells (zeros included); bins where no cell expresses it are grey` : ""}.`;
    container.append(chart, el("p", { class: "muted" }, `${note} Drag a box to select cells; double-click clears it.`));
    const view = await draw("embedding", chart, spec, { renderer, description: `Cells on ${answer.embedding}` });
    container.append(downloads({ name: slug(dataset, answer.embedding, name || "cells"), rows, columns: Object.keys(rows[0] || {}), chart: view }));

    // The selection: a box or a lasso on the plot (or the URL's `region` / `lasso`) becomes a group of cells.
    const panel = el("section", { id: "embedding-selection", class: "note", "aria-live": "polite" });
    let counting = 0;
    const showSelection = async (polygon, description, param) => {
      const here = new URLSearchParams(window.location.search);
      here.delete("region");
      here.delete("lasso");
      if (polygon) here.set(param[0], param[1]);
      window.history.replaceState(null, "", `?${here.toString()}`);
      if (!polygon) {
        panel.replaceChildren(el("p", {}, "Drag a box (or draw a lasso) on the plot to select cells; they become a group for other views."));
        return;
      }
      const where = regionWhere(filters.where, answer.embedding, polygon);
      const whereText = encodeWhere(where);
      const pairLink = link("pair", { where: whereText, cell_types: chosen, gene_a: gene });
      const compareLink = link("compare", { a_where: whereText, a_cell_types: chosen, b: "rest" });
      const hereLink = link("embedding", { ...values(), embedding: answer.embedding, where: whereText });
      const count = el("strong", { id: "selection-n" }, "…");
      panel.replaceChildren(
        el("p", {}, "Selected: ", el("span", { id: "selection-box" }, description), " — ", count, " cells."),
        el(
          "p",
          {},
          "Use as a group: ",
          el("a", { id: "use-pair", ...pairLink }, "in the two-gene view"),
          " · ",
          el("a", { id: "use-compare", ...compareLink }, "compare with every other cell"),
          " · ",
          el("a", { id: "use-here", ...hereLink }, "show only these cells"),
        ),
      );
      const mine = ++counting;
      try {
        const selected = await api("/embedding", { body: { ...request, where, max_points: 0, bins: 4 } });
        if (mine === counting) count.textContent = fmt.int(selected.n_cells);
      } catch (error) {
        if (mine === counting) panel.append(errorBox(error));
      }
    };
    const showBox = (box) => showSelection(boxPolygon(box), describeBox(box, answer.embedding), ["region", formatRegion(box)]);
    const showLasso = (polygon) => showSelection(polygon, `a lasso of ${polygon ? polygon.length : 0} points on ${answer.embedding}`, ["lasso", polygon ? formatPolygon(polygon) : ""]);
    let timer = null;
    view.addSignalListener("region", (_name, value) => {
      clearTimeout(timer);
      timer = setTimeout(() => showBox(value && Object.keys(value).length ? value : null), 250);
    });

    // The lasso: a layer over the plot area that takes the pointer while "lasso" is chosen.
    const lasso = lassoLayer(chart, view, spec.name, (polygon) => { if (polygon) showLasso(polygon); });
    const modes = el(
      "fieldset",
      { class: "inline", id: "selection-mode" },
      el("legend", {}, "Select cells with"),
      [["box", "a box (drag)"], ["lasso", "a lasso (draw around them)"]].map(([k, v]) =>
        el("label", {}, el("input", { type: "radio", name: "select-mode", id: `select-${k}`, value: k, checked: k === "box", onchange: () => { lasso.hidden = k !== "lasso"; } }), ` ${v} `),
      ),
    );
    // The keyboard's way to a box: its edges typed in (the same region as a drag).
    const info = found.embeddings.find((e) => e.name === answer.embedding);
    const edge = (id, label, placeholder) => el("input", { id, type: "number", step: "any", "aria-label": label, placeholder: fmt.num(placeholder) });
    const edges = [
      edge("box-x0", `${answer.embedding} 1 from`, info.x_min),
      edge("box-x1", `${answer.embedding} 1 to`, info.x_max),
      edge("box-y0", `${answer.embedding} 2 from`, info.y_min),
      edge("box-y1", `${answer.embedding} 2 to`, info.y_max),
    ];
    const typed = el(
      "form",
      { class: "inline", id: "box-form", onsubmit: (e) => {
        e.preventDefault();
        const [x0, x1, y0, y1] = edges.map((input) => Number(input.value === "" ? NaN : input.value));
        showBox({ x: [x0, x1], y: [y0, y1] });
      } },
      el("span", {}, "or type a box: "),
      edges[0], " – ", edges[1], " × ", edges[2], " – ", edges[3],
      el("button", { type: "submit", id: "box-submit" }, "Select"),
    );
    container.append(modes, typed, panel);
    const traced = parsePolygon(params.get("lasso"));
    if (traced) await showLasso(traced);
    else await showBox(parseRegion(params.get("region")));
  },
};

/**
 * A canvas over the chart's plot area: a pointer traced on it is drawn, then handed to `done` as a polygon
 * in the embedding's coordinates (Vega's x and y scales inverted: Vega-Lite names them after the spec, e.g.
 * `cells_x`). Hidden (box mode) until asked for.
 */
function lassoLayer(chart, view, name, done) {
  const plot = chart.querySelector("svg, canvas");
  const [ox, oy] = view.origin();
  const layer = /** @type {HTMLCanvasElement} */ (el("canvas", { id: "lasso-layer", class: "lasso", width: view.width(), height: view.height(), "aria-label": "Draw a lasso around cells" }));
  const chartBox = chart.getBoundingClientRect();
  const plotBox = plot.getBoundingClientRect();
  chart.style.position = "relative";
  Object.assign(layer.style, { position: "absolute", left: `${plotBox.left - chartBox.left + ox}px`, top: `${plotBox.top - chartBox.top + oy}px`, cursor: "crosshair", touchAction: "none" });
  layer.hidden = true;
  const pen = layer.getContext("2d");
  /** @type {[number, number][]} */
  let trace = [];
  layer.addEventListener("pointerdown", (event) => {
    try {
      layer.setPointerCapture(event.pointerId); // keep the trace when the pointer leaves the plot
    } catch {
      // a pointer the browser does not track (synthetic events) draws all the same
    }
    trace = [[event.offsetX, event.offsetY]];
    pen.clearRect(0, 0, layer.width, layer.height);
  });
  layer.addEventListener("pointermove", (event) => {
    if (!trace.length) return;
    const [px, py] = trace[trace.length - 1];
    trace.push([event.offsetX, event.offsetY]);
    pen.strokeStyle = "#D55E00";
    pen.lineWidth = 2;
    pen.beginPath();
    pen.moveTo(px, py);
    pen.lineTo(event.offsetX, event.offsetY);
    pen.stroke();
  });
  layer.addEventListener("pointerup", () => {
    const [x, y] = [view.scale(`${name}_x`), view.scale(`${name}_y`)];
    const polygon = lassoPolygon(trace, (px) => x.invert(px), (py) => y.invert(py));
    trace = [];
    done(polygon);
  });
  chart.append(layer);
  return layer;
}
