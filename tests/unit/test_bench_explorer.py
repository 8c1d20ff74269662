"""bench.explorer's timed views: every view of the explorer, including the Distribution view and the
Variability view ranked by scanpy's dispersion, as shareable URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from bench.explorer import view_urls


def test_the_timed_views_include_distribution_and_seurat_variability() -> None:
    urls = view_urls("http://h:1", "demo", "EPCAM", "KRT18", "Epithelial")
    query = {name: parse_qs(urlparse(url).query) for name, url in urls.items()}
    assert query["distribution"] == {"view": ["distribution"], "gene": ["EPCAM"], "dataset": ["demo"]}
    assert query["variability (seurat)"]["rank"] == ["seurat"]
    assert query["variability (seurat)"]["cell_type"] == ["Epithelial"]
    assert "rank" not in query["variability"]


def test_the_timed_views_include_compare_by_and_two_groups() -> None:
    urls = view_urls("http://h:1", "demo", "EPCAM", "KRT18", "Epithelial", compare_by="sex")
    query = {name: parse_qs(urlparse(url).query) for name, url in urls.items()}
    assert query["genes (compare by)"]["compare_by"] == ["sex"]
    assert query["genes (compare by)"]["genes"] == ["EPCAM", "KRT18"]
    compare = query["compare vs rest (t)"]
    assert (compare["view"], compare["a_cell_types"], compare["b"]) == (["compare"], ["Epithelial"], ["rest"])
