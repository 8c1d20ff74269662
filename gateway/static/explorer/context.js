// What carries over when the user switches view or dataset: the gene(s), the cell type(s) and the filters.
// Each view declares the URL parameters it takes (`carries`, from CARRIED below); the context read from one
// view's URL fills the next view's. Pure functions, no DOM (node-tested); main.js fetches what fitting the
// context to another dataset needs.

import { decodeWhere, encodeWhere, fitWhere } from "./where.js";

/** The parameters a view can take over from another (the names its URL uses). */
export const CARRIED = ["genes", "gene", "gene_a", "gene_b", "cell_type", "cell_types", "a_cell_types", "where", "a_where"];

/**
 * The context of a view's URL: {genes, cellTypes, where} (where as the URL's text). Genes in the order the
 * view shows them (a list, A then B, or one gene); cell types likewise (the compare view's group A counts).
 * @param {URLSearchParams} params
 */
export function contextOf(params) {
  // A dot plot's list may hold "#group" labels (genelist.js): labels, not genes, so they do not travel.
  const genes = [...params.getAll("genes").filter((g) => !g.startsWith("#")), params.get("gene_a"), params.get("gene_b"), params.get("gene")];
  const cellTypes = [...params.getAll("cell_types"), ...params.getAll("a_cell_types"), params.get("cell_type")];
  const present = (list) => [...new Set(list.filter((v) => v !== null && v !== undefined && v.trim() !== ""))];
  return { genes: present(genes), cellTypes: present(cellTypes), where: params.get("where") || params.get("a_where") || "" };
}

/**
 * The URL values of a view that takes the parameters `carries`, from `context`.
 * @param {{genes: string[], cellTypes: string[], where: string}} context
 * @param {string[]} carries
 */
export function carry(context, carries = []) {
  const { genes, cellTypes, where } = context;
  /** @type {Record<string, string | string[]>} */
  const values = {};
  const takes = new Set(carries);
  if (takes.has("genes") && genes.length) values.genes = genes;
  if (takes.has("gene_a") && genes[0]) values.gene_a = genes[0];
  if (takes.has("gene_b") && genes[1]) values.gene_b = genes[1];
  if (takes.has("gene") && genes[0]) values.gene = genes[0];
  if (takes.has("cell_types") && cellTypes.length) values.cell_types = cellTypes;
  if (takes.has("a_cell_types") && cellTypes.length) values.a_cell_types = cellTypes;
  if (takes.has("cell_type") && cellTypes[0]) values.cell_type = cellTypes[0];
  if (takes.has("where") && where) values.where = where;
  if (takes.has("a_where") && where) values.a_where = where; // the compare view's group A
  return values;
}

/**
 * The context as it applies to another dataset: the genes it has (`hasGene(name)`), its cell types and its
 * metadata columns (the metadata endpoint's); {context, dropped: [what was left behind]}.
 * @param {{genes: string[], cellTypes: string[], where: string}} context
 * @param {{hasGene: (name: string) => boolean, cellTypes: string[], columns: any[]}} dataset
 */
export function fitContext(context, { hasGene, cellTypes, columns }) {
  const genes = context.genes.filter((g) => hasGene(g));
  const known = new Set(cellTypes);
  const types = context.cellTypes.filter((c) => known.has(c));
  const decoded = decodeWhere(context.where);
  const fitted = fitWhere(decoded.where, columns);
  const dropped = [
    ...context.genes.filter((g) => !genes.includes(g)),
    ...context.cellTypes.filter((c) => !types.includes(c)),
    ...(decoded.error ? ["where"] : fitted.dropped),
  ];
  return { context: { genes, cellTypes: types, where: encodeWhere(fitted.where) }, dropped };
}
