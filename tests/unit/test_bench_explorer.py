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
