// The explorer's CSV downloads (gateway/static/explorer/csv.js): text a spreadsheet would run as a formula
// gets a leading apostrophe (OWASP), numbers never change. Run by tests/unit/test_explorer_specs.py.

import assert from "node:assert/strict";
import { test } from "node:test";

import { formulaSafe, toCsv } from "../../../gateway/static/explorer/csv.js";

test("csv: text cells starting with a formula trigger get an apostrophe, then RFC 4180 quoting", () => {
  const rows = [
    { gene: "=1+2", cell_type: "+T", sample: "-x", note: "@SUM(A1)", value: -1.5 },
    { gene: "\tTAB", cell_type: "\rCR", sample: '=cmd|"/C calc"!A0', note: "CD4+", value: 0 },
    { gene: "a=b", cell_type: " =x", sample: null, note: "", value: 1e-7 },
  ];
  assert.equal(
    toCsv(rows),
    "gene,cell_type,sample,note,value\r\n" +
      "'=1+2,'+T,'-x,'@SUM(A1),-1.5\r\n" +
      "'\tTAB,\"'\rCR\",\"'=cmd|\"\"/C calc\"\"!A0\",CD4+,0\r\n" +
      "a=b, =x,,,1e-7\r\n",
  );
});

test("csv: headers are text too, numbers stay numbers", () => {
  assert.equal(toCsv([{ "-a": -2, b: "-2", c: -3n }]), "'-a,b,c\r\n-2,'-2,-3\r\n");
  assert.deepEqual(["=", "x", ""].map(formulaSafe), ["'=", "x", ""]);
});
