"""The same study from an HDF5 file and from its text files gives the same marts, row for row (rtol 1e-9).

`built_store` holds each HDF5 dataset beside the dataset loaded from the text files it was written from
(`SAME_STUDY_AS`); test_marts_oracle.py compares every one of them with numpy/scipy as well.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tests.helpers.studies import SAME_STUDY_AS, query_columns

RTOL = 1e-9
ATOL = 1e-12
KEYS = ("cell_type", "gene")
MART_SQL = {
    "gene_stats": "SELECT * EXCEPT (dataset) FROM marts.gene_stats WHERE dataset = {dataset:String}"
    " ORDER BY cell_type, gene",
    "marker_genes": "SELECT * EXCEPT (dataset) FROM marts.marker_genes WHERE dataset = {dataset:String}"
    " ORDER BY cell_type, gene",
}


def _floats(values: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


@pytest.mark.parametrize("mart", list(MART_SQL))
@pytest.mark.parametrize("hdf5_dataset", list(SAME_STUDY_AS))
def test_hdf5_study_marts_equal_the_text_study(
    engine_client, built_store, hdf5_dataset: str, mart: str
) -> None:
    actual = query_columns(engine_client, MART_SQL[mart], hdf5_dataset)
    expected = query_columns(engine_client, MART_SQL[mart], SAME_STUDY_AS[hdf5_dataset])
    assert set(actual) == set(expected) and len(actual["gene"]) == len(expected["gene"]) > 0
    for name, values in expected.items():
        what = f"{hdf5_dataset}.{mart}.{name}"
        if values.dtype == object and any(isinstance(v, str) for v in values):
            assert_array_equal(actual[name], values, err_msg=what)
            continue
        got, want = _floats(actual[name]), _floats(values)
        assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"{what}: NULL pattern")
        assert_allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=what)


def test_cellxgene_study_loads_counts_with_no_options(engine_client, built_store) -> None:
    """Ensembl IDs as var_names, symbols in feature_name, counts in raw/X: lognorm is computed from counts."""
    rows = engine_client.query(
        "SELECT layout, value_kind, cell_type_column, sample_column, source_files FROM marts.datasets"
        " INNER JOIN (SELECT dataset, source_files FROM raw.loads FINAL WHERE status = 'loaded') AS l"
        " USING dataset WHERE dataset = 'cellxgene'"
    ).result_rows
    layout, value_kind, cell_type_column, sample_column, source_files = rows[0]
    assert (layout, value_kind, cell_type_column, sample_column) == (
        "h5ad",
        "counts",
        "cell_type",
        "donor_id",
    )
    assert '"layer": "raw/X"' in source_files
    genes = engine_client.query(
        "SELECT gene_id, gene FROM marts.genes WHERE dataset = 'cellxgene' ORDER BY gene_idx LIMIT 10"
    ).result_rows
    assert genes[0] == ("ENSG00000", "GENE0") and genes[9] == ("ENSG00009", "GENE8-1")
