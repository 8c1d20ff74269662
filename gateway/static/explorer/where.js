// The cell selection every question can take (the API's `where`): metadata column → accepted values (a group
// column) or {min, max} (a numeric column, inclusive, either bound optional). Pure functions, no DOM: the URL
// carries it JSON-encoded (`where=`), the filter panel (filters.js) reads and writes it, node tests check it.
// Any other object under a column (say an embedding's {"polygon": [[x, y], …]}) is passed through untouched:
// the gateway is the judge of what it accepts.

/** @typedef {{min?: number | null, max?: number | null}} Range */
/** @typedef {Record<string, string[] | Range | object>} Where */

/** Whether `value` is a numeric range: an object whose only keys are min and/or max, numbers or null. */
export function isRange(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => (k === "min" || k === "max") && (value[k] === null || typeof value[k] === "number"));
}

/**
 * The selection without what selects nothing: empty value lists and ranges without a bound are dropped,
 * null bounds removed; anything else is kept as it is. null when nothing is left.
 * @param {Where | null | undefined} where
 * @returns {Where | null}
 */
export function cleanWhere(where) {
  if (!where) return null;
  /** @type {Where} */
  const kept = {};
  for (const [column, value] of Object.entries(where)) {
    if (Array.isArray(value)) {
      if (value.length) kept[column] = [...new Set(value.map(String))];
    } else if (isRange(value)) {
      const range = {};
      if (typeof value.min === "number") range.min = value.min;
      if (typeof value.max === "number") range.max = value.max;
      if (Object.keys(range).length) kept[column] = range;
    } else if (value && typeof value === "object" && Object.keys(value).length) {
      kept[column] = value; // another shape (an embedding's polygon, …): the gateway judges it
    }
  }
  return Object.keys(kept).length ? kept : null;
}

/** The URL parameter's text: JSON of the cleaned selection, "" when it selects every cell. */
export function encodeWhere(where) {
  const clean = cleanWhere(where);
  return clean ? JSON.stringify(clean) : "";
}

/**
 * The selection a URL parameter holds: {where, error}. Empty text is no selection; text that is not a JSON
 * object, or a column whose value is neither a list, a range nor another object, is an error naming it
 * (`name` is the parameter's name for the message).
 * @returns {{where: Where | null, error: string | null}}
 */
export function decodeWhere(text, name = "where") {
  if (text === null || text === undefined || text.trim() === "") return { where: null, error: null };
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { where: null, error: `${name}: not JSON — it must be an object like {"condition": ["a"], "pct_mito": {"max": 5}}` };
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { where: null, error: `${name}: must be a JSON object (column → list of values or {"min", "max"})` };
  }
  for (const [column, value] of Object.entries(parsed)) {
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string" || typeof v === "number")) {
        return { where: null, error: `${name}.${column}: the list must hold values (text), not ${JSON.stringify(value).slice(0, 60)}` };
      }
    } else if (!value || typeof value !== "object") {
      return { where: null, error: `${name}.${column}: must be a list of values or {"min", "max"}, not ${JSON.stringify(value)}` };
    } else if (Object.keys(value).length && Object.keys(value).every((k) => k === "min" || k === "max") && !isRange(value)) {
      return { where: null, error: `${name}.${column}: min and max must be numbers` };
    }
  }
  return { where: cleanWhere(parsed), error: null };
}

/** How many columns the selection restricts. */
export function countWhere(where) {
  return Object.keys(cleanWhere(where) || {}).length;
}

/** The selection in words, for headings and file titles: "condition: a, b · pct_mito ≤ 5". */
export function describeWhere(where) {
  const clean = cleanWhere(where);
  if (!clean) return "";
  return Object.entries(clean)
    .map(([column, value]) => {
      if (Array.isArray(value)) return `${column}: ${value.join(", ")}`;
      if (isRange(value)) {
        const range = /** @type {Range} */ (value);
        if (typeof range.min === "number" && typeof range.max === "number") return `${range.min} ≤ ${column} ≤ ${range.max}`;
        return typeof range.min === "number" ? `${column} ≥ ${range.min}` : `${column} ≤ ${range.max}`;
      }
      return `${column}: ${Object.keys(value).join(", ") || "selection"}`;
    })
    .join(" · ");
}

/**
 * The selection as it can apply to another dataset whose metadata columns are `columns` (the metadata
 * endpoint's): group values kept where the column lists them (all kept when its list is capped), ranges kept
 * on numeric columns; the rest dropped. {where, dropped: ["column", "column: value", …]}.
 * @param {Where | null} where
 * @param {{name: string, kind: string, values?: {value: string}[] | null, n_more_values?: number | null}[]} columns
 */
export function fitWhere(where, columns) {
  const clean = cleanWhere(where);
  /** @type {string[]} */
  const dropped = [];
  if (!clean) return { where: null, dropped };
  const byName = new Map(columns.map((c) => [c.name, c]));
  /** @type {Where} */
  const kept = {};
  for (const [name, value] of Object.entries(clean)) {
    const column = byName.get(name);
    if (!column) {
      dropped.push(name);
    } else if (Array.isArray(value)) {
      if (column.kind !== "group") {
        dropped.push(name);
        continue;
      }
      const known = new Set((column.values || []).map((v) => v.value));
      const capped = (column.n_more_values || 0) > 0;
      const values = value.filter((v) => capped || known.has(v));
      for (const v of value) if (!values.includes(v)) dropped.push(`${name}: ${v}`);
      if (values.length) kept[name] = values;
    } else if (isRange(value) && column.kind === "numeric") {
      kept[name] = value;
    } else {
      dropped.push(name);
    }
  }
  return { where: Object.keys(kept).length ? kept : null, dropped };
}

/**
 * The selection with the gateway's suggestion applied: for an error on `where` (an unknown column `value`)
 * the column renamed, on `where.<column>` (an unknown value) the value replaced. `field` may carry a prefix
 * (`group_a.where.donor`: pass `prefix` "group_a."). null when the error is not about this selection.
 * @param {Where | null} where
 * @returns {Where | null}
 */
export function correctWhere(where, { field, value }, suggestion, prefix = "") {
  const clean = cleanWhere(where);
  if (!clean || !field || !field.startsWith(`${prefix}where`)) return null;
  const rest = field.slice(`${prefix}where`.length);
  if (rest === "" && value in clean) {
    return Object.fromEntries(Object.entries(clean).map(([k, v]) => [k === value ? suggestion : k, v]));
  }
  const column = rest.startsWith(".") ? rest.slice(1) : null;
  if (column && Array.isArray(clean[column])) {
    return { ...clean, [column]: clean[column].map((v) => (v === value ? suggestion : v)) };
  }
  return null;
}

/**
 * The metadata columns without a study's own column that repeats a designated one (the metadata file's cell
 * type column is `cell_type` too: same values, same counts), unless it is one of `keep` (in use).
 * @param {any[]} columns the metadata endpoint's
 * @param {string[]} keep
 */
export function distinctColumns(columns, keep = []) {
  const signature = (c) => (c.kind === "group" && !c.n_more_values ? JSON.stringify((c.values || []).map((v) => [v.value, v.cells])) : null);
  const designated = new Set(columns.filter((c) => c.name === "cell_type" || c.name === "sample").map(signature).filter(Boolean));
  return columns.filter((c) => c.name === "cell_type" || c.name === "sample" || keep.includes(c.name) || !designated.has(signature(c)));
}
