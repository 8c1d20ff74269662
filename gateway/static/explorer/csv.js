// RFC 4180 CSV of plain rows (what the view shows, with full precision), safe to open in a spreadsheet.

// A spreadsheet runs a cell that starts with one of these as a formula. A study's own names reach the
// downloads, so such a text cell gets a leading apostrophe, as OWASP's "CSV Injection" advises (the gateway's
// CSV answers follow the same rule: gateway/http/formats.py). Numbers are never changed.
export const FORMULA_TRIGGERS = ["=", "+", "-", "@", "\t", "\r"];

/** The text a spreadsheet shows as typed: `'` before a leading formula trigger. */
export function formulaSafe(text) {
  return FORMULA_TRIGGERS.some((trigger) => text.startsWith(trigger)) ? `'${text}` : text;
}

function cell(value) {
  if (value === null || value === undefined) return "";
  const numeric = typeof value === "number" || typeof value === "bigint";
  const text = numeric ? String(value) : formulaSafe(String(value));
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** rows: array of objects; columns: the keys to write, in order (default: the first row's keys). */
export function toCsv(rows, columns = null) {
  const keys = columns || (rows.length ? Object.keys(rows[0]) : []);
  const lines = [keys.map(cell).join(",")];
  for (const row of rows) lines.push(keys.map((k) => cell(row[k])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
