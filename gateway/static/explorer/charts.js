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
  fullLabelsOnHover(container, view);
  window.explorer.charts[name] = view;
  return view;
}

/**
 * An axis label drawn cut or wrapped (the dot plot's long cell-type names) shows its full value on hover, as
 * the chart's title (the browser's own tooltip; SVG and canvas alike). Vega-Lite cannot do this itself: it
 * drops `tooltip` from an axis's label encoding and never makes axis labels interactive.
 */
function fullLabelsOnHover(container, view) {
  container.addEventListener("pointermove", (event) => {
    const full = cutLabelAt(container, view, event.clientX, event.clientY);
    if (full !== null) container.title = full;
    else container.removeAttribute("title");
  });
  container.addEventListener("pointerleave", () => container.removeAttribute("title"));
}

/** The full value of the axis label under the client point when the label shows less or otherwise; else null. */
function cutLabelAt(container, view, clientX, clientY) {
  const surface = container.querySelector("svg, canvas");
  if (!surface) return null;
  const box = surface.getBoundingClientRect();
  const [ox, oy] = view.origin();
  const x = clientX - box.left - ox;
  const y = clientY - box.top - oy;
  let found = null;
  // Items' bounds are in their group's frame: descending into a group item adds its offset.
  (function walk(mark, dx, dy) {
    for (const item of (mark && mark.items) || []) {
      if (found !== null) return;
      const b = item.bounds;
      if (mark.role === "axis-label" && item.datum && b && x >= b.x1 + dx && x <= b.x2 + dx && y >= b.y1 + dy && y <= b.y2 + dy) {
        const full = String(item.datum.value);
        if ([].concat(item.text).filter(Boolean).join(" ") !== full) found = full;
      }
      const inner = mark.marktype === "group" ? [dx + (item.x || 0), dy + (item.y || 0)] : [dx, dy];
      for (const child of item.items || []) walk(child, inner[0], inner[1]);
    }
  })(view.scenegraph().root, 0, 0);
  return found;
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
