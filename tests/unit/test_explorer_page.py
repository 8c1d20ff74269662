"""The explorer and docs pages as files: served at / and /docs, every asset local and vendored intact."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from gateway.analyses.dotplot import axis_orders
from gateway.http.formats import FORMULA_TRIGGERS
from tests.helpers.paths import REPO

STATIC = REPO / "gateway" / "static"
VENDOR = STATIC / "vendor"


def _manifest() -> dict[str, str]:
    """path → sha256 from vendor/README.md's table."""
    text = (VENDOR / "README.md").read_text()
    return dict(re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|", text, flags=re.MULTILINE))


def test_vendored_files_are_the_published_ones_with_their_licences() -> None:
    manifest = _manifest()
    files = sorted(
        str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file() and p.name != "README.md"
    )
    assert sorted(manifest) == files
    for name, digest in manifest.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    for directory in (p for p in VENDOR.iterdir() if p.is_dir()):
        assert (directory / "LICENSE").is_file(), directory.name


def _local_references(html: Path) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html.read_text())


@pytest.mark.parametrize("page", ["index.html", "docs.html"])
def test_pages_reference_only_local_assets_that_exist(page: str) -> None:
    for ref in _local_references(STATIC / page):
        if ref.startswith(("data:", "#", "?")) or ref in ("/", "/docs"):
            continue
        assert ref.startswith("/static/"), f"{page} loads {ref} from elsewhere"
        assert (STATIC / ref.removeprefix("/static/")).is_file(), ref
    for script in (STATIC / "explorer").rglob("*.js"):
        text = script.read_text()
        assert not re.search(r"""(?:fetch|import)\s*\(?\s*["'`]https?://""", text), script.name
        for module in re.findall(r'from "(\.[^"]+)"', text):
            assert (script.parent / module).resolve().is_file(), (script.name, module)


def test_root_serves_the_explorer_and_docs_serve_swagger_ui() -> None:
    from gateway import create_app

    client = create_app({"catalog_ttl_s": 0.0}).test_client()
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"/static/explorer/main.js" in page.data
    assert client.get("/").mimetype == "text/html"  # browsers and curl alike
    pointer = client.get("/", headers={"Accept": "application/json"}).get_json()
    assert pointer["openapi"] == "/openapi.json" and pointer["docs"] == "/docs"
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"swagger-ui-bundle.js" in docs.data
    for ref in _local_references(STATIC / "docs.html") + _local_references(STATIC / "index.html"):
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200, ref


def _rows(means: dict[str, list[float]], genes: list[str]) -> list[dict]:
    return [
        {"gene": gene, "cell_type": cell_type, "n_cells": 10 + i, "mean": values[j]}
        for i, (cell_type, values) in enumerate(means.items())
        for j, gene in enumerate(genes)
    ]


def test_axis_orders() -> None:
    genes = ["A", "B", "C"]
    means = {"t1": [5.0, 5.0, 0.0], "t2": [0.0, 0.1, 4.0], "t3": [4.8, 5.2, 0.1], "t4": [0.1, 0.0, 4.2]}
    ordered_genes, clustered = axis_orders(
        _rows(means, genes), genes, cell_order="clustered", gene_order="given"
    )
    assert ordered_genes == genes
    # Similar profiles end up next to each other.
    assert abs(clustered.index("t1") - clustered.index("t3")) == 1
    assert abs(clustered.index("t2") - clustered.index("t4")) == 1
    assert axis_orders(_rows(means, genes), genes, cell_order="name", gene_order="given")[1] == sorted(means)
    assert axis_orders(_rows(means, genes), genes, cell_order="size", gene_order="given")[1] == [
        "t4",
        "t3",
        "t2",
        "t1",
    ]
    gene_order, _ = axis_orders(_rows(means, genes), genes, cell_order="name", gene_order="clustered")
    assert abs(gene_order.index("A") - gene_order.index("B")) == 1
    one = axis_orders(
        _rows({k: [v[2]] for k, v in means.items()}, ["C"]), ["C"], cell_order="clustered", gene_order="given"
    )
    assert one[1] == ["t4", "t2", "t3", "t1"]


def test_downloads_and_api_csv_share_the_formula_triggers() -> None:
    # One rule in two languages: the explorer's CSV (tests/unit/js/csv.test.js) and the gateway's.
    text = (STATIC / "explorer" / "csv.js").read_text()
    match = re.search(r"export const FORMULA_TRIGGERS = (\[[^\]]*\]);", text)
    assert match and json.loads(match.group(1)) == list(FORMULA_TRIGGERS)


def test_study_text_reaches_the_page_as_text_never_as_markup() -> None:
    # Names from a study file (genes, cell types, metadata values) are shown through textContent / text nodes
    # (ui.js's el()); no script parses a string as HTML.
    markup = re.compile(
        r"\.(?:innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser"
    )
    for script in (STATIC / "explorer").rglob("*.js"):
        assert not markup.search(script.read_text()), script.name
