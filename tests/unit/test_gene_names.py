"""The gene-name resolver: exact, ids, case when unique, suggestions ranked by family, then look-alikes."""

from __future__ import annotations

import pytest

from gateway.catalog import DatasetCatalog, DatasetInfo
from gateway.errors import NotFound
from gateway.gene_names import GeneNames, Unknown
from gateway.routes.gene_reports import renamed, reported

SYMBOLS = [
    "CD3D", "CD3E", "CD3G", "CD3EAP", "CD36", "CD38", "CD300A", "CD63", "CD53", "CD74",
    "HLA-DRA", "HLA-DRB1", "EPCAM", "KRT18", "Sox2", "SOX2", "CH507-9B2.2",
]  # fmt: skip
IDS = {"ENSG00000167286.5": "CD3D", "ENSG00000198851": "CD3E", "ENSG00000111640": "CD74"}


@pytest.fixture(scope="module")
def names() -> GeneNames:
    return GeneNames(SYMBOLS, IDS)


def test_exact_ids_and_case_when_unique(names: GeneNames) -> None:
    assert names.lookup("CD3D") == "CD3D"
    assert names.lookup("cd3d") == "CD3D"  # the complaint: autocomplete offers it, the API refused it
    assert names.lookup("Hla-Dra") == "HLA-DRA"
    assert names.lookup("ENSG00000198851") == "CD3E"
    assert names.lookup("ENSG00000167286") == "CD3D"  # without the version
    assert names.lookup("ENSG00000167286.5") == "CD3D"
    assert names.lookup("ensg00000111640") == "CD74"
    assert names.lookup("Sox2") == "Sox2" and names.lookup("SOX2") == "SOX2"  # exact wins over case
    assert names.lookup("sox2") == ["SOX2", "Sox2"]  # ambiguous in case only: both, never a guess
    assert names.lookup("CD3") is None
    assert names.lookup("ch507-9b2.2") == "CH507-9B2.2" and names.lookup("CH507-9B2.3") is None


def test_prefix_family_before_look_alikes(names: GeneNames) -> None:
    # CD3 → its family first (letters after the digit), then other numbers, then one-edit look-alikes.
    assert names.suggest("CD3") == ["CD3D", "CD3E", "CD3G", "CD3EAP", "CD36"]
    suggestions = names.suggest("CD3", n=10)
    assert suggestions[:4] == ["CD3D", "CD3E", "CD3G", "CD3EAP"]
    assert suggestions.index("CD63") > suggestions.index("CD300A")
    assert names.suggest("cd3dd")[0] == "CD3D"  # one edit away
    assert names.suggest("EPCM")[0] == "EPCAM"
    # One edit away, a letter for a letter first: CD3X → CD3D, CD3E, CD3G before CD36, CD38 (a digit).
    assert names.suggest("CD3X")[:3] == ["CD3D", "CD3E", "CD3G"]
    assert names.suggest("HLA-DRX")[:2] == ["HLA-DRA", "HLA-DRB1"]
    assert names.suggest("zzzzzz") == []


def test_resolve_reports_every_unknown_at_once(names: GeneNames) -> None:
    got = names.resolve(["cd3d", "CD3D", "ENSG00000198851", "NOPE1", "CD3", "sox2", "NOPE1", "KRT18"])
    assert got.genes == ["CD3D", "CD3E", "KRT18"]
    assert got.resolved == [("cd3d", "CD3D"), ("ENSG00000198851", "CD3E")]
    assert [u.given for u in got.unknown] == ["NOPE1", "CD3", "sox2"]
    assert got.unknown[1].suggestions[:3] == ["CD3D", "CD3E", "CD3G"]
    assert got.unknown[2] == Unknown("sox2", ["SOX2", "Sox2"], ambiguous=True)
    body = reported(got)
    assert body["resolved"][0].model_dump() == {"given": "cd3d", "gene": "CD3D"}
    assert body["unknown"][1].given == "CD3" and "CD3D" in body["unknown"][1].suggestions
    assert [r.model_dump() for r in renamed(("cd3d", "CD3D"), ("CD74", "CD74"))] == [
        {"given": "cd3d", "gene": "CD3D"}
    ]


def test_autocomplete_ranks_like_suggestions(names: GeneNames) -> None:
    got = names.complete("cd3", 20)
    assert [s for s, _ in got][:5] == ["CD3D", "CD3E", "CD3G", "CD3EAP", "CD36"]
    assert dict(got)["CD63"] == "similar" and dict(got)["CD3D"] == "prefix"
    assert names.complete("cd74", 3)[0] == ("CD74", "exact")
    assert names.complete("ENSG0000019885", 5) == [("CD3E", "id")]
    assert names.complete("", 3) == [("CD300A", "prefix"), ("CD36", "prefix"), ("CD38", "prefix")]
    assert len(names.complete("C", 4)) == 4


def test_catalog_gene_errors_name_the_field_and_every_unknown() -> None:
    info = DatasetInfo(dataset="d", value_kind="counts", n_genes=3, n_cells=1, nnz=1, loaded_at="")
    catalog = DatasetCatalog(info=info, cell_types={}, samples={}, genes=SYMBOLS, gene_ids=IDS)
    assert catalog.gene("krt18") == "KRT18"
    with pytest.raises(NotFound, match=r"unknown gene 'CD3' in dataset 'd'; did you mean 'CD3D'") as caught:
        catalog.gene("CD3", field_name="gene_a")
    assert caught.value.extra["field"] == "gene_a"
    assert caught.value.extra["suggestions"][:3] == ["CD3D", "CD3E", "CD3G"]
    with pytest.raises(NotFound, match="differ only in case"):
        catalog.gene("sox2")
    resolution = catalog.resolve_genes(["CD74", "NOPE"], field_name="genes")
    assert resolution.genes == ["CD74"] and resolution.unknown[0].given == "NOPE"
    with pytest.raises(NotFound, match=r"unknown gene 'NOPE'.*\(and 1 more unknown\)") as caught:
        catalog.resolve_genes(["NOPE", "CD3"], field_name="genes")
    assert [u["given"] for u in caught.value.extra["unknown"]] == ["NOPE", "CD3"]
