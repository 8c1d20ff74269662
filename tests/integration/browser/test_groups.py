"""Any group of cells in the explorer (headless Chromium against a real gateway on the demo-like study): the
filter panel's `where` on the dot plot and the two-gene view, compare-by, the "Compare two groups" view, the
URL restoring all of it and the context carrying over between views and datasets — numbers on the page are
the API's."""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from tests.helpers.chromium import missing

if missing() and os.environ.get("CI", "").lower() != "true":
    pytest.skip(missing(), allow_module_level=True)

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.helpers.browser import console_errors, mark_counts, mark_items, text

pytestmark = pytest.mark.studies("pbmc", "demo")

WHERE = {"condition": ["recurrent", "treatment-naive"], "pct_mito": {"max": 5}}


def _api(base: str, path: str, body: dict | None = None, **query) -> dict:
    response = requests.request(
        "POST" if body is not None else "GET", base + path, json=body, params=query, timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


def _open(page, base: str, **params) -> None:
    page.driver.get(f"{base}/?{urlencode(params, doseq=True)}")
    page.wait_ready()


def _url_params(page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.driver.current_url).query)


def _find(page, css: str):
    return page.driver.find_element(By.CSS_SELECTOR, css)


def _open_filters(page, prefix: str = "where") -> None:
    details = _find(page, f"details.filters[data-prefix='{prefix}']")
    if details.get_attribute("open") is None:
        details.find_element(By.TAG_NAME, "summary").click()


def _checked(page, name: str) -> list[str]:
    boxes = page.driver.find_elements(By.CSS_SELECTOR, f"input[type=checkbox][name='{name}']")
    return [b.get_attribute("value") for b in boxes if b.is_selected()]


def _dots_equal_api(page, expected: dict) -> None:
    items = mark_items(page, "dotplot", "dots_marks")
    assert len(items) == len(expected["rows"])
    key = lambda r: (r["gene"], r["cell_type"], r.get("compare_value"))  # noqa: E731
    by_key = {key(r): r for r in expected["rows"]}
    assert len(by_key) == len(expected["rows"])
    for datum in (item["datum"] for item in items):
        row = by_key[key(datum)]
        for field in ("mean", "pct_expressing", "n_cells", "n_expressing"):
            assert datum[field] == row[field], (field, datum, row)


def test_filtered_dot_plot_from_the_panel_equals_the_api(page, explorer_url) -> None:
    genes = ["EPCAM", "KRT18", "CD3D"]
    _open(page, explorer_url, view="genes", dataset="demo", genes=genes)
    columns = {c["name"]: c for c in _api(explorer_url, "/datasets/demo/metadata")["columns"]}
    _open_filters(page)
    # Every group value is listed with its cell count, as the metadata endpoint counts them.
    panel = _find(page, "details.filters").text
    for value in columns["condition"]["values"]:
        assert f"{value['value']} ({value['cells']:,})" in panel
    for value in WHERE["condition"]:
        _find(page, f"input[name='where:condition'][value='{value}']").click()
    _find(page, "input[name='where:pct_mito:max']").send_keys("5")
    assert "where" not in _url_params(page)  # nothing applies before the button
    _find(page, "#genes-submit").click()
    page.wait_ready()

    where = json.loads(_url_params(page)["where"][0])
    listed = [v["value"] for v in columns["condition"]["values"]]  # the panel's order
    assert where == {"condition": sorted(WHERE["condition"], key=listed.index), "pct_mito": {"max": 5}}
    expected = _api(explorer_url, "/dot-plot", dataset="demo", genes=genes, where=json.dumps(where))
    unfiltered = _api(explorer_url, "/dot-plot", dataset="demo", genes=genes)
    _dots_equal_api(page, expected)
    assert sum(r["n_cells"] for r in expected["rows"]) < sum(r["n_cells"] for r in unfiltered["rows"])
    assert "recurrent" in text(page, "#where-note") and "pct_mito ≤ 5" in text(page, "#where-note")

    # The URL restores it exactly: the panel's boxes and bounds, and the same dots.
    page.driver.refresh()
    page.wait_ready()
    assert sorted(_checked(page, "where:condition")) == sorted(WHERE["condition"])
    assert _find(page, "input[name='where:pct_mito:max']").get_attribute("value") == "5"
    _dots_equal_api(page, expected)
    assert console_errors(page) == []


def test_dot_plot_compared_by_a_column(page, explorer_url) -> None:
    genes = ["EPCAM", "CD3D"]
    _open(
        page,
        explorer_url,
        view="genes",
        dataset="demo",
        genes=genes,
        compare_by="condition",
        where=json.dumps({"sex": ["female"]}),
    )
    expected = _api(
        explorer_url,
        "/dot-plot",
        dataset="demo",
        genes=genes,
        compare_by="condition",
        where=json.dumps({"sex": ["female"]}),
    )
    assert expected["rows"] and all(r["compare_value"] for r in expected["rows"])
    _dots_equal_api(page, expected)
    # One row per cell type × value, cell types in the API's order.
    rows_drawn = [
        item["datum"]["row"]
        for item in sorted(mark_items(page, "dotplot", "dots_marks"), key=lambda i: i["y"])
    ]
    cell_types_in_order = list(dict.fromkeys(r.split(" · ")[0] for r in rows_drawn))
    assert cell_types_in_order == [
        c for c in expected["cell_types"] if any(r["cell_type"] == c for r in expected["rows"])
    ]
    assert len(set(rows_drawn)) == len({(r["cell_type"], r["compare_value"]) for r in expected["rows"]})
    assert Select(_find(page, "#compare-by")).first_selected_option.get_attribute("value") == "condition"
    headers = [
        th.text.replace(" ▼", "").replace(" ▲", "")
        for th in page.driver.find_elements(By.CSS_SELECTOR, "table.data th")
    ]
    assert "condition" in headers


def test_two_genes_by_a_metadata_column_with_the_difference_test(page, explorer_url) -> None:
    body = {
        "dataset": "demo",
        "gene_a": "EPCAM",
        "gene_b": "KRT18",
        "cell_types": ["Epithelial"],
        "where": {"pct_mito": {"max": 6}},
    }
    expected = _api(explorer_url, "/gene-correlation", {**body, "by": "sex"})
    _open(
        page,
        explorer_url,
        view="pair",
        dataset="demo",
        gene_a="EPCAM",
        gene_b="KRT18",
        cell_types="Epithelial",
        by="sex",
        where=json.dumps(body["where"]),
    )
    assert text(page, "#stat-r") == f"{expected['pearson_correlation']:.4f}"
    assert text(page, "#stat-n") == f"{expected['observation_count']:,}"
    assert mark_counts(page)["pair"]["cells_marks"] == expected["observation_count"]
    defined = [g for g in expected["groups"] if g["pearson_correlation"] is not None]
    assert len(expected["groups"]) == 2 and mark_counts(page)["forest"]["groups_marks"] == len(defined)
    difference = expected["difference"]
    assert text(page, "#difference-z") == f"{difference['z']:.4f}"
    assert all(g in text(page, "#pair-difference") for g in difference["groups"])
    # The forest's intervals: Fisher's z around each group's r.
    import numpy as np

    for item in mark_items(page, "forest", "groups_marks"):
        datum = item["datum"]
        z, se = np.arctanh(datum["r"]), 1 / np.sqrt(datum["n"] - 3)
        assert datum["ci_low"] == pytest.approx(np.tanh(z - 1.959963984540054 * se), abs=1e-12)
        assert datum["ci_high"] == pytest.approx(np.tanh(z + 1.959963984540054 * se), abs=1e-12)


def test_context_carries_over_between_views_and_datasets(page, explorer_url) -> None:
    where = {"condition": ["recurrent"]}
    _open(page, explorer_url, view="genes", dataset="demo", genes=["EPCAM", "KRT18"], where=json.dumps(where))
    page.driver.find_element(By.LINK_TEXT, "Two genes").click()
    page.wait_ready()
    assert _find(page, "#gene-a").get_attribute("value") == "EPCAM"
    assert _find(page, "#gene-b").get_attribute("value") == "KRT18"
    assert json.loads(_url_params(page)["where"][0]) == where
    assert _checked(page, "where:condition") == ["recurrent"]
    body = {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "where": where}
    assert text(page, "#stat-n") == f"{_api(explorer_url, '/gene-correlation', body)['observation_count']:,}"

    # To a dataset without these genes, cell types or columns: what it lacks is left behind, not an error.
    Select(_find(page, "#dataset")).select_by_value("pbmc")
    page.wait_ready()
    params = _url_params(page)
    assert params["view"] == ["pair"] and params["dataset"] == ["pbmc"]
    pbmc_genes = {g["gene"] for g in _api(explorer_url, "/genes", dataset="pbmc", prefix="EPCAM")["genes"]}
    assert ("gene_a" in params) == ("EPCAM" in pbmc_genes)
    pbmc_columns = {c["name"] for c in _api(explorer_url, "/datasets/pbmc/metadata")["columns"]}
    assert ("where" in params) == ("condition" in pbmc_columns)
    # And back: the genes come along again when the new dataset has them.
    _open(page, explorer_url, view="genes", dataset="pbmc", genes=["CD3D", "NKG7"])
    Select(_find(page, "#dataset")).select_by_value("demo")
    page.wait_ready()
    demo_has = {
        g
        for g in ("CD3D", "NKG7")
        if any(x["gene"] == g for x in _api(explorer_url, "/genes", dataset="demo", prefix=g)["genes"])
    }
    assert set(_url_params(page).get("genes", [])) == demo_has
    assert console_errors(page, allow=("status of 404",)) == []
