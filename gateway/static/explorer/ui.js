// Small DOM helpers shared by the views: elements, forms, gene inputs with autocomplete, cell-type pickers,
// inline errors with clickable suggestions, sortable tables and download buttons.

import { api, ApiError, download, isAbort } from "./api.js";
import { toCsv } from "./csv.js";
import { exportChart } from "./charts.js";
import { fmt } from "./format.js";
import { encodeWhere } from "./where.js";

/** el("div", {class: "x", onclick: f}, child, "text", ...) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Gene names from pasted text: commas, semicolons, spaces, tabs or new lines between them. */
export function splitGenes(text) {
  return [...new Set((text || "").split(/[\s,;]+/).map((g) => g.trim()).filter(Boolean))];
}

let datalistCounter = 0;

/** A text input that suggests gene symbols from /genes?prefix= as the user types (native datalist). */
export function geneInput({ id, label, value = "", dataset, required = false, onEnter = null }) {
  const listId = `genes-list-${++datalistCounter}`;
  const list = el("datalist", { id: listId });
  const input = el("input", {
    id,
    name: id,
    type: "text",
    value,
    list: listId,
    autocomplete: "off",
    spellcheck: "false",
    required,
    placeholder: "type a gene, e.g. EPC…",
  });
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const prefix = input.value.trim();
    if (!prefix || prefix === asked) return;
    timer = setTimeout(async () => {
      asked = prefix;
      try {
        const found = await api("/genes", { query: { prefix, dataset, limit: 20 } });
        list.replaceChildren(...found.genes.map((g) => el("option", { value: g.gene }, g.match === "similar" ? `similar name · ${g.gene_id}` : g.gene_id)));
      } catch (error) {
        if (!isAbort(error)) list.replaceChildren();
      }
    }, 120);
  });
  if (onEnter) {
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        onEnter(input.value.trim());
      }
    });
  }
  return { input, node: el("label", { class: "field" }, el("span", {}, label), input, list) };
}

/** Checkboxes for the dataset's cell types (with cell counts); none checked means every cell. */
export function cellTypePicker({ cellTypes, chosen = [], legend = "Cell types (none: every cell)" }) {
  const boxes = cellTypes.map((ct) =>
    el("input", { type: "checkbox", name: "cell_types", value: ct.cell_type, checked: chosen.includes(ct.cell_type) }),
  );
  const node = el(
    "fieldset",
    { class: "cell-types" },
    el("legend", {}, legend),
    el(
      "div",
      { class: "checks" },
      boxes.map((box, i) => el("label", {}, box, ` ${cellTypes[i].cell_type} `, el("span", { class: "muted" }, `(${fmt.int(cellTypes[i].n_cells)})`))),
    ),
  );
  return { node, value: () => boxes.filter((b) => b.checked).map((b) => b.value) };
}

/**
 * Which cells a view of single cells draws, and how: the cell-type picker, the filter panel (`filters`) and
 * "Draw cells as" — points up to `maxPoints` cells, else `binned` ([value, label]: the embedding's grid, the
 * two-gene view's density). `display` is the URL's value read back ("auto" unless it names the binned one);
 * `nodes` go into the view's form in this order; `value()` is their part of the view's next URL.
 */
export function cellsControls({ id, requested, binned: [binnedValue, binnedLabel], maxPoints, cellTypes, chosen, filters }) {
  const display = requested === binnedValue ? binnedValue : "auto";
  const displaySelect = el(
    "select",
    { id, name: "display" },
    el("option", { value: "auto", selected: display === "auto" }, `points (up to ${fmt.int(maxPoints)} cells)`),
    el("option", { value: binnedValue, selected: display === binnedValue }, binnedLabel),
  );
  const picker = cellTypePicker({ cellTypes, chosen });
  return {
    display,
    nodes: [el("label", { class: "field" }, el("span", {}, "Draw cells as"), displaySelect), picker.node, filters.node],
    value: () => ({ cell_types: picker.value(), display: displaySelect.value, where: encodeWhere(filters.value()) }),
  };
}

/** A select of the dataset's cell types. */
export function cellTypeSelect({ id, label, cellTypes, value }) {
  const select = el(
    "select",
    { id, name: id },
    cellTypes.map((ct) => el("option", { value: ct.cell_type, selected: ct.cell_type === value }, `${ct.cell_type} (${fmt.int(ct.n_cells)})`)),
  );
  return { select, node: el("label", { class: "field" }, el("span", {}, label), select) };
}

/**
 * The API's error, inline, with its suggestions as buttons: `onSuggestion(name, error)` reruns with it
 * (error.field names the request field, error.value the name that was not found).
 * Aborted requests (the user moved on) show nothing.
 */
export function errorBox(error, onSuggestion = null) {
  if (isAbort(error)) return el("span");
  if (!(error instanceof ApiError)) throw error;
  const box = el("div", { class: "error", role: "alert" }, el("strong", {}, "The gateway says: "), error.message);
  if (error.suggestions.length && onSuggestion) {
    box.append(
      el(
        "div",
        { class: "suggestions" },
        "Use instead: ",
        error.suggestions.map((s) => el("button", { type: "button", class: "suggestion", onclick: () => onSuggestion(s, error) }, s)),
      ),
    );
  }
  return box;
}

/**
 * What the gateway made of the gene names it was given (a response's `resolved` and `unknown` lists): the
 * names it read as another symbol, and every unknown one with its suggestions as buttons. Empty when there is
 * nothing to say.
 */
export function geneReport({ resolved = [], unknown = [] }, onSuggestion = null) {
  const box = el("div", { class: "gene-report", id: "gene-report" });
  if (unknown.length) {
    box.append(
      el(
        "div",
        { class: "notice", role: "status", id: "genes-unknown" },
        el("strong", {}, `Not found in this dataset (${unknown.length}): `),
        el(
          "ul",
          {},
          unknown.map((u) =>
            el(
              "li",
              { "data-gene": u.given },
              el("code", {}, u.given),
              u.suggestions.length ? " — did you mean " : " — no similar gene",
              u.suggestions.map((s) => (onSuggestion ? el("button", { type: "button", class: "suggestion", onclick: () => onSuggestion(s, u.given) }, s) : el("code", {}, s))),
            ),
          ),
        ),
      ),
    );
  }
  if (resolved.length) {
    box.append(
      el(
        "p",
        { class: "muted", id: "genes-resolved" },
        "Read as: ",
        resolved.map((r, i) => el("span", {}, i ? ", " : "", el("code", {}, r.given), " → ", el("code", {}, r.gene))),
      ),
    );
  }
  return box;
}

/**
 * A sortable table. columns: [{key, label, format?, numeric?, link?(row) -> {href, onclick}}].
 * Shows `pageSize` rows, more on request; sorting by a header button keeps it keyboard-usable.
 */
export function sortableTable({ columns, rows, sortKey = null, descending = true, pageSize = 100, caption = "", id = null }) {
  let key = sortKey;
  let desc = descending;
  let shown = pageSize;
  const table = el("table", { class: "data", id });
  const wrap = el("div", { class: "table-wrap" }, table);
  const more = el("button", { type: "button", class: "more" }, "");

  function sorted() {
    if (!key) return rows;
    const col = columns.find((c) => c.key === key);
    const sign = desc ? -1 : 1;
    return [...rows].sort((a, b) => {
      const x = a[key];
      const y = b[key];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1; // missing values last either way
      if (y === null || y === undefined) return -1;
      return (col && col.numeric ? x - y : String(x).localeCompare(String(y))) * sign;
    });
  }

  function draw() {
    const head = el(
      "tr",
      {},
      columns.map((c) => {
        const state = c.key === key ? (desc ? "descending" : "ascending") : "none";
        const button = el("button", { type: "button", "data-key": c.key, onclick: () => { desc = c.key === key ? !desc : Boolean(c.numeric); key = c.key; draw(); table.querySelector(`th button[data-key="${c.key}"]`).focus(); } }, c.label, el("span", { class: "arrow", "aria-hidden": "true" }, state === "none" ? "" : desc ? " ▼" : " ▲"));
        return el("th", { scope: "col", "aria-sort": state, class: c.numeric ? "num" : "" }, button);
      }),
    );
    const body = sorted().slice(0, shown).map((row) =>
      el(
        "tr",
        {},
        columns.map((c) => {
          const text = c.format ? c.format(row[c.key], row) : row[c.key];
          const link = c.link ? c.link(row) : null;
          const content = link ? el("a", { href: link.href, onclick: link.onclick }, text) : text;
          return el("td", { class: c.numeric ? "num" : "" }, content);
        }),
      ),
    );
    table.replaceChildren(
      ...(caption ? [el("caption", {}, caption)] : []),
      el("thead", {}, head),
      el("tbody", {}, body),
    );
    more.hidden = rows.length <= shown;
    more.textContent = `Show ${Math.min(pageSize, rows.length - shown)} more of ${fmt.int(rows.length - shown)}`;
  }
  more.addEventListener("click", () => { shown += pageSize; draw(); });
  draw();
  return el("div", {}, wrap, more);
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** "Download CSV / .h5ad / SVG / PNG" buttons for one view: the rows as CSV, the expression of the view's genes
 * in its cells as AnnData (`anndata`: { dataset, genes, cellTypes, where }, for scanpy), the chart as an image. */
export function downloads({ name, rows, columns, chart, anndata = null, title = "" }) {
  // Exported images carry a title line: the view's own, else its heading and the file's name.
  const heading = title || [document.getElementById("view-title")?.textContent, name].filter(Boolean).join(" · ");
  const buttons = [
    el("button", { type: "button", onclick: () => saveBlob(new Blob([toCsv(rows, columns)], { type: "text/csv" }), `${name}.csv`) }, "Download CSV"),
  ];
  if (anndata && anndata.genes.length) {
    const problem = el("span", {});
    const body = { dataset: anndata.dataset, gene_names: [...new Set(anndata.genes)].slice(0, 500), cell_types: anndata.cellTypes || [] };
    if (anndata.where) body.where = anndata.where; // the view's metadata filter (where.js)
    const save = async () => {
      problem.replaceChildren();
      try {
        saveBlob(await download("/expression-matrix", body, "application/x-hdf5"), `${name}.h5ad`);
      } catch (error) {
        if (!isAbort(error)) problem.replaceChildren(errorBox(error));
      }
    };
    buttons.push(el("button", { type: "button", title: "The expression of these genes in these cells, for anndata.read_h5ad / scanpy", onclick: save }, "Download .h5ad"), problem);
  }
  if (chart) {
    for (const kind of ["svg", "png"]) {
      buttons.push(
        el("button", {
          type: "button",
          onclick: async () => {
            const view = typeof chart === "function" ? chart() : chart; // a function: a chart drawn later
            if (view) saveBlob(await exportChart(view, kind, heading), `${name}.${kind}`);
          },
        }, `Download ${kind.toUpperCase()}`),
      );
    }
  }
  return el("div", { class: "downloads" }, buttons);
}

/** A file-name-safe slug. */
export function slug(...parts) {
  return parts.flat().join("_").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-|-$/g, "").slice(0, 120) || "genostream";
}
