// RFC 4180 CSV of plain rows (what the view shows, with full precision).

function cell(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "number" ? String(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** rows: array of objects; columns: the keys to write, in order (default: the first row's keys). */
export function toCsv(rows, columns = null) {
  const keys = columns || (rows.length ? Object.keys(rows[0]) : []);
  const lines = [keys.map(cell).join(",")];
  for (const row of rows) lines.push(keys.map((k) => cell(row[k])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
