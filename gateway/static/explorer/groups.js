// A group of cells picked on the page: some cell types (none: every cell) and a metadata filter (filters.js),
// as POST /differential-expression's `group_a` / `group_b` take it. Two pickers share a page by their side.

import { fmt } from "./format.js";
import { filterPanel } from "./filters.js";
import { el } from "./ui.js";
import { cleanWhere } from "./where.js";

/**
 * @param {{side: string, legend: string, cellTypes: {cell_type: string, n_cells: number}[], chosen: string[],
 *   where: object | null, columns: any[]}} options
 * @returns {{node: HTMLElement, value: () => {cell_types: string[], where: object | null}}}
 */
export function groupPicker({ side, legend, cellTypes, chosen, where, columns }) {
  const boxes = cellTypes.map((ct) =>
    el("input", { type: "checkbox", name: `${side}_cell_types`, value: ct.cell_type, checked: chosen.includes(ct.cell_type) }),
  );
  const filters = filterPanel({ columns, where, prefix: `${side}_where`, legend: "and cells with" });
  const node = el(
    "fieldset",
    { class: "group-side", id: `group-${side}` },
    el("legend", {}, legend),
    el(
      "fieldset",
      { class: "cell-types" },
      el("legend", {}, "Cell types (none: any)"),
      el(
        "div",
        { class: "checks" },
        boxes.map((box, i) => el("label", {}, box, ` ${cellTypes[i].cell_type} `, el("span", { class: "muted" }, `(${fmt.int(cellTypes[i].n_cells)})`))),
      ),
    ),
    filters.node,
  );
  return {
    node,
    value: () => ({ cell_types: boxes.filter((b) => b.checked).map((b) => b.value), where: cleanWhere(filters.value()) }),
  };
}
