// Vega-Lite charts (specs.js builds them) drawn by vega-embed in one look (specs.js's THEME), kept in
// window.explorer.charts by name so they can be exported (and inspected from the console).

import { THEME } from "./specs.js";
import { titledSvg } from "./exports.js";

/**
 * Draw `spec` into `container` under `name`; returns the Vega view once it has rendered.
 * `onClick(datum)` is called when a mark with data is clicked (views also offer a keyboard path).
 */
export async function draw(name, container, spec, { onClick = null, renderer = "svg", description = "" } = {}) {
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", description, ...spec };
  // ast: Vega evaluates expressions with the interpreter vega-embed bundles, not `new Function` — the page's
  // Content-Security-Policy allows no 'unsafe-eval'.
  const { view } = await window.vegaEmbed(container, full, { actions: false, renderer, config: THEME, ast: true });
  if (onClick) {
    view.addEventListener("click", (_event, item) => {
      if (item && item.datum) onClick(item.datum);
    });
  }
  window.explorer.charts[name] = view;
  return view;
}

/** The chart as an SVG or PNG blob (rendered again at twice the size for PNG), `title` written above it. */
export async function exportChart(view, kind, title = "") {
  if (kind === "svg") return new Blob([titledSvg(await view.toSVG(), title)], { type: "image/svg+xml" });
  const chart = await view.toCanvas(2);
  const line = title ? 52 : 0;
  const canvas = document.createElement("canvas");
  canvas.width = chart.width;
  canvas.height = chart.height + line;
  const context = canvas.getContext("2d");
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  if (title) {
    context.fillStyle = "#222222";
    context.font = "bold 26px system-ui, sans-serif";
    context.fillText(title, 16, 34); // canvas text: the title is drawn as text, never parsed
  }
  context.drawImage(chart, 0, line);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}
