"""Two-gene reads come from marts.expression_by_gene by the catalog's gene_idx: the rows they find are the
gene's rows of marts.expression. (A catalog older than marts.genes: tests/unit, catalog reload.)"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.studies("pbmc")

GENES = ("CD74", "HLA-DRB1", "NKG7")


@pytest.fixture
def pbmc(gateway_app):
    state = gateway_app.extensions["genostream"]
    return state.pool, state.catalog.dataset("pbmc")


def test_by_gene_rows_equal_expression_rows(pbmc) -> None:
    pool, catalog = pbmc
    sql = (
        "SELECT cell, lognorm FROM marts.{table} WHERE dataset = 'pbmc' AND gene = {{g:String}} ORDER BY cell"
    )
    for gene in GENES:
        by_gene = pool.fetch(sql.format(table="expression_by_gene"), {"g": gene})
        expression = pool.fetch(sql.format(table="expression"), {"g": gene})
        assert by_gene == expression and by_gene, gene
        idx = pool.fetch(
            "SELECT DISTINCT gene_idx FROM marts.expression_by_gene"
            " WHERE dataset = 'pbmc' AND gene = {g:String}",
            {"g": gene},
        )
        assert [row["gene_idx"] for row in idx] == [catalog.gene_index[gene]]
