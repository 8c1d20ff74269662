// The explorer's shell: the URL is the state (every view is a shareable link), the header picks the
// dataset, and each view renders itself from the URL's parameters.

import { api, cancelAll, wireCancelButton, isAbort, ApiError } from "./api.js";
import { fmt, valueKindText } from "./format.js";
import { el } from "./ui.js";
import { carry, contextOf, fitContext } from "./context.js";
import { filterPanel } from "./filters.js";
import { decodeWhere } from "./where.js";
import study from "./views/study.js";
import genes from "./views/genes.js";
import pair from "./views/pair.js";
import coexpression from "./views/coexpression.js";
import markers from "./views/markers.js";
import variability from "./views/variability.js";
import compare from "./views/compare.js";
import distribution from "./views/distribution.js";
import embedding from "./views/embedding.js";

const VIEWS = { study, genes, pair, coexpression, markers, variability, compare, distribution, embedding };

window.explorer = { charts: {}, timings: [], renders: 0 };

const state = { datasets: [], cellTypes: new Map(), metadata: new Map(), leftBehind: null };

function params() {
  return new URLSearchParams(window.location.search);
}

/** Go to `view` with `values` (arrays become repeated keys); the dataset always travels along. */
export function navigate(view, values = {}, { replace = false } = {}) {
  const next = new URLSearchParams({ view });
  const dataset = params().get("dataset") || (state.datasets[0] && state.datasets[0].dataset);
  if (dataset) next.set("dataset", dataset);
  for (const [key, value] of Object.entries(values)) {
    for (const item of [].concat(value)) {
      if (item !== null && item !== undefined && item !== "") next.append(key, item);
    }
  }
  const url = `?${next.toString()}`;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  render();
}

/** A link to `view` (an href for new tabs and copying; clicks stay in the page). */
export function link(view, values = {}) {
  const next = new URLSearchParams({ view });
  const dataset = params().get("dataset");
  if (dataset) next.set("dataset", dataset);
  for (const [key, value] of Object.entries(values)) {
    for (const item of [].concat(value)) if (item !== null && item !== undefined && item !== "") next.append(key, item);
  }
  return {
    href: `?${next.toString()}`,
    onclick: (event) => {
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1) return;
      event.preventDefault();
      navigate(view, values);
    },
  };
}

async function cellTypes(dataset) {
  if (!state.cellTypes.has(dataset)) {
    const found = await api(`/datasets/${encodeURIComponent(dataset)}/cell-types`);
    state.cellTypes.set(dataset, found.cell_types);
  }
  return state.cellTypes.get(dataset);
}

/** The dataset's metadata columns (what `where`, `by` and `compare_by` can name), asked once per dataset. */
async function metadata(dataset) {
  if (!state.metadata.has(dataset)) {
    const found = await api(`/datasets/${encodeURIComponent(dataset)}/metadata`);
    state.metadata.set(dataset, found.columns);
  }
  return state.metadata.get(dataset);
}

/** The URL values `view` takes over from the current URL (gene(s), cell type(s), filters: context.js). */
function carried(view) {
  return carry(contextOf(params()), (VIEWS[view] && VIEWS[view].carries) || []);
}

/** Another dataset, keeping the view and whatever of its context exists there. */
async function switchDataset(dataset) {
  const view = params().get("view") || "study";
  document.body.dataset.state = "loading";
  let values = {};
  try {
    const [types, columns] = await Promise.all([cellTypes(dataset), metadata(dataset)]);
    const context = contextOf(params());
    // A gene is kept when the new dataset has a gene of that name (beyond 50, the view reports unknown ones).
    const checked = context.genes.slice(0, 50);
    const found = await Promise.all(checked.map((gene) => api("/genes", { query: { prefix: gene, dataset, limit: 20 } })));
    const genes = new Set(checked.filter((gene, i) => found[i].genes.some((g) => g.gene.toUpperCase() === gene.toUpperCase())));
    const hasGene = (g) => genes.has(g) || !checked.includes(g);
    const fitted = fitContext(context, { hasGene, cellTypes: types.map((t) => t.cell_type), columns });
    values = carry(fitted.context, (VIEWS[view] && VIEWS[view].carries) || []);
    state.leftBehind = { dataset, items: fitted.dropped };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error; // the new dataset's view shows what is wrong
  }
  const next = new URLSearchParams({ view, dataset });
  for (const [key, value] of Object.entries(values)) for (const item of [].concat(value)) next.append(key, item);
  window.history.pushState(null, "", `?${next.toString()}`);
  render();
}

/** The header's links to the views. */
function viewLinks() {
  return /** @type {NodeListOf<HTMLAnchorElement>} */ (document.querySelectorAll("#nav a[data-view]"));
}

function header(dataset) {
  const select = document.getElementById("dataset");
  select.replaceChildren(...state.datasets.map((d) => el("option", { value: d.dataset, selected: d.dataset === dataset }, d.dataset)));
  const info = state.datasets.find((d) => d.dataset === dataset);
  document.getElementById("dataset-summary").textContent = info
    ? `${fmt.int(info.n_cells)} cells · ${fmt.int(info.n_genes)} genes · ${valueKindText(info.value_kind)}`
    : "";
  const view = params().get("view") || "study";
  for (const a of viewLinks()) {
    const next = new URLSearchParams({ view: a.dataset.view });
    if (dataset) next.set("dataset", dataset);
    for (const [key, value] of Object.entries(carried(a.dataset.view))) for (const item of [].concat(value)) next.append(key, item);
    a.href = `?${next.toString()}`;
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function render() {
  const started = performance.now();
  const renderId = ++window.explorer.renders;
  cancelAll();
  window.explorer.charts = {};
  const main = document.getElementById("main");
  const focusedId = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : null;
  document.body.dataset.state = "loading";
  delete document.body.dataset.drawing;
  const query = params();
  const viewName = VIEWS[query.get("view")] ? query.get("view") : "study";
  const view = VIEWS[viewName];
  document.body.dataset.view = viewName;
  try {
    if (!state.datasets.length) state.datasets = (await api("/datasets")).datasets;
    if (!state.datasets.length) {
      main.replaceChildren(el("div", { class: "error", role: "alert" }, "No dataset is loaded yet: load a study (python -m loader load DIR) and run dbt build."));
      document.body.dataset.state = "ready";
      return;
    }
    let dataset = query.get("dataset");
    if (!state.datasets.some((d) => d.dataset === dataset)) {
      dataset = state.datasets[0].dataset;
      const fixed = params();
      fixed.set("view", viewName);
      fixed.set("dataset", dataset);
      window.history.replaceState(null, "", `?${fixed.toString()}`);
    }
    header(dataset);
    document.title = `${view.title} · ${dataset} · genostream`;
    let filters = null;
    if (view.takesWhere) {
      const decoded = decodeWhere(query.get("where"));
      if (decoded.error) {
        main.replaceChildren(el("div", { class: "error", role: "alert" }, decoded.error));
        document.body.dataset.state = "ready";
        return;
      }
      const [columns] = await Promise.all([metadata(dataset), cellTypes(dataset)]); // one round trip, not two
      filters = { where: decoded.where, ...filterPanel({ columns, where: decoded.where }) };
    }
    const context = {
      dataset,
      metadata: () => metadata(dataset),
      filters,
      info: state.datasets.find((d) => d.dataset === dataset),
      datasets: state.datasets,
      cellTypes: await cellTypes(dataset),
      params: params(),
      navigate,
      link,
    };
    const container = el("section", { "aria-labelledby": "view-title" }, el("h2", { id: "view-title" }, view.title));
    main.replaceChildren(container);
    // Once, after switching dataset: what of the previous selection this dataset does not have.
    if (state.leftBehind && state.leftBehind.dataset === dataset && state.leftBehind.items.length) {
      container.append(el("p", { class: "note", id: "left-behind" }, `Not in ${dataset}, so left out: ${state.leftBehind.items.join(", ")}.`));
    }
    state.leftBehind = null;
    // A view may hand back `{ later }`: a part it draws after the view is usable (a background of every gene).
    const drawn = await view.render(container, context);
    if (renderId !== window.explorer.renders) return; // a newer navigation took over
    if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).focus();
    window.explorer.timings.push({ view: viewName, ms: performance.now() - started, sinceNavigation: performance.now() });
    document.body.dataset.state = "ready";
    if (drawn && drawn.later) await finishLater(drawn.later, renderId, viewName, started);
  } catch (error) {
    if (isAbort(error) || renderId !== window.explorer.renders) return;
    if (!(error instanceof ApiError)) throw error;
    main.replaceChildren(el("div", { class: "error", role: "alert" }, error.message));
    document.body.dataset.state = "ready";
  }
}

/** While a view's later part draws, body[data-drawing] is set; once drawn, a second timing entry (part "complete"). */
async function finishLater(later, renderId, viewName, started) {
  document.body.dataset.drawing = viewName;
  try {
    await later;
  } catch (error) {
    if (!isAbort(error) && !(error instanceof ApiError)) throw error;
  } finally {
    if (renderId === window.explorer.renders) {
      window.explorer.timings.push({ view: viewName, part: "complete", ms: performance.now() - started, sinceNavigation: performance.now() });
      delete document.body.dataset.drawing;
    }
  }
}

document.getElementById("dataset").addEventListener("change", (event) => {
  switchDataset(/** @type {HTMLSelectElement} */ (event.target).value);
});
for (const a of viewLinks()) {
  a.addEventListener("click", (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigate(a.dataset.view, carried(a.dataset.view));
  });
}
window.addEventListener("popstate", render);
wireCancelButton();
render();
