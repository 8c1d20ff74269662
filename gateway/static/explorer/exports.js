// What an exported chart says about itself: a title line (view, genes, groups, dataset) on the image, and a
// file name that says the same. Pure functions (no DOM), tested without a browser.

const TITLE_HEIGHT = 26;

function xmlText(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]);
}

/** An SVG document (Vega's `view.toSVG()`) with `title` written above the chart: the root grows by a title
 * line, the chart moves down by it. The title is text (escaped), never markup. */
export function titledSvg(svg, title) {
  const open = svg.match(/<svg\b[^>]*>/);
  if (!open || !title) return svg;
  const number = (name) => Number((open[0].match(new RegExp(`\\b${name}="([\\d.]+)"`)) || [])[1] || 0);
  const width = number("width");
  const height = number("height") + TITLE_HEIGHT;
  let root = open[0].replace(/\bheight="[\d.]+"/, `height="${height}"`);
  root = root.replace(/\bviewBox="([-\d.]+) ([-\d.]+) ([\d.]+) ([\d.]+)"/, (_m, x, y, w, h) => `viewBox="${x} ${y} ${w} ${Number(h) + TITLE_HEIGHT}"`);
  const end = svg.lastIndexOf("</svg>");
  const text = `<text x="8" y="17" font-family="system-ui, sans-serif" font-size="13" font-weight="bold" fill="#222">${xmlText(title)}</text>`;
  const background = `<rect width="${width}" height="${TITLE_HEIGHT}" fill="#ffffff"/>`;
  return `${svg.slice(0, open.index)}${root}${background}${text}<g transform="translate(0,${TITLE_HEIGHT})">${svg.slice(open.index + open[0].length, end)}</g></svg>${svg.slice(end + 6)}`;
}

/** "<view>: <genes> · <groups> · <dataset>" — the parts given, genes listed up to `maxGenes` then counted. */
export function chartTitle({ view, genes = [], groups = [], dataset = "" }, maxGenes = 8) {
  const listed = genes.length > maxGenes ? `${genes.slice(0, maxGenes).join(", ")} and ${genes.length - maxGenes} more` : genes.join(", ");
  const parts = [listed, [].concat(groups).filter(Boolean).join(" vs "), dataset ? `dataset ${dataset}` : ""].filter(Boolean);
  return parts.length ? `${view}: ${parts.join(" · ")}` : view;
}

/** A file name (without extension) naming the same: dataset, view, genes (up to `maxGenes`, then how many
 * more), groups; only letters, digits, '.', '_' and '-', at most 150 characters. */
export function chartFileName({ view, genes = [], groups = [], dataset = "" }, maxGenes = 6) {
  const more = genes.length > maxGenes ? [`and-${genes.length - maxGenes}-more`] : [];
  const parts = [dataset, view, ...genes.slice(0, maxGenes), ...more, ...[].concat(groups).filter(Boolean)];
  return parts.join("_").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/-{2,}/g, "-").replace(/^[-_]+|[-_]+$/g, "").slice(0, 150) || "genostream";
}
