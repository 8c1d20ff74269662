"""The dot plot with long and imperfect gene lists in headless Chromium: thousands of genes draw, every
unknown gene is listed with suggestions, names in another case are read and said so."""

from __future__ import annotations

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.helpers.browser import console_errors, mark_counts, open_view, wait_for_file, wait_until

pytestmark = pytest.mark.studies("wide", "demo", "pbmc")


def _get(base: str, path: str, **query) -> dict:
    response = requests.get(base + path, params=query, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _paste(page, base: str, dataset: str, text: str) -> None:
    """Open the dot plot of `dataset`, paste `text` into the gene list and press the button."""
    page.driver.get(f"{base}/?view=genes&dataset={dataset}")
    page.wait_ready()
    page.driver.execute_script("document.getElementById('genes-list').value = arguments[0]", text)
    page.driver.find_element(By.ID, "genes-submit").click()
    page.wait_ready()


def test_5000_genes_with_two_unknown_draw_and_list_both(page, explorer_url) -> None:
    known = [g["gene"] for g in _get(explorer_url, "/genes", dataset="wide", limit=100_000)["genes"]][:4998]
    assert len(known) == 4998
    genes = [*known[:2000], "NOTAGENE1", *known[2000:], "CD3DX"]
    _paste(page, explorer_url, "wide", "\n".join(genes))
    cell_types = _get(explorer_url, "/datasets/wide/cell-types")["cell_types"]
    assert mark_counts(page)["dotplot"]["dots_marks"] == 4998 * len(cell_types)
    listed = page.driver.find_elements(By.CSS_SELECTOR, "#genes-unknown li")
    assert [li.get_attribute("data-gene") for li in listed] == ["NOTAGENE1", "CD3DX"]
    assert "Not found in this dataset (2)" in page.driver.find_element(By.ID, "genes-unknown").text
    assert console_errors(page) == []


def test_unknown_gene_suggestion_replaces_it_and_case_is_read(page, explorer_url) -> None:
    _paste(page, explorer_url, "demo", "epcam KRT18 EPCM")
    cell_types = _get(explorer_url, "/datasets/demo/cell-types")["cell_types"]
    assert mark_counts(page)["dotplot"]["dots_marks"] == 2 * len(cell_types)
    assert "epcam → EPCAM" in page.driver.find_element(By.ID, "genes-resolved").text
    item = page.driver.find_element(By.CSS_SELECTOR, "#genes-unknown li[data-gene=EPCM]")
    item.find_element(By.XPATH, ".//button[text()='EPCAM']").click()
    page.wait_ready()
    assert page.driver.find_elements(By.ID, "genes-unknown") == []
    assert mark_counts(page)["dotplot"]["dots_marks"] == 2 * len(cell_types)
    # The exported image carries its title and a file name that says the same; the header says what the
    # values are in words.
    buttons = {b.text: b for b in page.driver.find_elements(By.CSS_SELECTOR, ".downloads button")}
    buttons["Download SVG"].click()
    svg = wait_for_file(page.downloads, ".svg")
    assert svg.name == "demo_dot-plot_EPCAM_KRT18.svg"
    assert ">Dot plot: EPCAM, KRT18 · dataset demo</text>" in svg.read_text()
    assert "values: raw counts" in page.driver.find_element(By.ID, "dataset-summary").text


def test_markers_warn_of_a_small_group_and_clip_pseudocount_fold_changes(page, explorer_url) -> None:
    counts = {
        c["cell_type"]: c["n_cells"] for c in _get(explorer_url, "/datasets/pbmc/cell-types")["cell_types"]
    }
    small = min(counts, key=counts.get)
    assert counts[small] < 20
    page.driver.get(f"{explorer_url}/?view=markers&dataset=pbmc&cell_type={requests.utils.quote(small)}")
    page.wait_ready()
    warning = page.driver.find_element(By.ID, "small-group-warning")
    assert f"has {counts[small]} cells" in warning.text
    shown = page.driver.execute_script(
        "const v = window.explorer.charts.volcano; const out = [];"
        "(function walk(n){ if (!n) return;"
        " if (n.name === 'genes_marks') out.push(...n.items.map(i => i.datum));"
        " for (const i of n.items || []) for (const c of i.items || []) walk(c); })"
        "(v.scenegraph().root);"
        "return out.map(d => [d.point, d.plot_log2_fold_change, d.log2_fold_change]);"
    )
    clipped = [p for p in shown if p[0] == "fold change bound (edge)"]
    measured = [abs(p[1]) for p in shown if p[0] != "fold change bound (edge)"]
    assert clipped and all(abs(p[1]) <= 1.1 * max(measured) + 1e-9 < abs(p[2]) for p in clipped)


def test_dot_plot_gene_groups_from_hash_lines_and_readable_cell_types(page, explorer_url) -> None:
    _paste(page, explorer_url, "demo", "# Epithelial\nEPCAM KRT18\n#Immune\nLYZ CD3D\n")
    assert "genes=%23Epithelial" in page.driver.current_url  # the groups travel in the URL
    assert page.driver.find_element(By.ID, "genes-list").get_attribute("value") == (
        "#Epithelial\nEPCAM KRT18\n#Immune\nLYZ CD3D"
    )
    cell_types = _get(explorer_url, "/datasets/demo/cell-types")["cell_types"]
    counts = mark_counts(page)["dotplot"]
    assert counts["dots_marks"] == 2 * len(cell_types) and counts["dots_2_marks"] == 2 * len(cell_types)
    assert console_errors(page) == []
    texts = page.driver.execute_script(
        "const out = []; (function walk(n) { if (!n) return;"
        " if (n.marktype === 'text') for (const i of n.items) out.push([n.role || '', i.text]);"
        " for (const i of n.items || []) for (const c of i.items || []) walk(c); })"
        "(window.explorer.charts.dotplot.scenegraph().root); return out;"
    )
    headers = [t for role, t in texts if role == "title-text"]
    labels = [str(t) for role, t in texts if role == "axis-label"]
    assert any("Epithelial" in str(h) for h in headers) and any("Immune" in str(h) for h in headers)
    # Cell-type names horizontal (or wrapped), none rotated: every label's angle is 0.
    angles = page.driver.execute_script(
        "const out = []; (function walk(n) { if (!n) return;"
        " if (n.role === 'axis-label') for (const i of n.items) out.push(i.angle || 0);"
        " for (const i of n.items || []) for (const c of i.items || []) walk(c); })"
        "(window.explorer.charts.dotplot.scenegraph().root); return out;"
    )
    assert labels and set(angles) == {0}
    width = page.driver.execute_script(
        "return document.querySelector('#chart-dotplot svg, #chart-dotplot canvas')"
        ".getBoundingClientRect().width"
    )
    main = page.driver.execute_script("return document.getElementById('main').getBoundingClientRect().width")
    assert width > 0.5 * main  # the plot uses the width
    table = page.driver.find_elements(By.CSS_SELECTOR, "table.data tbody tr")
    by_gene = {
        r.find_elements(By.TAG_NAME, "td")[0].text: r.find_elements(By.TAG_NAME, "td")[1].text for r in table
    }
    assert by_gene == {"EPCAM": "Epithelial", "KRT18": "Epithelial", "LYZ": "Immune", "CD3D": "Immune"}


def test_a_cell_type_name_cut_on_the_dot_plot_axis_reads_in_full_on_hover(page, explorer_url) -> None:
    # At 800 px the demo's 11 columns are too narrow for "Smooth muscle" in three wrapped lines: it is cut.
    page.driver.set_window_size(800, 1000)
    try:
        open_view(page, explorer_url, view="genes", dataset="demo", genes=["EPCAM", "KRT18"])
        cell_types = [c["cell_type"] for c in _get(explorer_url, "/datasets/demo/cell-types")["cell_types"]]
        labels = page.driver.find_elements(By.CSS_SELECTOR, "#chart-dotplot .role-axis-label text")
        cut = [label for label in labels if label.get_attribute("textContent").endswith("…")]
        assert cut, "no cell-type name is cut at this width: the test would prove nothing"
        title = "return document.getElementById('chart-dotplot').getAttribute('title')"
        for label in cut:
            ActionChains(page.driver).move_to_element(label).perform()
            full = wait_until(page, title)
            # The drawn lines (tspans, read without the spaces between them) begin the full name.
            drawn = label.get_attribute("textContent").removesuffix("…")
            assert full in cell_types and full.replace(" ", "").startswith(drawn.replace(" ", ""))
        # Off the labels (on the plot's title bar of the page) the chart has no title.
        ActionChains(page.driver).move_to_element(page.driver.find_element(By.ID, "view-title")).perform()
        assert page.driver.execute_script(title) is None
        assert console_errors(page) == []
    finally:
        page.driver.set_window_size(1280, 1000)


def test_single_gene_views_say_which_gene_they_used(page, explorer_url) -> None:
    page.driver.get(f"{explorer_url}/?view=pair&dataset=demo&gene_a=epcam&gene_b=KRT18")
    page.wait_ready()
    assert page.driver.find_element(By.ID, "genes-resolved").text == "Read as: epcam → EPCAM"
    expected = requests.post(
        explorer_url + "/gene-correlation",
        json={"dataset": "demo", "gene_a": "EPCAM", "gene_b": "KRT18"},
        timeout=60,
    ).json()
    assert page.driver.find_element(By.ID, "stat-r").text == f"{expected['correlation']:.4f}"
    page.driver.get(f"{explorer_url}/?view=coexpression&dataset=demo&gene=krt18")
    page.wait_ready()
    assert page.driver.find_element(By.ID, "genes-resolved").text == "Read as: krt18 → KRT18"
