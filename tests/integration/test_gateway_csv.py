"""CSV answers are safe to open in a spreadsheet: a study whose own names are formulas (`=1+2`, `@SUM(A1)`,
`-x`, `+T`) comes back from /expression-matrix and /sql as text cells with a leading apostrophe; numbers,
and the JSON answer's names, are unchanged."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.helpers.dbt import run_dbt
from tests.helpers.loader_inputs import ScpStudy

DATASET = "csv_formula_probe"
GENES = ["=1+2", "@SUM(A1)", "-x", "+T", "CD4+"]
CELL_TYPES = {"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0", "@x": "'@x", "B cell": "B cell"}


@pytest.fixture(scope="module")
def formula_study(built_store, engine_client, tmp_path_factory):
    """ScpStudy's matrix with formula-like gene and cell type names, loaded and built; dropped afterwards."""
    from loader import drop_dataset, load_dataset

    study = ScpStudy()
    study.genes = list(GENES)
    study.metadata = [
        "NAME\tCluster\tSubject",
        "TYPE\tgroup\tgroup",
        "AAAC-1\t=cmd|' /C calc'!A0\t-p1",
        "AAAG-1\t@x\tp1",
        "AACT-1\tB cell\t+p2",
        "AAGT-1\tB cell\tp2",
    ]
    load_dataset(engine_client, study.write(tmp_path_factory.mktemp("formulas")), dataset=DATASET)
    run_dbt("run")
    yield DATASET
    drop_dataset(engine_client, DATASET)
    run_dbt("run")


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_expression_matrix_csv_neutralises_formulas_and_keeps_numbers(api, formula_study) -> None:
    body = {"dataset": formula_study, "gene_names": GENES, "dense": True}
    exact = api.post("/expression-matrix", json=body).get_json()
    rows = _csv(api.post("/expression-matrix", json=body, headers={"Accept": "text/csv"}))
    assert len(rows) == len(exact["data"]) == len(GENES) * 4
    names = exact["columns"]
    for row, values in zip(rows, exact["data"], strict=True):
        original = dict(zip(names, values, strict=True))
        for column in ("barcode", "cell_type", "sample", "gene"):
            text = original[column]
            expected = "'" + text if text[:1] in ("=", "+", "-", "@") else text
            assert row[column] == expected, (column, text)
        assert float(row["value"]) == original["value"]
    assert {r["gene"] for r in rows} == {"'=1+2", "'@SUM(A1)", "'-x", "'+T", "CD4+"}
    assert {r["cell_type"] for r in rows} == set(CELL_TYPES.values())
    assert {v for v in (dict(zip(names, d, strict=True))["gene"] for d in exact["data"])} == set(GENES)


def test_sql_csv_neutralises_text_and_keeps_numbers_written_as_text(api, formula_study) -> None:
    query = (
        "SELECT gene, cell_type, value, -value AS negative, toDecimal64(-value, 2) AS decimal, "
        "toInt128(-1) AS wide, [gene] AS genes, toUUID('00000000-0000-0000-0000-000000000000') AS id "
        f"FROM expression WHERE dataset = '{formula_study}' ORDER BY gene, cell"
    )
    exact = api.post("/sql", json={"query": query}).get_json()
    rows = _csv(api.post("/sql", json={"query": query, "format": "csv"}))
    assert len(rows) == exact["rows"] == 7
    for row, (gene, cell_type, value, negative, decimal, wide, genes, _) in zip(
        rows, exact["data"], strict=True
    ):
        assert row["gene"] == ("CD4+" if gene == "CD4+" else "'" + gene)
        assert row["cell_type"] == CELL_TYPES[cell_type]
        assert float(row["value"]) == value and float(row["negative"]) == negative < 0
        assert row["decimal"] == str(decimal) and row["decimal"].startswith("-")
        assert row["wide"] == str(wide) == "-1"
        assert json.loads(row["genes"]) == genes  # JSON text: starts with [, nothing to neutralise
