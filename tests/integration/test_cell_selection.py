"""Cell metadata discovery (GET /datasets/{dataset}/metadata) and the `where` selection on every question,
against numpy on the same files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.oracle import DenseStudy
from tests.helpers.studies import ARM_COLUMN, read_counts


@pytest.fixture(scope="module")
def counts(counts_study_dir: Path) -> DenseStudy:
    return read_counts(counts_study_dir)


def test_metadata_lists_every_column_with_values_or_range(api, counts: DenseStudy) -> None:
    response = api.get("/datasets/counts/metadata")
    assert response.status_code == 200
    columns = {c["name"]: c for c in response.json["columns"]}
    assert list(columns)[:2] == ["cell_type", "sample"]
    assert set(columns) == {"cell_type", "sample", "Cluster", "Subject", "n_counts", ARM_COLUMN, "pct_mito"}
    for name, labels in (("cell_type", counts.cell_types), (ARM_COLUMN, counts.groups[ARM_COLUMN])):
        expected = Counter(v for v in labels if v is not None)
        listed = columns[name]["values"]
        assert {v["value"]: v["cells"] for v in listed} == expected
        assert [v["cells"] for v in listed] == sorted(expected.values(), reverse=True)
        assert columns[name]["kind"] == "group" and columns[name]["n_more_values"] == 0
    mito = counts.numbers["pct_mito"]
    assert columns["pct_mito"]["kind"] == "numeric" and columns["pct_mito"]["values"] is None
    assert columns["pct_mito"]["min"] == pytest.approx(np.nanmin(mito))
    assert columns["pct_mito"]["max"] == pytest.approx(np.nanmax(mito))
    assert columns["pct_mito"]["cells"] == int(np.isfinite(mito).sum())


def test_metadata_caps_the_values_with_a_count_of_the_rest(api) -> None:
    response = api.get("/datasets/pbmc/metadata", query_string={"max_values": 2})
    cell_type = response.json["columns"][0]
    assert len(cell_type["values"]) == 2 and cell_type["n_more_values"] == 8


def test_metadata_of_a_study_without_metadata_and_of_an_unknown_one(api) -> None:
    response = api.get("/datasets/tenx/metadata")
    assert [c["name"] for c in response.json["columns"]] == ["cell_type", "sample"]
    assert api.get("/datasets/nope/metadata").status_code == 404
