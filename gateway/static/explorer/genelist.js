// A pasted gene list: genes separated by spaces, commas, semicolons or lines, and `#group` lines that label
// the genes after them (CELLxGENE's and scanpy's var_group_labels). Pure functions, tested without a browser.

/**
 * The list's tokens in order: each gene once (its first place), each `#label` line as "#label".
 * @param {string} text
 * @returns {string[]}
 */
export function parseGeneList(text) {
  const tokens = [];
  const seen = new Set();
  for (const line of (text || "").split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed.startsWith("#")) {
      const label = trimmed.slice(1).trim();
      if (label) tokens.push(`#${label}`);
      continue;
    }
    for (const gene of trimmed.split(/[\s,;]+/)) {
      if (gene && !seen.has(gene)) {
        seen.add(gene);
        tokens.push(gene);
      }
    }
  }
  // A label with no gene after it labels nothing.
  return tokens.filter((t, i) => !t.startsWith("#") || (i + 1 < tokens.length && !tokens[i + 1].startsWith("#")));
}

/**
 * Genes and their groups from tokens (parseGeneList's, or a URL's repeated `genes`): {genes, groups}, where
 * groups maps a gene (as given) to its label, or is null when the list has no `#group` line.
 * @param {string[]} tokens
 */
export function geneGroups(tokens) {
  const genes = [];
  const groups = {};
  let label = null;
  for (const token of tokens) {
    if (token.startsWith("#")) label = token.slice(1);
    else {
      genes.push(token);
      if (label !== null) groups[token] = label;
    }
  }
  return { genes, groups: Object.keys(groups).length ? groups : null };
}

/** Tokens back as the text of the list: one line per group, genes separated by spaces. */
export function formatGeneList(tokens) {
  return tokens.map((t, i) => (t.startsWith("#") ? `${i ? "\n" : ""}${t}\n` : `${t} `)).join("").trim().replace(/ \n/g, "\n");
}

/** The groups keyed by the genes the gateway resolved them to (`resolved`: [{given, gene}]). */
export function resolvedGroups(groups, resolved) {
  if (!groups) return null;
  const out = { ...groups };
  for (const { given, gene } of resolved) if (given in groups && !(gene in out)) out[gene] = groups[given];
  return out;
}
