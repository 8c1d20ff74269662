"""Any group of cells in the explorer (headless Chromium against a real gateway on the demo-like study): the
filter panel's `where` on the dot plot and the two-gene view, compare-by, the "Compare two groups" view, the
URL restoring all of it and the context carrying over between views and datasets — numbers on the page are
the API's."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.helpers.browser import (
    api_json,
    console_errors,
    mark_counts,
    mark_items,
    open_view,
    screenshot,
    text,
)

pytestmark = pytest.mark.studies("pbmc", "demo")


WHERE = {"condition": ["recurrent", "treatment-naive"], "pct_mito": {"max": 5}}


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


def test_filtered_dot_plot_from_the_panel_equals_the_api(page, explorer_url, tmp_path) -> None:
    genes = ["EPCAM", "KRT18", "CD3D"]
    open_view(page, explorer_url, view="genes", dataset="demo", genes=genes)
    columns = {c["name"]: c for c in api_json(explorer_url, "/datasets/demo/metadata")["columns"]}
    _open_filters(page)
    # Every group value is listed with its cell count, as the metadata endpoint counts them.
    panel = _find(page, "details.filters").text
    for value in columns["condition"]["values"]:
        assert f"{value['value']} ({value['cells']:,})" in panel
    # A study column that only repeats cell_type or sample (the metadata file's own names for them) is not
    # offered twice.
    legends = {
        e.text.split(" (")[0] for e in page.driver.find_elements(By.CSS_SELECTOR, "fieldset.filter legend")
    }
    signature = {n: [(v["value"], v["cells"]) for v in c["values"] or []] for n, c in columns.items()}
    copies = {
        n
        for n in columns
        if n not in ("cell_type", "sample") and signature[n] in (signature["cell_type"], signature["sample"])
    }
    assert copies and not copies & legends and {"cell_type", "sample", "condition", "pct_mito"} <= legends
    for value in WHERE["condition"]:
        _find(page, f"input[name='where:condition'][value='{value}']").click()
    _find(page, "input[name='where:pct_mito:max']").send_keys("5")
    assert "where" not in _url_params(page)  # nothing applies before the button
    _find(page, "#genes-submit").click()
    page.wait_ready()

    where = json.loads(_url_params(page)["where"][0])
    listed = [v["value"] for v in columns["condition"]["values"]]  # the panel's order
    assert where == {"condition": sorted(WHERE["condition"], key=listed.index), "pct_mito": {"max": 5}}
    expected = api_json(explorer_url, "/dot-plot", dataset="demo", genes=genes, where=json.dumps(where))
    unfiltered = api_json(explorer_url, "/dot-plot", dataset="demo", genes=genes)
    _dots_equal_api(page, expected)
    assert sum(r["n_cells"] for r in expected["rows"]) < sum(r["n_cells"] for r in unfiltered["rows"])
    assert "recurrent" in text(page, "#where-note") and "pct_mito ≤ 5" in text(page, "#where-note")
    screenshot(page, tmp_path, "dot-plot-filtered")

    # The URL restores it exactly: the panel's boxes and bounds, and the same dots.
    page.driver.refresh()
    page.wait_ready()
    assert sorted(_checked(page, "where:condition")) == sorted(WHERE["condition"])
    assert _find(page, "input[name='where:pct_mito:max']").get_attribute("value") == "5"
    _dots_equal_api(page, expected)
    assert console_errors(page) == []


def test_dot_plot_compared_by_a_column(page, explorer_url, tmp_path) -> None:
    genes = ["EPCAM", "CD3D"]
    open_view(
        page,
        explorer_url,
        view="genes",
        dataset="demo",
        genes=genes,
        compare_by="condition",
        where=json.dumps({"sex": ["female"]}),
    )
    expected = api_json(
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
    screenshot(page, tmp_path, "dot-plot-compare-by")


def test_two_genes_by_a_metadata_column_with_the_difference_test(page, explorer_url) -> None:
    body = {
        "dataset": "demo",
        "gene_a": "EPCAM",
        "gene_b": "KRT18",
        "cell_types": ["Epithelial"],
        "where": {"pct_mito": {"max": 6}},
    }
    expected = api_json(explorer_url, "/gene-correlation", {**body, "by": "sex"})
    open_view(
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
    assert text(page, "#stat-r") == f"{expected['correlation']:.4f}"
    assert text(page, "#stat-n") == f"{expected['observation_count']:,}"
    assert mark_counts(page)["pair"]["cells_marks"] == expected["observation_count"]
    defined = [g for g in expected["groups"] if g["correlation"] is not None]
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

    # From "do the correlations differ" to "which genes differ": the two groups open in the compare view.
    _find(page, "#compare-groups-link").click()
    page.wait_ready()
    first, second = difference["groups"]
    params = _url_params(page)
    assert params["a_cell_types"] == params["b_cell_types"] == ["Epithelial"]
    assert json.loads(params["a_where"][0]) == {**body["where"], "sex": [first]}
    assert json.loads(params["b_where"][0]) == {**body["where"], "sex": [second]}
    sides = [{"cell_types": ["Epithelial"], "where": {**body["where"], "sex": [g]}} for g in (first, second)]
    expected = api_json(
        explorer_url,
        "/differential-expression",
        {"dataset": "demo", "group_a": sides[0], "group_b": sides[1], "limit": 10},
    )
    assert [r[1] for r in _table(page, "#compare-table")][:10] == [r["gene"] for r in expected["results"]]


def test_context_carries_over_between_views_and_datasets(page, explorer_url) -> None:
    where = {"condition": ["recurrent"]}
    open_view(
        page, explorer_url, view="genes", dataset="demo", genes=["EPCAM", "KRT18"], where=json.dumps(where)
    )
    page.driver.find_element(By.LINK_TEXT, "Two genes").click()
    page.wait_ready()
    assert _find(page, "#gene-a").get_attribute("value") == "EPCAM"
    assert _find(page, "#gene-b").get_attribute("value") == "KRT18"
    assert json.loads(_url_params(page)["where"][0]) == where
    assert _checked(page, "where:condition") == ["recurrent"]
    body = {"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18", "where": where}
    assert (
        text(page, "#stat-n") == f"{api_json(explorer_url, '/gene-correlation', body)['observation_count']:,}"
    )

    # To a dataset without these genes, cell types or columns: what it lacks is left behind, not an error.
    Select(_find(page, "#dataset")).select_by_value("pbmc")
    page.wait_ready()
    params = _url_params(page)
    assert params["view"] == ["pair"] and params["dataset"] == ["pbmc"]
    # The PBMC study has neither EPCAM nor KRT18, nor a `condition` column (tests/data/pbmc68k_scp).
    for gene in ("EPCAM", "KRT18"):
        assert gene not in {
            g["gene"] for g in api_json(explorer_url, "/genes", dataset="pbmc", prefix=gene)["genes"]
        }
    assert "condition" not in {
        c["name"] for c in api_json(explorer_url, "/datasets/pbmc/metadata")["columns"]
    }
    assert not {"gene_a", "gene_b", "where"} & set(params)
    assert all(name in text(page, "#left-behind") for name in ("EPCAM", "KRT18", "condition"))
    # And back: the genes come along again when the new dataset has them.
    open_view(page, explorer_url, view="genes", dataset="pbmc", genes=["CD3D", "NKG7"])
    Select(_find(page, "#dataset")).select_by_value("demo")
    page.wait_ready()
    demo_has = {
        g
        for g in ("CD3D", "NKG7")
        if any(x["gene"] == g for x in api_json(explorer_url, "/genes", dataset="demo", prefix=g)["genes"])
    }
    assert set(_url_params(page).get("genes", [])) == demo_has
    assert console_errors(page, allow=("status of 404",)) == []


def _table(page, css: str) -> list[list[str]]:
    """The cells' shown text, row by row (one script call, not one WebDriver call per cell)."""
    return page.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' tbody tr')]"
        ".map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))",
        css,
    )


def _js_num(value: float) -> str:
    """format.js's fmt.num for values between 1e-3 and 1e5: four significant digits, no trailing zeros."""
    return f"{float(f'{value:.4g}'):g}"


def test_compare_two_groups_picked_on_the_page_equals_the_api(page, explorer_url, tmp_path) -> None:
    import csv
    import io

    from tests.helpers.browser import wait_for_file

    open_view(page, explorer_url, view="compare", dataset="demo")
    _find(page, "input[name=a_cell_types][value=Epithelial]").click()
    _open_filters(page, "a_where")
    _find(page, "input[name='a_where:condition'][value='recurrent']").click()
    _find(page, "#b-group").click()
    _find(page, "input[name=b_cell_types][value=Epithelial]").click()
    _open_filters(page, "b_where")
    _find(page, "input[name='b_where:condition'][value='treatment-naive']").click()
    Select(_find(page, "#de-method")).select_by_value("t-test")
    _find(page, "#compare-submit").click()
    page.wait_ready()

    params = _url_params(page)
    assert params["a_cell_types"] == ["Epithelial"] and params["b_cell_types"] == ["Epithelial"]
    assert json.loads(params["a_where"][0]) == {"condition": ["recurrent"]}
    assert json.loads(params["b_where"][0]) == {"condition": ["treatment-naive"]}
    assert params["b"] == ["group"] and params["method"] == ["t-test"]
    n_genes = next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "demo")[
        "n_genes"
    ]
    expected = api_json(
        explorer_url,
        "/differential-expression",
        {
            "dataset": "demo",
            "group_a": {"cell_types": ["Epithelial"], "where": {"condition": ["recurrent"]}},
            "group_b": {"cell_types": ["Epithelial"], "where": {"condition": ["treatment-naive"]}},
            "method": "t-test",
            "limit": n_genes,
        },
    )
    assert f"({expected['n_a']:,} cells)" in text(page, "#compare-heading")
    assert f"({expected['n_b']:,} cells)" in text(page, "#compare-heading")
    table = _table(page, "#compare-table")
    assert [r[1] for r in table] == [r["gene"] for r in expected["results"][: len(table)]]
    for shown, row in zip(table, expected["results"], strict=False):
        if row["score"] is not None and 1e-3 <= abs(row["score"]) < 1e5:
            assert shown[2] == _js_num(row["score"]), (shown, row)
    assert mark_counts(page)["volcano"]["genes_marks"] == len(expected["results"])
    screenshot(page, tmp_path, "compare-two-groups")

    # Sorting by a header re-orders by that column.
    page.driver.find_element(By.CSS_SELECTOR, "#compare-table th button[data-key=log2_fold_change]").click()
    top = max(expected["results"], key=lambda r: r["log2_fold_change"])
    assert _table(page, "#compare-table")[0][1] == top["gene"]

    # The CSV holds every gene to full precision, = the API.
    buttons = {b.text: b for b in page.driver.find_elements(By.CSS_SELECTOR, ".downloads button")}
    assert {
        "Download CSV",
        "Download .h5ad",
        "Download SVG",
        "Download PNG",
        "Download .h5ad (group B)",
    } <= set(buttons)
    # Each group's cells as AnnData: A's and B's cell counts are the API's n_a and n_b.
    import anndata

    buttons["Download .h5ad (group B)"].click()
    group_b = wait_for_file(page.downloads, "_group-B.h5ad", timeout=30)
    adata = anndata.read_h5ad(group_b)
    assert adata.n_obs == expected["n_b"] and set(adata.obs["condition"]) == {"treatment-naive"}
    group_b.unlink()
    buttons["Download .h5ad"].click()
    adata = anndata.read_h5ad(wait_for_file(page.downloads, ".h5ad", timeout=30))
    assert adata.n_obs == expected["n_a"] and set(adata.obs["condition"]) == {"recurrent"}
    assert set(adata.obs["cell_type"]) == {"Epithelial"}
    buttons["Download CSV"].click()
    rows = list(csv.DictReader(io.StringIO(wait_for_file(page.downloads, ".csv").read_text())))
    assert [r["gene"] for r in rows] == [r["gene"] for r in expected["results"]]
    numbers = ("score", "log2_fold_change", "p_value", "p_value_adj", "mean_a", "mean_b", "pct_a", "pct_b")
    for got, row in zip(rows, expected["results"], strict=True):
        assert got["fold_change_bound"] == str(row["fold_change_bound"]).lower()
        for field in (*numbers, "expm1_mean_a", "expm1_mean_b"):
            shown = got[field]
            assert (shown == "" and row[field] is None) or float(shown) == row[field], (field, got, row)
    assert console_errors(page) == []


def test_compare_a_group_with_the_rest_restores_from_its_url(page, explorer_url) -> None:
    where = {"sex": ["male"], "pct_mito": {"min": 1}}
    open_view(
        page,
        explorer_url,
        view="compare",
        dataset="demo",
        a_cell_types=["T cell"],
        a_where=json.dumps(where),
        b="rest",
    )
    n_genes = next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "demo")[
        "n_genes"
    ]
    body = {"dataset": "demo", "group_a": {"cell_types": ["T cell"], "where": where}, "limit": n_genes}
    expected = api_json(explorer_url, "/differential-expression", body)
    assert (
        expected["n_a"] + expected["n_b"]
        == next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "demo")[
            "n_cells"
        ]
    )
    assert f"({expected['n_b']:,} cells)" in text(page, "#compare-heading")
    assert Select(_find(page, "#de-method")).first_selected_option.get_attribute("value") == "wilcoxon"
    assert [r[1] for r in _table(page, "#compare-table")] == [r["gene"] for r in expected["results"][:50]]
    assert not _find(page, "#group-b").is_displayed()
    first = (page.driver.find_element(By.ID, "main").text, mark_counts(page))
    page.driver.refresh()
    page.wait_ready()
    assert (page.driver.find_element(By.ID, "main").text, mark_counts(page)) == first
    assert _checked(page, "a_cell_types") == ["T cell"] and _checked(page, "a_where:sex") == ["male"]
    assert _find(page, "input[name='a_where:pct_mito:min']").get_attribute("value") == "1"

    # A bad selection is the gateway's one-line 400, inline.
    open_view(
        page, explorer_url, view="compare", dataset="demo", a_where=json.dumps({"nope": ["x"]}), b="rest"
    )
    assert "unknown column 'nope'" in text(page, "[role=alert]")
    open_view(page, explorer_url, view="compare", dataset="demo", a_where="{broken")
    assert text(page, "[role=alert]").startswith("a_where: not JSON")


def test_coexpression_markers_and_variability_take_the_filter(page, explorer_url) -> None:
    where = {"condition": ["recurrent", "neoadjuvant chemo"], "pct_mito": {"min": 0.5}}
    encoded = json.dumps(where)
    coexp = api_json(
        explorer_url,
        "/genes/KRT18/coexpression",
        dataset="demo",
        cell_types="Epithelial",
        limit=10,
        where=encoded,
    )
    open_view(
        page,
        explorer_url,
        view="coexpression",
        dataset="demo",
        gene="KRT18",
        cell_types="Epithelial",
        limit=10,
        where=encoded,
    )
    assert f"({coexp['observation_count']:,} cells)" in page.driver.find_element(By.CSS_SELECTOR, "h3").text
    assert [r[1] for r in _table(page, "table.data")] == [r["gene"] for r in coexp["results"]]

    n_genes = next(d for d in api_json(explorer_url, "/datasets")["datasets"] if d["dataset"] == "demo")[
        "n_genes"
    ]
    markers = api_json(
        explorer_url, "/cell-types/T cell/markers", dataset="demo", limit=n_genes, where=encoded
    )
    open_view(page, explorer_url, view="markers", dataset="demo", cell_type="T cell", where=encoded)
    assert [r[1] for r in _table(page, "table.data")] == [r["gene"] for r in markers["results"][:50]]
    assert mark_counts(page)["volcano"]["genes_marks"] == len(markers["results"])
    # From a cell type's markers to comparing it with a group of one's choice.
    page.driver.find_element(By.PARTIAL_LINK_TEXT, "Compare T cell with").click()
    page.wait_ready()
    assert _checked(page, "a_cell_types") == ["T cell"] and sorted(
        _checked(page, "a_where:condition")
    ) == sorted(where["condition"])
    assert "Pick group B" in text(page, "#compare-hint")

    variable = api_json(
        explorer_url,
        "/gene-variability",
        # The view's stated default filter: genes expressed in >= 5 % of the cells.
        {
            "dataset": "demo",
            "cell_type": "Fibroblast",
            "limit": 20,
            "where": where,
            "min_pct_expressing": 0.05,
        },
    )
    open_view(
        page,
        explorer_url,
        view="variability",
        dataset="demo",
        cell_type="Fibroblast",
        limit=20,
        where=encoded,
    )
    assert [r[1] for r in _table(page, "table.data")] == [r["gene"] for r in variable]
    assert console_errors(page) == []


def test_a_misspelt_filter_value_is_corrected_by_the_suggestion(page, explorer_url) -> None:
    open_view(
        page,
        explorer_url,
        view="genes",
        dataset="demo",
        genes=["EPCAM"],
        where=json.dumps({"condition": ["recurent"]}),
    )
    alert = _find(page, "[role=alert]")
    assert "unknown value 'recurent'" in alert.text
    alert.find_element(By.XPATH, ".//button[text()='recurrent']").click()
    page.wait_ready()
    assert json.loads(_url_params(page)["where"][0]) == {"condition": ["recurrent"]}
    _dots_equal_api(
        page,
        api_json(
            explorer_url,
            "/dot-plot",
            dataset="demo",
            genes=["EPCAM"],
            where=json.dumps({"condition": ["recurrent"]}),
        ),
    )
    assert console_errors(page, allow=("status of 400",)) == []


def test_an_embedding_region_passes_through_the_panel_untouched(page, explorer_url) -> None:
    embedding = api_json(explorer_url, "/datasets/demo/embeddings")["embeddings"][0]
    middle = (embedding["x_min"] + embedding["x_max"]) / 2
    box = [
        [embedding["x_min"], embedding["y_min"]],
        [middle, embedding["y_min"]],
        [middle, embedding["y_max"]],
    ]
    where = {"condition": ["recurrent"], embedding["name"]: {"polygon": box}}
    open_view(page, explorer_url, view="genes", dataset="demo", genes=["EPCAM"], where=json.dumps(where))
    expected = api_json(explorer_url, "/dot-plot", dataset="demo", genes=["EPCAM"], where=json.dumps(where))
    _dots_equal_api(page, expected)
    # The panel has no input for a region: it keeps it as it came (a box to drop it) and Apply sends it back.
    assert _checked(page, f"where:{embedding['name']}") == ["keep"]
    _find(page, "#genes-submit").click()
    page.wait_ready()
    assert json.loads(_url_params(page)["where"][0]) == where
    _open_filters(page)
    _find(page, f"input[name='where:{embedding['name']}']").click()
    _find(page, "#genes-submit").click()
    page.wait_ready()
    assert json.loads(_url_params(page)["where"][0]) == {"condition": ["recurrent"]}


def test_the_selection_carries_into_the_compare_view_as_group_a(page, explorer_url) -> None:
    where = {"sex": ["female"]}
    open_view(
        page, explorer_url, view="markers", dataset="demo", cell_type="Fibroblast", where=json.dumps(where)
    )
    page.driver.find_element(By.LINK_TEXT, "Compare two groups").click()
    page.wait_ready()
    params = _url_params(page)
    assert params["a_cell_types"] == ["Fibroblast"] and json.loads(params["a_where"][0]) == where
    assert _checked(page, "a_cell_types") == ["Fibroblast"] and _checked(page, "a_where:sex") == ["female"]
    assert "b" not in params and not page.driver.find_elements(
        By.ID, "compare-table"
    )  # filled, not yet asked
    _find(page, "#compare-submit").click()  # A vs the rest, Wilcoxon
    page.wait_ready()
    body = {"dataset": "demo", "group_a": {"cell_types": ["Fibroblast"], "where": where}, "limit": 5}
    expected = api_json(explorer_url, "/differential-expression", body)
    assert [r[1] for r in _table(page, "#compare-table")][:5] == [r["gene"] for r in expected["results"]]
    # Back to the dot plot: group A's filter is the filter there.
    page.driver.find_element(By.LINK_TEXT, "Genes × cell types").click()
    page.wait_ready()
    assert json.loads(_url_params(page)["where"][0]) == where
