"""The Distribution and Variability views in headless Chromium: the numbers on the page and the marks drawn
are the API's (GET /genes/{gene}/distribution, POST /highly-variable-genes, POST /gene-variability), a `where`
in the URL applies, and the dot plot reaches the distribution in one click."""

from __future__ import annotations

import json

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

from selenium.webdriver.common.by import By

from tests.helpers.browser import api_json, console_errors, mark_counts, mark_items, open_view

pytestmark = pytest.mark.studies("pbmc")


def _column(page, column: int, table: str = "table.data") -> list[str]:
    rows = page.driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")
    return [r.find_elements(By.TAG_NAME, "td")[column].text for r in rows]


def _int(text: str) -> int:
    return int(text.replace(",", ""))


@pytest.mark.parametrize("where", [None, {"phase": ["G1"], "percent_mito": {"max": 0.02}}])
def test_distribution_view_shows_the_api_numbers(page, explorer_url, where) -> None:
    params = {"view": "distribution", "dataset": "pbmc", "gene": "CST3", "bins": 20}
    query = {"dataset": "pbmc", "bins": 20}
    if where:
        params["where"] = query["where"] = json.dumps(where)
    open_view(page, explorer_url, **params)
    expected = api_json(explorer_url, "/genes/CST3/distribution", **query)
    groups = expected["groups"]
    counts = mark_counts(page)["distribution"]
    assert counts["zeros_marks"] == len(groups)
    assert counts["violins_marks"] == sum(1 for g in groups for n in g["counts"] if n > 0)
    assert _column(page, 0, "#distribution-table") == [g["cell_type"] for g in groups]
    assert [_int(t) for t in _column(page, 1, "#distribution-table")] == [g["n_cells"] for g in groups]
    assert [_int(t) for t in _column(page, 2, "#distribution-table")] == [g["n_zero"] for g in groups]
    drawn = {
        item["datum"]["cell_type"]: item["datum"] for item in mark_items(page, "distribution", "zeros_marks")
    }
    for group in groups:
        assert drawn[group["cell_type"]]["fraction"] == pytest.approx(
            group["n_zero"] / group["n_cells"], rel=1e-12
        )
    bars = mark_items(page, "distribution", "violins_marks")
    assert sum(item["datum"]["n"] for item in bars) == sum(g["n_expressing"] for g in groups)
    if where:
        assert page.driver.find_element(By.ID, "where-note").is_displayed()
    assert console_errors(page) == []


def test_the_dot_plot_reaches_the_distribution_in_one_click(page, explorer_url) -> None:
    open_view(page, explorer_url, view="genes", dataset="pbmc", genes=["CST3", "NKG7"])
    page.driver.find_elements(By.LINK_TEXT, "distribution")[1].click()
    page.wait_ready()
    assert "view=distribution" in page.driver.current_url and "gene=NKG7" in page.driver.current_url
    assert mark_counts(page)["distribution"]["zeros_marks"] == len(
        api_json(explorer_url, "/datasets/pbmc/cell-types")["cell_types"]
    )


def _legend_labels(page) -> list[str]:
    return page.driver.execute_script(
        "return [...document.querySelectorAll('#chart-variability .role-legend-label text')]"
        ".map(t => t.textContent)"
    )


@pytest.mark.parametrize("flavor", ["seurat", "cell_ranger"])
def test_variability_ranked_by_scanpy_dispersion(page, explorer_url, flavor) -> None:
    open_view(
        page, explorer_url, view="variability", dataset="pbmc", cell_type="Dendritic", rank=flavor, limit=15
    )
    answer = api_json(
        explorer_url,
        "/highly-variable-genes",
        {"dataset": "pbmc", "flavor": flavor, "cell_types": ["Dendritic"]},
    )
    defined = [g for g in answer["genes"] if g["dispersions_norm"] is not None]
    expected = [g for g in defined if g["pct_expressing"] >= 0.05][:15]
    assert _column(page, 1) == [g["gene"] for g in expected]
    shown = [float(t) for t in _column(page, 2)]
    assert shown == pytest.approx([g["dispersions_norm"] for g in expected], rel=1e-3)
    counts = mark_counts(page)["variability"]
    assert counts["genes_marks"] == len(expected)
    assert counts["background_marks"] == len(defined)
    note = page.driver.find_element(By.ID, "var-filters").text
    assert "5 %" in note and "default" in note and flavor in note
    labels = _legend_labels(page)
    assert labels and len(set(labels)) == len(labels), labels


def test_variability_by_cv_keeps_the_api_order_over_a_background_of_every_gene(page, explorer_url) -> None:
    timing = open_view(
        page, explorer_url, view="variability", dataset="pbmc", cell_type="CD14+ Monocyte", limit=25
    )
    # The list is usable first; the plot of every gene completes the view after it.
    assert timing["part"] == "complete" and timing["usable"]["view"] == "variability"
    assert timing["usable"]["sinceNavigation"] <= timing["sinceNavigation"]
    body = {"dataset": "pbmc", "cell_type": "CD14+ Monocyte", "limit": 25, "min_pct_expressing": 0.05}
    expected = api_json(explorer_url, "/gene-variability", body)
    assert _column(page, 1) == [g["gene"] for g in expected]
    background = api_json(
        explorer_url,
        "/highly-variable-genes",
        {"dataset": "pbmc", "flavor": "cell_ranger", "cell_types": ["CD14+ Monocyte"]},
    )
    counts = mark_counts(page)["variability"]
    assert counts["background_marks"] == sum(
        1 for g in background["genes"] if g["dispersions_norm"] is not None
    )
    assert counts["genes_marks"] == len(expected)
    labels = _legend_labels(page)
    assert len(set(labels)) == len(labels), labels
    # 0 keeps every gene: the CV list then starts with genes detected in a single cell.
    page.driver.find_element(By.ID, "min-pct").clear()
    page.driver.find_element(By.ID, "var-submit").click()
    page.wait_ready()
    assert "min_pct=0" in page.driver.current_url
    unfiltered = api_json(explorer_url, "/gene-variability", {**body, "min_pct_expressing": 0.0})
    assert _column(page, 1) == [g["gene"] for g in unfiltered]
