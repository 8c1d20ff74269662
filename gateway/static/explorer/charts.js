// Vega-Lite charts: one look for every view (colour-blind-safe palettes), drawn by vega-embed, kept in
// window.explorer.charts by name so they can be exported (and inspected from the console).

/** Okabe & Ito's eight colours, distinguishable with every common colour-vision deficiency. */
export const OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
/** Viridis, reversed so that more reads darker on white; perceptually uniform and colour-blind safe. */
export const SEQUENTIAL = { scheme: "viridis", reverse: true };
export const HIGHLIGHT = { up: "#D55E00", down: "#0072B2", other: "#BBBBBB" };

const CONFIG = {
  font: "system-ui, -apple-system, 'Segoe UI', sans-serif",
  background: "#ffffff",
  range: { category: OKABE_ITO },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#eeeeee" },
  legend: { labelFontSize: 11, titleFontSize: 11 },
  view: { stroke: null },
};

/**
 * Draw `spec` into `container` under `name`; returns the Vega view once it has rendered.
 * `onClick(datum)` is called when a mark with data is clicked (views also offer a keyboard path).
 */
export async function draw(name, container, spec, { onClick = null, renderer = "svg", description = "" } = {}) {
  const full = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", description, ...spec };
  const { view } = await window.vegaEmbed(container, full, { actions: false, renderer, config: CONFIG });
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
