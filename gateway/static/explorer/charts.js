// Vega-Lite charts (specs.js builds them) drawn by vega-embed in one look (specs.js's THEME), kept in
// window.explorer.charts by name so they can be exported (and inspected from the console).

import { THEME } from "./specs.js";

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

/** The chart as an SVG or PNG blob (rendered again at twice the size for PNG). */
export async function exportChart(view, kind) {
  if (kind === "svg") return new Blob([await view.toSVG()], { type: "image/svg+xml" });
  const url = await view.toImageURL("png", 2);
  return (await fetch(url)).blob();
}
