// Numbers as the views print them (tables, headings, tooltips built in code): no DOM, so the chart specs
// and the node tests can use them too.

/** What a dataset's `value_kind` means, in words (the header says it). */
export function valueKindText(kind) {
  if (kind === "real") return "values: already normalised, used as loaded";
  if (kind === "counts") return "values: raw counts, normalised to 10,000 per cell and log1p-transformed";
  return `values: ${kind}`;
}

export const fmt = {
  num(value, digits = 4) {
    if (value === null || value === undefined) return "—";
    if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
    return Number(value.toPrecision(digits)).toString();
  },
  p(value) {
    if (value === null || value === undefined) return "—";
    if (value === 0) return "< 1e-300";
    return value < 1e-3 ? value.toExponential(2) : value.toPrecision(3);
  },
  pct(value) {
    return value === null || value === undefined ? "—" : `${(100 * value).toFixed(1)} %`;
  },
  int(value) {
    return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
  },
};

/**
 * Legend values for a fraction scale running from low to high: up to four distinct values, rounded so that
 * no two print alike (never "0 %, 0 %, 1 %"), with the format that tells them apart.
 */
export function fractionTicks(low, high) {
  const points = high > low ? [0, 1, 2, 3].map((i) => low + (i * (high - low)) / 3) : [high];
  const distinct = (digits) => [...new Set(points.map((v) => Number(v.toFixed(digits))))];
  const wanted = distinct(6).length;
  for (const [digits, format] of [[2, ".0%"], [3, ".1%"], [4, ".2%"], [5, ".3%"]]) {
    const values = distinct(digits);
    if (values.length === wanted) return { values, format };
  }
  return { values: distinct(6), format: ".4%" };
}
