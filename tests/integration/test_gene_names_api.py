"""Forgiving gene input on every endpoint that takes genes: case, gene ids, every unknown at once, ranking."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow.csv as pacsv
import pytest

pytestmark = pytest.mark.studies("pbmc", "counts")
# The synthetic counts study carries Ensembl-like ids: ENSG00001 is GENE1, ENSG00002 GENE2.
APP_ID, SOD1_ID = "ENSG00001", "ENSG00002"


def _family_order(prefix: str, genes: list[str]) -> list[str]:
    """The ranking the API promises, written out: symbols starting with `prefix` (any case); after a digit,
    names going on with a letter before those going on with a digit; then shorter first, then by name."""
    folded = prefix.casefold()
    found = [g for g in genes if g.casefold().startswith(folded)]

    def key(g: str) -> tuple[bool, int, str]:
        next_char = g[len(prefix) : len(prefix) + 1]
        return prefix[-1].isdigit() and next_char.isdigit(), len(g), g.casefold()

    return sorted(found, key=key)


def test_dot_plot_draws_known_genes_and_lists_every_unknown(api, pbmc_dense) -> None:
    genes = ["cd3d", "NKG7", "CD3DD", "Cd74", "NOT-A-GENE", "nkg7"]
    for got in (
        api.get("/dot-plot", query_string={"genes": genes, "dataset": "pbmc"}),
        api.post("/dot-plot", json={"genes": genes, "dataset": "pbmc"}),
    ):
        assert got.status_code == 200, got.get_json()
        body = got.get_json()
        assert body["genes"] == ["CD3D", "NKG7", "CD74"]
        assert {r["gene"] for r in body["rows"]} == {"CD3D", "NKG7", "CD74"}
        assert body["resolved"] == [
            {"given": "cd3d", "gene": "CD3D"},
            {"given": "Cd74", "gene": "CD74"},
            {"given": "nkg7", "gene": "NKG7"},
        ]
        assert [u["given"] for u in body["unknown"]] == ["CD3DD", "NOT-A-GENE"]
        assert body["unknown"][0]["suggestions"][0] == "CD3D"
    # the numbers of a case-resolved gene are the gene's own
    row = next(r for r in body["rows"] if r["gene"] == "CD3D" and r["cell_type"] == body["cell_types"][0])
    x = pbmc_dense.gene_row("CD3D")[pbmc_dense.cells_of([row["cell_type"]])]
    assert np.isclose(row["mean"], x.mean(), rtol=1e-9)


def test_gene_ids_are_accepted_wherever_symbols_are(api) -> None:
    ids = [APP_ID, f"{SOD1_ID}.7", APP_ID.lower()]
    got = api.post("/dot-plot", json={"genes": ids, "dataset": "counts"}).get_json()
    assert got["genes"] == ["GENE1", "GENE2"] and got["unknown"] == []
    assert [r["gene"] for r in got["resolved"]] == ["GENE1", "GENE2", "GENE1"]
    by_symbol = api.get(
        "/dot-plot", query_string={"genes": ["GENE1", "GENE2"], "dataset": "counts"}
    ).get_json()
    assert got["rows"] == by_symbol["rows"]
    one = api.get(f"/genes/{APP_ID}/cell-types?dataset=counts").get_json()
    assert one["gene"] == "GENE1" and one["resolved"] == [{"given": APP_ID, "gene": "GENE1"}]
    correlation = api.post(
        "/gene-correlation", json={"dataset": "counts", "gene_a": APP_ID, "gene_b": "gene2"}
    ).get_json()
    assert (correlation["gene_a"], correlation["gene_b"]) == ("GENE1", "GENE2")
    matrix = api.post(
        "/expression-matrix",
        json={"dataset": "counts", "gene_names": [SOD1_ID]},
        headers={"Accept": "text/csv"},
    )
    assert set(pacsv.read_csv(io.BytesIO(matrix.data)).column("gene").to_pylist()) == {"GENE2"}
    assert json.loads(matrix.headers["Genostream-Resolved-Genes"]) == [{"given": SOD1_ID, "gene": "GENE2"}]
    complete = api.get("/genes?prefix=ensg0001&dataset=counts&limit=5").get_json()["genes"]
    assert [(g["gene"], g["match"]) for g in complete] == [(f"GENE1{i}", "id") for i in range(5)]


def test_dot_plot_with_no_known_gene_is_404_listing_all(api) -> None:
    got = api.get("/dot-plot", query_string={"genes": ["CD3DD", "NOPE"], "dataset": "pbmc"})
    assert got.status_code == 404
    body = got.get_json()
    assert body["field"] == "genes" and body["value"] == "CD3DD" and body["suggestions"][0] == "CD3D"
    assert [u["given"] for u in body["unknown"]] == ["CD3DD", "NOPE"]


def test_dot_plot_takes_5000_names(api, pbmc_dense) -> None:
    repeated = pbmc_dense.genes * (5000 // len(pbmc_dense.genes) + 1)
    names = [*repeated[:4998], "ZZ-UNKNOWN-0", "ZZ-UNKNOWN-1"]
    got = api.post("/dot-plot", json={"genes": names, "dataset": "pbmc"})
    assert got.status_code == 200, got.get_json()
    body = got.get_json()
    assert sorted(body["genes"]) == sorted(set(pbmc_dense.genes) & set(names))
    assert [u["given"] for u in body["unknown"]] == ["ZZ-UNKNOWN-0", "ZZ-UNKNOWN-1"]
    too_many = api.post("/dot-plot", json={"genes": ["CD74"] * 5001, "dataset": "pbmc"})
    assert too_many.status_code == 400 and too_many.get_json()["field"] == "genes"


def test_suggestions_rank_the_prefix_family_first(api, pbmc_dense) -> None:
    prefix = "CD3"
    family = _family_order(prefix, pbmc_dense.genes)
    assert family, "the study has CD3 genes"
    got = api.get("/dot-plot", query_string={"genes": [prefix], "dataset": "pbmc"}).get_json()
    assert got["suggestions"] == family[:5]
    complete = api.get(f"/genes?prefix={prefix.lower()}&dataset=pbmc&limit=50").get_json()["genes"]
    ranked = [g["gene"] for g in complete]
    assert ranked[: len(family)] == family[:50]
    assert all(g["match"] == "prefix" for g in complete[: len(family)])


def test_single_gene_endpoints_resolve_case_and_ids_and_404_otherwise(api) -> None:
    got = api.get("/genes/cd74/cell-types?dataset=pbmc").get_json()
    assert got["gene"] == "CD74" and got["resolved"] == [{"given": "cd74", "gene": "CD74"}]
    correlation = api.post(
        "/gene-correlation", json={"dataset": "pbmc", "gene_a": "cd74", "gene_b": "hla-dra"}
    ).get_json()
    exact = api.post(
        "/gene-correlation", json={"dataset": "pbmc", "gene_a": "CD74", "gene_b": "HLA-DRA"}
    ).get_json()
    assert correlation["gene_a"] == "CD74" and correlation["gene_b"] == "HLA-DRA"
    assert correlation["pearson_correlation"] == exact["pearson_correlation"]
    assert [r["gene"] for r in correlation["resolved"]] == ["CD74", "HLA-DRA"] and exact["resolved"] == []
    pair = api.post("/gene-pair", json={"dataset": "pbmc", "gene_a": "Cd74", "gene_b": "HLA-DRA"}).get_json()
    assert pair["gene_a"] == "CD74" and pair["resolved"] == [{"given": "Cd74", "gene": "CD74"}]
    coexpression = api.get("/genes/nkg7/coexpression?dataset=pbmc&limit=3").get_json()
    assert coexpression["gene"] == "NKG7"
    missing = api.get("/genes/CD3DD/coexpression?dataset=pbmc")
    assert missing.status_code == 404 and missing.get_json()["suggestions"][0] == "CD3D"


def test_differential_expression_tests_known_genes_and_lists_unknown(api) -> None:
    body = {"dataset": "pbmc", "group_a": {"cell_types": ["Dendritic"]}, "method": "t-test"}
    got = api.post("/differential-expression", json={**body, "genes": ["cd74", "NKG7", "NOPE", "CD3DD"]})
    assert got.status_code == 200, got.get_json()
    answer = got.get_json()
    assert sorted(r["gene"] for r in answer["results"]) == ["CD74", "NKG7"]
    assert answer["resolved"] == [{"given": "cd74", "gene": "CD74"}]
    assert [u["given"] for u in answer["unknown"]] == ["NOPE", "CD3DD"]
    exact = api.post("/differential-expression", json={**body, "genes": ["CD74", "NKG7"]}).get_json()
    assert answer["results"] == exact["results"]
    none = api.post("/differential-expression", json={**body, "genes": ["NOPE"]})
    assert none.status_code == 404 and none.get_json()["field"] == "genes"


def test_expression_matrix_reports_names_in_headers(api) -> None:
    got = api.post(
        "/expression-matrix",
        json={"dataset": "pbmc", "gene_names": ["cd74", "NOPE", "CD3DD"], "cell_types": ["Dendritic"]},
        headers={"Accept": "text/csv"},
    )
    assert got.status_code == 200
    table = pacsv.read_csv(io.BytesIO(got.data))
    assert set(table.column("gene").to_pylist()) == {"CD74"}
    assert json.loads(got.headers["Genostream-Resolved-Genes"]) == [{"given": "cd74", "gene": "CD74"}]
    unknown = json.loads(got.headers["Genostream-Unknown-Genes"])
    assert [u["given"] for u in unknown] == ["NOPE", "CD3DD"] and unknown[1]["suggestions"][0] == "CD3D"
    plain = api.post("/expression-matrix", json={"dataset": "pbmc", "gene_names": ["CD74"]})
    assert "Genostream-Unknown-Genes" not in plain.headers
    none = api.post("/expression-matrix", json={"dataset": "pbmc", "gene_names": ["NOPE"]})
    assert none.status_code == 404 and none.get_json()["unknown"][0]["given"] == "NOPE"
