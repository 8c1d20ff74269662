// Study: what is loaded — datasets, cells per cell type, genes, value kind, when loaded.

import { draw } from "../charts.js";
import { fmt } from "../format.js";
import { studySpec } from "../specs.js";
import { el, sortableTable, downloads, slug } from "../ui.js";

export default {
  title: "Study",
  async render(container, { dataset, info, datasets, cellTypes, link, navigate }) {
    container.append(
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "Dataset"), el("dd", { id: "fact-dataset" }, dataset),
        el("dt", {}, "Cells"), el("dd", { id: "fact-cells" }, fmt.int(info.n_cells)),
        el("dt", {}, "Genes"), el("dd", { id: "fact-genes" }, fmt.int(info.n_genes)),
        el("dt", {}, "Non-zero values"), el("dd", {}, fmt.int(info.nnz)),
        el("dt", {}, "Values"), el("dd", {}, info.value_kind === "counts" ? "counts (log-normalised for statistics)" : info.value_kind),
        el("dt", {}, "Loaded"), el("dd", {}, info.loaded_at),
        el("dt", {}, "Cell types"), el("dd", {}, fmt.int(cellTypes.length)),
      ),
    );
    const rows = [...cellTypes].sort((a, b) => b.n_cells - a.n_cells || a.cell_type.localeCompare(b.cell_type));
    const chart = el("div", { class: "chart", id: "chart-study" });
    container.append(el("h3", {}, "Cells per cell type"), chart);
    const view = await draw(
      "study",
      chart,
      studySpec(rows),
      { description: `Number of cells per cell type in ${dataset}`, onClick: (d) => navigate("markers", { cell_type: d.cell_type }) },
    );
    container.append(
      downloads({ name: slug(dataset, "cell-types"), rows, columns: ["cell_type", "n_cells"], chart: view }),
      sortableTable({
        columns: [
          { key: "cell_type", label: "cell type", link: (r) => link("markers", { cell_type: r.cell_type }) },
          { key: "n_cells", label: "cells", numeric: true, format: fmt.int },
        ],
        rows,
        sortKey: "n_cells",
        caption: "Each cell type links to its markers.",
        id: "cell-types-table",
      }),
    );
    if (datasets.length > 1) {
      const choose = (name) => ({
        href: `?view=study&dataset=${encodeURIComponent(name)}`,
        onclick: (event) => {
          event.preventDefault();
          const select = /** @type {HTMLSelectElement} */ (document.getElementById("dataset"));
          select.value = name;
          select.dispatchEvent(new Event("change"));
        },
      });
      container.append(
        el("h3", {}, "Loaded datasets"),
        sortableTable({
          columns: [
            { key: "dataset", label: "dataset", link: (r) => choose(r.dataset) },
            { key: "n_cells", label: "cells", numeric: true, format: fmt.int },
            { key: "n_genes", label: "genes", numeric: true, format: fmt.int },
            { key: "nnz", label: "non-zero values", numeric: true, format: fmt.int },
            { key: "value_kind", label: "values" },
            { key: "loaded_at", label: "loaded" },
          ],
          rows: datasets,
          id: "datasets-table",
        }),
      );
    }
  },
};
