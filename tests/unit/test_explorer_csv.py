"""The explorer's CSV downloads (gateway/static/explorer/csv.js), run by node: spreadsheet-safe text, exact
numbers, and the same formula triggers as the gateway's CSV answers."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gateway.http.formats import FORMULA_TRIGGERS
from tests.helpers.paths import REPO

CSV_JS = REPO / "gateway" / "static" / "explorer" / "csv.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def _run(expression: str) -> object:
    """The JSON value of `expression`, evaluated by node with csv.js's exports in scope."""
    script = (
        f"import * as csv from {json.dumps(CSV_JS.as_uri())};\nconsole.log(JSON.stringify({expression}));"
    )
    done = subprocess.run(
        [str(NODE), "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_text_cells_that_would_run_as_formulas_get_an_apostrophe() -> None:
    rows = [
        {"gene": "=1+2", "cell_type": "+T", "sample": "-x", "note": "@SUM(A1)", "value": -1.5},
        {"gene": "\tTAB", "cell_type": "\rCR", "sample": '=cmd|"/C calc"!A0', "note": "CD4+", "value": 0},
        {"gene": "a=b", "cell_type": " =x", "sample": None, "note": "", "value": 1e-7},
    ]
    text = _run(f"csv.toCsv({json.dumps(rows)})")
    assert text == (
        "gene,cell_type,sample,note,value\r\n"
        "'=1+2,'+T,'-x,'@SUM(A1),-1.5\r\n"
        '\'\tTAB,"\'\rCR","\'=cmd|""/C calc""!A0",CD4+,0\r\n'
        "a=b, =x,,,1e-7\r\n"
    )


def test_headers_are_text_too_and_numbers_stay_numbers() -> None:
    text = _run('csv.toCsv([{"-a": -2, "b": "-2"}])')
    assert text == "'-a,b\r\n-2,'-2\r\n"


def test_the_triggers_are_the_gateways() -> None:
    assert _run("csv.FORMULA_TRIGGERS") == list(FORMULA_TRIGGERS)
    assert _run('["=", "x", ""].map(csv.formulaSafe)') == ["'=", "x", ""]
