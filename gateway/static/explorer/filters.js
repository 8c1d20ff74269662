// The filter panel: the dataset's metadata columns (GET /datasets/{d}/metadata) as checkable values with their
// cell counts (group columns) or min/max inputs (numeric columns), read back as the API's `where` (where.js).
// It sits inside a view's form, so it applies with the view's own button or Enter like every other control.
// Parts of a selection the panel cannot show (a column it does not list, an embedding's polygon) are kept,
// each with a box to drop it.

import { fmt } from "./format.js";
import { el } from "./ui.js";
import { cleanWhere, countWhere, describeWhere, distinctColumns, isRange } from "./where.js";

/**
 * @param {{columns: any[], where: object | null, prefix?: string, legend?: string, open?: boolean}} options
 *   prefix names the inputs (`${prefix}:${column}`) so two panels can share a page.
 * @returns {{node: HTMLElement, value: () => object | null}}
 */
export function filterPanel({ columns: all, where, prefix = "where", legend = "Filter cells by metadata", open = false }) {
  const chosen = cleanWhere(where) || {};
  const columns = distinctColumns(all, Object.keys(chosen)); // not the metadata's own copy of cell_type / sample
  /** @type {(() => [string, any] | null)[]} */
  const readers = [];
  const groups = [];
  for (const column of columns) {
    const current = chosen[column.name];
    if (column.kind === "numeric") {
      const range = isRange(current) ? current : {};
      const bound = (side) =>
        el("input", {
          type: "number",
          step: "any",
          name: `${prefix}:${column.name}:${side}`,
          "aria-label": `${column.name} ${side}`,
          value: typeof range[side] === "number" ? range[side] : "",
          placeholder: fmt.num(side === "min" ? column.min : column.max),
        });
      const low = bound("min");
      const high = bound("max");
      readers.push(() => {
        const value = {};
        if (low.value.trim() !== "" && Number.isFinite(Number(low.value))) value.min = Number(low.value);
        if (high.value.trim() !== "" && Number.isFinite(Number(high.value))) value.max = Number(high.value);
        return Object.keys(value).length ? [column.name, value] : null;
      });
      groups.push(
        el(
          "fieldset",
          { class: "filter numeric" },
          el("legend", {}, column.name, el("span", { class: "muted" }, ` (${fmt.num(column.min)} – ${fmt.num(column.max)}, ${fmt.int(column.cells)} cells)`)),
          el("label", {}, "min ", low),
          el("label", {}, " max ", high),
        ),
      );
    } else {
      const picked = Array.isArray(current) ? current : [];
      const listed = (column.values || []).map((v) => ({ value: v.value, cells: v.cells }));
      // A chosen value beyond the listed ones (the list is capped) stays on the page, checked.
      for (const value of picked) if (!listed.some((v) => v.value === value)) listed.push({ value, cells: null });
      const boxes = listed.map((v) => el("input", { type: "checkbox", name: `${prefix}:${column.name}`, value: v.value, checked: picked.includes(v.value) }));
      readers.push(() => {
        const values = boxes.filter((b) => b.checked).map((b) => b.value);
        return values.length ? [column.name, values] : null;
      });
      groups.push(
        el(
          "fieldset",
          { class: "filter group" },
          el("legend", {}, column.name),
          el(
            "div",
            { class: "checks" },
            boxes.map((box, i) =>
              el("label", {}, box, ` ${listed[i].value} `, listed[i].cells === null ? null : el("span", { class: "muted" }, `(${fmt.int(listed[i].cells)})`)),
            ),
            column.n_more_values ? el("span", { class: "muted" }, `… ${fmt.int(column.n_more_values)} more values not listed`) : null,
          ),
        ),
      );
    }
  }
  // What the panel has no input for is kept as it came, unless unticked.
  const listedNames = new Set(columns.map((c) => c.name));
  const others = Object.entries(chosen).filter(([name]) => !listedNames.has(name));
  for (const [name, value] of others) {
    const keep = el("input", { type: "checkbox", name: `${prefix}:${name}`, value: "keep", checked: true });
    readers.push(() => (keep.checked ? [name, value] : null));
    groups.push(el("fieldset", { class: "filter other" }, el("legend", {}, name), el("label", {}, keep, ` keep: ${describeWhere({ [name]: value })}`)));
  }
  const value = () => cleanWhere(Object.fromEntries(readers.map((read) => read()).filter(Boolean)));
  const active = countWhere(chosen);
  const summary = el("summary", {}, legend, el("span", { class: "muted" }, active ? ` — ${describeWhere(chosen)}` : " — every cell"));
  const clear = el("button", {
    type: "button",
    class: "clear-filters",
    onclick: () => {
      for (const input of node.querySelectorAll("input")) {
        const box = /** @type {HTMLInputElement} */ (input);
        if (box.type === "checkbox") box.checked = false;
        else box.value = "";
      }
    },
  }, "Clear filters");
  const node = el(
    "details",
    { class: "filters", open: open || active > 0, "data-prefix": prefix },
    summary,
    columns.length || others.length
      ? el("div", { class: "filter-columns" }, groups, clear)
      : el("p", { class: "muted" }, "This dataset has no metadata columns to filter by."),
    el("p", { class: "muted" }, "Values of a column: any of them; columns: all of them. Applies with the view's button or Enter."),
  );
  return { node, value };
}
