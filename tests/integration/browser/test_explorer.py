"""The explorer in headless Chromium against a real gateway on the test studies: every view draws the right
number of marks, shows the API's numbers, restores from its URL and downloads its data and plot; the
biologist's path from / to EPCAM vs KRT18 works with clicks and typing only."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

import anndata
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from tests.helpers.browser import (
    api_json,
    console_errors,
    foreign,
    mark_counts,
    mark_items,
    open_view,
    requested_urls,
    screenshot,
    text,
    wait_for_file,
    wait_until,
    x_order,
)

pytestmark = pytest.mark.studies("pbmc", "demo")


def _open(page, base: str, **params) -> dict:
    """Load the explorer at ?params and wait for the view to render; its timing entry."""
    timing = open_view(page, base, **params)
    _no_placeholders(page)
    return timing


def _no_placeholders(page) -> None:
    """No value shown as JavaScript's null, NaN or an object by accident."""
    shown = page.driver.find_element(By.ID, "main").text
    assert not re.search(r"\bnull\b|\bNaN\b|\[object Object\]", shown), shown


def _click(page, css: str) -> None:
    page.driver.find_element(By.CSS_SELECTOR, css).click()


def _table_column(page, column: int, *, table: str = "table.data") -> list[str]:
    rows = page.driver.find_elements(By.CSS_SELECTOR, f"{table} tbody tr")
    return [r.find_elements(By.TAG_NAME, "td")[column].text for r in rows]


# ----- the path a biologist takes ---------------------------------------------------------------------


def test_from_the_front_page_to_epcam_vs_krt18_without_typing_a_url(page, explorer_url, tmp_path) -> None:
    driver = page.driver
    driver.get(explorer_url + "/")
    page.wait_ready()
    Select(driver.find_element(By.ID, "dataset")).select_by_value("demo")
    page.wait_ready()
    driver.find_element(By.LINK_TEXT, "Genes × cell types").click()
    page.wait_ready()

    search = driver.find_element(By.ID, "gene-add")
    search.send_keys("EPC")
    wait_until(
        page, "return [...document.querySelectorAll('datalist option')].some(o => o.value === 'EPCAM')"
    )
    search.send_keys("AM", Keys.ENTER)
    page.wait_ready()
    cell_types = api_json(explorer_url, "/datasets/demo/cell-types")["cell_types"]
    assert mark_counts(page)["dotplot"]["dots_marks"] == len(cell_types)
    assert "genes=EPCAM" in driver.current_url
    screenshot(page, tmp_path, "dot-plot")

    driver.find_element(By.LINK_TEXT, "two-gene scatter").click()
    page.wait_ready()
    assert driver.find_element(By.ID, "gene-a").get_attribute("value") == "EPCAM"
    driver.find_element(By.ID, "gene-b").send_keys("KRT18")
    driver.find_element(By.CSS_SELECTOR, "input[name=cell_types][value=Epithelial]").click()
    _click(page, "#pair-submit")
    page.wait_ready()

    expected = api_json(
        explorer_url,
        "/gene-correlation",
        {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "cell_types": ["Epithelial"]},
    )
    assert text(page, "#stat-r") == f"{expected['correlation']:.4f}"
    assert text(page, "#stat-n") == f"{expected['observation_count']:,}"
    assert mark_counts(page)["pair"]["cells_marks"] == expected["observation_count"]
    _no_placeholders(page)
    screenshot(page, tmp_path, "two-genes")
    assert console_errors(page) == []


# ----- each view: marks, numbers, links -----------------------------------------------------------------


def test_study_view(page, explorer_url, tmp_path) -> None:
    _open(page, explorer_url, view="study", dataset="demo")
    info = next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "demo")
    cell_types = api_json(explorer_url, "/datasets/demo/cell-types")["cell_types"]
    assert mark_counts(page)["study"]["bars_marks"] == len(cell_types)
    assert (
        text(page, "#fact-cells") == f"{info['n_cells']:,}"
        and text(page, "#fact-genes") == f"{info['n_genes']:,}"
    )
    biggest = max(cell_types, key=lambda c: c["n_cells"])
    assert _table_column(page, 0, table="#cell-types-table")[0] == biggest["cell_type"]
    assert _table_column(page, 1, table="#cell-types-table")[0] == f"{biggest['n_cells']:,}"
    loaded = _table_column(page, 0, table="#datasets-table")
    assert sorted(loaded) == sorted(d["dataset"] for d in api_json(explorer_url, "/datasets")["datasets"])
    screenshot(page, tmp_path, "study")


def test_dot_plot_of_a_pasted_list_in_cluster_order(page, explorer_url) -> None:
    genes = ["CD74", "CD3D", "NKG7", "HLA-DRA"]
    _open(page, explorer_url, view="genes", dataset="pbmc", genes=genes)
    expected = api_json(explorer_url, "/dot-plot", dataset="pbmc", genes=genes)
    assert mark_counts(page)["dotplot"]["dots_marks"] == len(expected["rows"])
    items = mark_items(page, "dotplot", "dots_marks")
    assert x_order(items, "cell_type") == expected["cell_types"]
    by_key = {(r["gene"], r["cell_type"]): r for r in expected["rows"]}
    for row in (item["datum"] for item in items):
        assert row["mean"] == by_key[(row["gene"], row["cell_type"])]["mean"]
        assert row["pct_expressing"] == by_key[(row["gene"], row["cell_type"])]["pct_expressing"]

    # The pasted list and the order are in the URL; another order is one choice away.
    Select(page.driver.find_element(By.ID, "order")).select_by_value("name")
    _click(page, "#genes-submit")
    page.wait_ready()
    assert "order=name" in page.driver.current_url
    assert x_order(mark_items(page, "dotplot", "dots_marks"), "cell_type") == sorted(expected["cell_types"])


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_two_genes_numbers_and_breakdown(page, explorer_url, method, tmp_path) -> None:
    cell_types = ["Epithelial", "Fibroblast", "T cell"]
    _open(
        page,
        explorer_url,
        view="pair",
        dataset="demo",
        gene_a="EPCAM",
        gene_b="KRT18",
        cell_types=cell_types,
        method=method,
        by="cell_type",
    )
    body = {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "cell_types": cell_types}
    expected = api_json(explorer_url, "/gene-correlation", {**body, "method": method, "by": "cell_type"})
    pair = api_json(explorer_url, "/gene-pair", body)
    assert text(page, "#stat-r") == f"{expected['correlation']:.4f}"
    assert text(page, "#stat-n") == f"{expected['observation_count']:,}"
    assert text(page, "#stat-zero") == f"{pair['n_zero_both']:,}"
    marks = mark_counts(page)
    assert marks["pair"]["cells_marks"] == expected["observation_count"]  # zeros included
    defined = [g for g in expected["groups"] if g["correlation"] is not None]
    assert marks["forest"]["groups_marks"] == len(defined)
    assert _table_column(page, 0) == [g["group"] for g in expected["groups"]]
    assert _table_column(page, 1) == [
        "undefined" if g["correlation"] is None else f"{g['correlation']:.4f}" for g in expected["groups"]
    ]
    if method == "pearson":
        screenshot(page, tmp_path, "two-genes-by-cell-type")


def test_two_genes_switches_method_and_density(page, explorer_url) -> None:
    _open(page, explorer_url, view="pair", dataset="demo", gene_a="EPCAM", gene_b="KRT18")
    _click(page, "#method-spearman")
    # Every control applies the same way: with the view's button (or Enter), not at once.
    assert "method=spearman" not in page.driver.current_url
    _click(page, "#pair-submit")
    page.wait_ready()
    assert "method=spearman" in page.driver.current_url
    expected = api_json(
        explorer_url,
        "/gene-correlation",
        {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "method": "spearman"},
    )
    assert text(page, "#stat-r") == f"{expected['correlation']:.4f}"

    Select(page.driver.find_element(By.ID, "display")).select_by_value("density")
    _click(page, "#pair-submit")
    page.wait_ready()
    bins = api_json(
        explorer_url, "/gene-pair", {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "max_points": 0}
    )
    assert mark_counts(page)["pair"]["bins_marks"] == len(bins["bins"]["n_cells"])
    drawn = [item["datum"] for item in mark_items(page, "pair", "bins_marks")]
    assert sum(b["n_cells"] for b in drawn) == bins["observation_count"]
    zero = next(b for b in drawn if b["x_bin"] == 0 and b["y_bin"] == 0)
    assert zero["n_cells"] == bins["n_zero_both"]


def test_coexpression_view_and_click_through(page, explorer_url, tmp_path) -> None:
    _open(
        page,
        explorer_url,
        view="coexpression",
        dataset="demo",
        gene="EPCAM",
        cell_types="Epithelial",
        limit=15,
    )
    expected = api_json(
        explorer_url, "/genes/EPCAM/coexpression", dataset="demo", cell_types="Epithelial", limit=15
    )
    assert mark_counts(page)["coexpression"]["bars_marks"] == len(expected["results"]) == 15
    assert _table_column(page, 1) == [r["gene"] for r in expected["results"]]
    assert _table_column(page, 2) == [f"{r['pearson_correlation']:.4f}" for r in expected["results"]]
    screenshot(page, tmp_path, "co-expression")
    top = expected["results"][0]["gene"]
    page.driver.find_element(By.LINK_TEXT, top).click()
    page.wait_ready()
    url = page.driver.current_url
    assert "view=pair" in url and "gene_a=EPCAM" in url and f"gene_b={quote(top)}" in url
    pair = api_json(
        explorer_url,
        "/gene-correlation",
        {"dataset": "demo", "gene_a": "EPCAM", "gene_b": top, "cell_types": ["Epithelial"]},
    )
    assert text(page, "#stat-r") == f"{pair['pearson_correlation']:.4f}"


def test_markers_view_sorts_and_opens_dot_plot(page, explorer_url, tmp_path) -> None:
    _open(page, explorer_url, view="markers", dataset="pbmc", cell_type="Dendritic")
    n_genes = next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "pbmc")[
        "n_genes"
    ]
    expected = api_json(explorer_url, "/cell-types/Dendritic/markers", dataset="pbmc", limit=n_genes)[
        "results"
    ]
    plotted = [r for r in expected if r["p_value_adj"] is not None and r["log2_fold_change"] is not None]
    assert mark_counts(page)["volcano"]["genes_marks"] == len(plotted)
    assert _table_column(page, 1)[:10] == [r["gene"] for r in expected[:10]]
    screenshot(page, tmp_path, "markers")

    header = page.driver.find_element(By.XPATH, "//th/button[starts-with(normalize-space(.), 'log2FC')]")
    header.send_keys(Keys.ENTER)  # keyboard: sort by log2FC, largest first; focus stays on the header
    header = page.driver.switch_to.active_element
    assert header.text.startswith("log2FC")
    by_fold = sorted(
        (r for r in expected if r["log2_fold_change"] is not None), key=lambda r: -r["log2_fold_change"]
    )
    assert _table_column(page, 1)[0] == by_fold[0]["gene"]
    assert header.find_element(By.XPATH, "..").get_attribute("aria-sort") == "descending"

    page.driver.find_element(By.LINK_TEXT, by_fold[0]["gene"]).click()
    page.wait_ready()
    assert "view=genes" in page.driver.current_url
    assert mark_counts(page)["dotplot"]["dots_marks"] == len(
        api_json(explorer_url, "/datasets/pbmc/cell-types")["cell_types"]
    )


def test_variability_view_with_filters(page, explorer_url, tmp_path) -> None:
    _open(
        page,
        explorer_url,
        view="variability",
        dataset="demo",
        cell_type="Epithelial",
        min_mean=0.2,
        min_pct=30,
        limit=40,
    )
    expected = api_json(
        explorer_url,
        "/gene-variability",
        {
            "dataset": "demo",
            "cell_type": "Epithelial",
            "limit": 40,
            "min_mean": 0.2,
            "min_pct_expressing": 0.3,
        },
    )
    assert mark_counts(page)["variability"]["genes_marks"] == len(expected)
    assert _table_column(page, 1) == [g["gene"] for g in expected]
    screenshot(page, tmp_path, "variability")


# ----- links, downloads, errors, offline, docs --------------------------------------------------------


VIEWS = [
    {"view": "study", "dataset": "demo"},
    {"view": "genes", "dataset": "demo", "genes": ["EPCAM", "CD3D"], "order": "size"},
    {"view": "pair", "dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "cell_types": ["Epithelial"]},
    {"view": "coexpression", "dataset": "demo", "gene": "KRT18", "limit": 10},
    {"view": "markers", "dataset": "demo", "cell_type": "T cell"},
    {"view": "variability", "dataset": "demo", "cell_type": "Fibroblast", "limit": 20},
]


def _snapshot(page) -> tuple:
    return (page.driver.find_element(By.ID, "main").text, mark_counts(page))


def test_links_restore_views_on_reload_and_back(page, explorer_url) -> None:
    snapshots = []
    for params in VIEWS:
        _open(page, explorer_url, **params)
        first = _snapshot(page)
        page.driver.refresh()
        page.wait_ready()
        assert _snapshot(page) == first, params["view"]
        snapshots.append((page.driver.current_url, first))
    # In-page navigation keeps history: back returns to the previous view as it was.
    page.driver.find_element(By.LINK_TEXT, "Study").click()
    page.wait_ready()
    page.driver.back()
    page.wait_ready()
    assert (page.driver.current_url, _snapshot(page)) == snapshots[-1]
    assert console_errors(page) == []


def test_downloads_produce_csv_h5ad_svg_and_png(page, explorer_url) -> None:
    _open(
        page,
        explorer_url,
        view="pair",
        dataset="demo",
        gene_a="EPCAM",
        gene_b="KRT18",
        cell_types="Epithelial",
        by="none",
    )
    expected = api_json(
        explorer_url,
        "/gene-pair",
        {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "cell_types": ["Epithelial"]},
    )
    buttons = {b.text: b for b in page.driver.find_elements(By.CSS_SELECTOR, ".downloads button")}
    buttons["Download CSV"].click()
    csv = wait_for_file(page.downloads, ".csv").read_text().splitlines()
    assert csv[0] == "barcode,cell_type,EPCAM,KRT18"
    assert len(csv) - 1 == expected["observation_count"]
    assert sum(1 for line in csv[1:] if line.endswith(",0,0")) == expected["n_zero_both"]
    buttons["Download SVG"].click()
    assert wait_for_file(page.downloads, ".svg").read_text().lstrip().startswith("<svg")
    buttons["Download PNG"].click()
    assert wait_for_file(page.downloads, ".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    buttons["Download .h5ad"].click()
    adata = anndata.read_h5ad(wait_for_file(page.downloads, ".h5ad"))
    assert list(adata.var_names) == ["EPCAM", "KRT18"]
    assert adata.n_obs == expected["observation_count"]
    assert set(adata.obs["cell_type"]) == {"Epithelial"}


def test_unknown_gene_is_shown_inline_with_suggestions(page, explorer_url, tmp_path) -> None:
    # Issue 22: KRT18 is drawn, EPCM listed with its suggestions (an unknown gene no longer blocks the plot).
    _open(page, explorer_url, view="genes", dataset="demo", genes=["EPCM", "KRT18"])
    error = page.driver.find_element(By.CSS_SELECTOR, "#genes-unknown li[data-gene=EPCM]")
    assert "EPCM" in error.text and mark_counts(page)["dotplot"]["dots_marks"] > 0
    assert console_errors(page) == []
    screenshot(page, tmp_path, "unknown-gene")
    error.find_element(By.XPATH, ".//button[text()='EPCAM']").click()
    page.wait_ready()
    assert mark_counts(page)["dotplot"]["dots_marks"] == 2 * len(
        api_json(explorer_url, "/datasets/demo/cell-types")["cell_types"]
    )


def test_keyboard_only_search(page, explorer_url) -> None:
    _open(page, explorer_url, view="genes", dataset="demo")
    active = page.driver.switch_to.active_element
    reached = []
    for _ in range(20):  # skip link, dataset, the view tabs, then the form
        active.send_keys(Keys.TAB)
        active = page.driver.switch_to.active_element
        reached.append(active.get_attribute("id") or active.text)
        if reached[-1] == "gene-add":
            break
    assert reached[-1] == "gene-add", reached
    active.send_keys("KRT18", Keys.ENTER)
    page.wait_ready()
    assert mark_counts(page)["dotplot"]["dots_marks"] > 0


def test_every_asset_is_local_and_nothing_errors(page, explorer_url) -> None:
    for params in VIEWS:
        _open(page, explorer_url, **params)
    page.driver.get(explorer_url + "/docs")
    wait_until(page, "return document.querySelectorAll('.opblock').length > 0")
    urls = requested_urls(page)
    assert any("/static/vendor/vega-6.4.0/vega.min.js" in u for u in urls)
    assert foreign(urls, explorer_url) == []
    assert console_errors(page) == []


def test_swagger_ui_tries_every_endpoint(page, explorer_url, tmp_path) -> None:
    document = api_json(explorer_url, "/openapi.json")
    operations = sum(len(methods) for methods in document["paths"].values())
    page.driver.get(explorer_url + "/docs")
    wait_until(page, "return document.querySelectorAll('.opblock').length > 0")
    assert len(page.driver.find_elements(By.CSS_SELECTOR, ".opblock")) == operations
    screenshot(page, tmp_path, "api-docs")
    for control in page.driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-control"):
        control.click()  # expand every operation: each is ready to be tried out
    wait_until(page, f"return document.querySelectorAll('.opblock .execute').length === {operations}")
    _click(page, "#operations-meta-getHealth .execute")
    status_cell = "#operations-meta-getHealth .live-responses-table tbody .response-col_status"
    status = wait_until(
        page, f"const c = document.querySelector('{status_cell}'); return c && c.textContent.trim();"
    )
    assert status.startswith("200")
    assert console_errors(page) == []


def test_slow_requests_show_progress_and_can_be_cancelled(page, explorer_url) -> None:
    _open(page, explorer_url, view="genes", dataset="demo")
    # Hold every /dot-plot response for 3 s, as a heavy query on a big study would.
    page.driver.execute_script(
        """
        const realFetch = window.fetch;
        window.fetch = (url, init) => String(url).includes('/dot-plot')
          ? new Promise((resolve, reject) => {
              const timer = setTimeout(() => realFetch(url, init).then(resolve, reject), 3000);
              init.signal.addEventListener('abort', () => {
                clearTimeout(timer);
                reject(new DOMException('aborted', 'AbortError'));
              });
            })
          : realFetch(url, init);
        """
    )
    page.driver.find_element(By.ID, "gene-add").send_keys("EPCAM", Keys.ENTER)
    wait_until(page, "return !document.getElementById('progress').hidden")
    assert text(page, "#progress-text").startswith("Computing…")
    _click(page, "#progress-cancel")
    page.wait_ready()
    assert page.driver.find_element(By.ID, "progress").get_attribute("hidden") is not None
    assert "dotplot" not in mark_counts(page)
    assert console_errors(page) == []
