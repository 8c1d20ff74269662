"""The Embedding view in headless Chromium: the cells drawn and the numbers shown are the API's (points and
the server's grid), a box drawn with the mouse becomes a group whose size is the API's and whose links carry
the polygon into the two-gene and the compare views, and the URL restores the selection."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from tests.helpers.chromium import skip_reason

if reason := skip_reason():  # one skip line for the module, saying how to get a browser
    pytest.skip(reason, allow_module_level=True)

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.helpers.browser import (
    api_json,
    console_errors,
    mark_counts,
    mark_items,
    open_view,
    text,
    wait_until,
)

pytestmark = pytest.mark.studies("pbmc", "demo", "tenx")
EMBEDDING = "pbmc.umap"


# A box dragged on the embedding chart's plot area, from and to fractions of its width and height (the
# pointer events Vega's interval selection listens to).
DRAG_JS = """
const [fx0, fy0, fx1, fy1] = arguments;
const view = window.explorer.charts.embedding;
const svg = document.querySelector('#chart-embedding svg, #chart-embedding canvas');
svg.scrollIntoView({ block: 'center' });
const box = svg.getBoundingClientRect();
const [ox, oy] = view.origin();
const at = (fx, fy, buttons) => ({
  clientX: box.left + ox + fx * view.width(), clientY: box.top + oy + fy * view.height(),
  bubbles: true, pointerId: 1, pointerType: 'mouse', isPrimary: true, button: 0, buttons,
});
const send = (type, fx, fy, buttons) => {
  const event = at(fx, fy, buttons);
  document.elementFromPoint(event.clientX, event.clientY).dispatchEvent(new PointerEvent(type, event));
};
send('pointermove', fx0, fy0, 0);
send('pointerdown', fx0, fy0, 1);
for (let i = 1; i <= 5; i++) send('pointermove', fx0 + (fx1 - fx0) * i / 5, fy0 + (fy1 - fy0) * i / 5, 1);
send('pointerup', fx1, fy1, 0);
"""


def _count(page) -> int:
    shown = wait_until(
        page,
        "const n = document.getElementById('selection-n');"
        " return n && /\\d/.test(n.textContent) && n.textContent;",
    )
    return int(shown.replace(",", ""))


def test_points_coloured_by_a_gene_are_the_apis(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="pbmc", gene="CST3")
    expected = api_json(
        explorer_url, "/embedding", {"dataset": "pbmc", "embedding": EMBEDDING, "gene": "CST3"}
    )
    assert text(page, "#emb-n") == f"{expected['n_cells']:,}"
    assert text(page, "#emb-expressing") == f"{expected['n_expressing']:,}"
    assert mark_counts(page)["embedding"]["cells_marks"] == expected["n_cells"] == 700
    drawn = {item["datum"]["barcode"]: item["datum"] for item in mark_items(page, "embedding", "cells_marks")}
    points = expected["points"]
    for i in (0, 350, 699):
        assert drawn[points["barcode"][i]]["value"] == points["value"][i]
        assert (drawn[points["barcode"][i]]["x"], drawn[points["barcode"][i]]["y"]) == (
            points["x"][i],
            points["y"][i],
        )
    assert console_errors(page) == []


def test_the_grid_is_the_servers_bins(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="demo", gene="EPCAM", display="bins")
    body = {"dataset": "demo", "embedding": "umap", "gene": "EPCAM", "max_points": 0, "bins": 100}
    expected = api_json(explorer_url, "/embedding", body)
    assert expected["mode"] == "bins"
    assert mark_counts(page)["embedding"]["bins_marks"] == len(expected["bins"]["n_cells"])
    drawn = [item["datum"] for item in mark_items(page, "embedding", "bins_marks")]
    assert (
        sum(d["n_cells"] for d in drawn) == expected["n_cells"] == int(text(page, "#emb-n").replace(",", ""))
    )
    assert sorted(d["mean"] for d in drawn) == sorted(expected["bins"]["mean"])
    # A lasso on the grid selects by the cells' own coordinates (the grid's scales are `bins_x`, `bins_y`).
    page.driver.find_element(By.ID, "select-lasso").click()
    page.driver.execute_script(LASSO_JS, [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]])
    shown = _count(page)
    lasso = wait_until(page, "return new URLSearchParams(location.search).get('lasso');")
    polygon = [[float(v) for v in pair.split()] for pair in lasso.split(",")]
    where = {"umap": {"polygon": polygon}}
    selected = api_json(
        explorer_url, "/embedding", {"dataset": "demo", "embedding": "umap", "where": where, "max_points": 0}
    )
    assert 0 < shown == selected["n_cells"] < expected["n_cells"]


def test_a_box_drawn_with_the_mouse_is_a_group_for_other_views(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="pbmc", gene="CST3")
    page.driver.execute_script(DRAG_JS, 0.2, 0.2, 0.6, 0.65)
    shown = _count(page)
    region = wait_until(page, "return new URLSearchParams(location.search).get('region');")
    x0, x1, y0, y1 = (float(v) for v in region.split(","))
    polygon = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    where = {EMBEDDING: {"polygon": polygon}}
    expected = api_json(
        explorer_url, "/embedding", {"dataset": "pbmc", "embedding": EMBEDDING, "where": where}
    )
    assert 0 < shown == expected["n_cells"] < 700

    compare = page.driver.find_element(By.ID, "use-compare").get_attribute("href")
    query = parse_qs(urlparse(compare).query)
    assert (
        query["view"] == ["compare"] and json.loads(query["a_where"][0]) == where and query["b"] == ["rest"]
    )
    pair = parse_qs(urlparse(page.driver.find_element(By.ID, "use-pair").get_attribute("href")).query)
    assert pair["view"] == ["pair"] and json.loads(pair["where"][0]) == where and pair["gene_a"] == ["CST3"]

    # The URL restores the selection; "show only these cells" draws just them.
    page.driver.refresh()
    page.wait_ready()
    assert _count(page) == shown
    page.driver.find_element(By.ID, "use-here").click()
    page.wait_ready()
    assert text(page, "#emb-n") == f"{shown:,}"
    assert mark_counts(page)["embedding"]["cells_marks"] == shown

    # The compare view tests the selected cells against every other cell.
    page.driver.get(compare)
    page.wait_ready()
    assert f"({shown:,} cells) vs" in text(page, "#compare-heading")
    assert f"({700 - shown:,} cells)" in text(page, "#compare-heading")


# A lasso traced on the lasso layer through the given fractions of the plot area.
LASSO_JS = """
const layer = document.getElementById('lasso-layer');
layer.scrollIntoView({ block: 'center' });
const box = layer.getBoundingClientRect();
const points = arguments[0];
const at = ([fx, fy], buttons) => ({
  clientX: box.left + fx * box.width, clientY: box.top + fy * box.height,
  bubbles: true, pointerId: 1, pointerType: 'mouse', isPrimary: true, button: 0, buttons,
});
layer.dispatchEvent(new PointerEvent('pointerdown', at(points[0], 1)));
for (const point of points.slice(1)) layer.dispatchEvent(new PointerEvent('pointermove', at(point, 1)));
layer.dispatchEvent(new PointerEvent('pointerup', at(points[points.length - 1], 0)));
"""


def test_a_lasso_is_a_polygon_group(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="pbmc")
    page.driver.find_element(By.ID, "select-lasso").click()
    trace = [[0.2, 0.2], [0.5, 0.15], [0.7, 0.5], [0.45, 0.8], [0.15, 0.6], [0.2, 0.21]]
    page.driver.execute_script(LASSO_JS, trace)
    shown = _count(page)
    text_polygon = wait_until(page, "return new URLSearchParams(location.search).get('lasso');")
    polygon = [[float(v) for v in pair.split()] for pair in text_polygon.split(",")]
    assert len(polygon) == len(trace)
    where = {EMBEDDING: {"polygon": polygon}}
    expected = api_json(
        explorer_url, "/embedding", {"dataset": "pbmc", "embedding": EMBEDDING, "where": where}
    )
    assert 0 < shown == expected["n_cells"] < 700
    page.driver.refresh()
    page.wait_ready()
    assert _count(page) == shown


def test_a_box_can_be_typed_with_the_keyboard(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="pbmc", gene="CST3")
    for field, value in (("box-x0", "-6"), ("box-x1", "1.5"), ("box-y0", "3"), ("box-y1", "11")):
        page.driver.find_element(By.ID, field).send_keys(value)
    page.driver.find_element(By.ID, "box-y1").send_keys(Keys.ENTER)
    shown = _count(page)
    polygon = [[-6.0, 3.0], [1.5, 3.0], [1.5, 11.0], [-6.0, 11.0]]
    where = {EMBEDDING: {"polygon": polygon}}
    expected = api_json(
        explorer_url, "/embedding", {"dataset": "pbmc", "embedding": EMBEDDING, "where": where}
    )
    assert shown == expected["n_cells"] > 0
    assert wait_until(page, "return new URLSearchParams(location.search).get('region');") == "-6,1.5,3,11"


def test_the_polygon_group_opens_the_two_gene_view_with_the_apis_numbers(page, explorer_url) -> None:
    polygon = [[-6.0, 4.0], [0.5, 3.0], [1.5, 9.5], [-2.0, 11.5], [-7.0, 8.0]]
    where = json.dumps({EMBEDDING: {"polygon": polygon}})
    open_view(page, explorer_url, view="pair", dataset="pbmc", gene_a="CST3", gene_b="FCER1G", where=where)
    body = {"dataset": "pbmc", "gene_a": "CST3", "gene_b": "FCER1G", "where": json.loads(where)}
    expected = api_json(explorer_url, "/gene-correlation", body)
    assert text(page, "#stat-n") == f"{expected['observation_count']:,}"
    assert text(page, "#stat-r") == f"{expected['pearson_correlation']:.4f}"


def test_an_unknown_embedding_falls_back_and_a_study_without_one_says_so(page, explorer_url) -> None:
    open_view(page, explorer_url, view="embedding", dataset="pbmc", embedding="nope", color_by="phase")
    assert page.driver.find_element(By.ID, "embedding-name").get_attribute("value") == EMBEDDING
    assert mark_counts(page)["embedding"]["cells_marks"] == 700
    open_view(page, explorer_url, view="embedding", dataset="tenx")
    assert "no embedding" in text(page, "#no-embedding")
