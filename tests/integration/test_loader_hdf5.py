"""AnnData .h5ad and Cell Ranger .h5 studies through the loader: landed exactly, metadata kept, and every bad
file refused in one line with the previously loaded version intact."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from loader import LoaderError, load_dataset
from tests.helpers.hdf5_inputs import as_encoding, pbmc_h5ad, write_h5ad
from tests.helpers.oracle import read_dense
from tests.helpers.paths import TENX_H5_DIR, TENX_V3_DIR
from tests.integration.test_loader import assert_intact, matrix_of


def _study(seed: int = 0) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """cells × genes counts with an all-zero cell, obs of every kind of column, var with symbols."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 6, size=(6, 5)) * (rng.random((6, 5)) < 0.6)
    counts[4] = 0
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(["T cell", "B cell", None, "T cell", "B cell", "NK"]),
            "donor_id": pd.Categorical(["d1", "d1", "d2", "d2", None, "d3"]),
            "n_counts": counts.sum(axis=1).astype(np.float64),
            "n_genes": pd.array([1, 2, None, 4, 5, 6], dtype="Int64"),
            "is_primary_data": [True, False, True, True, False, True],
            "note": ["a", "b", None, "d", "e", "f"],
        },
        index=[f"CELL{i}-1" for i in range(6)],
    )
    var = pd.DataFrame(
        {"feature_name": ["CD3D", "MS4A1", "CD3D", "NKG7", "GAPDH"]}, index=[f"ENSG{i}" for i in range(5)]
    )
    return counts, obs, var


def test_h5ad_lands_exactly_with_every_obs_column(engine_client, tmp_path: Path) -> None:
    counts, obs, var = _study()
    path = write_h5ad(tmp_path / "s.h5ad", sp.csr_matrix(counts.astype(np.float32)), obs, var)
    result = load_dataset(engine_client, path)
    assert (result.dataset, result.layout, result.value_kind) == ("s", "h5ad X", "counts")
    assert (result.n_genes, result.n_cells, result.nnz, result.n_metadata_cells) == (
        5,
        6,
        (counts > 0).sum(),
        6,
    )
    np.testing.assert_array_equal(matrix_of(engine_client, "s", result.load_id, (5, 6)), counts.T)
    genes = engine_client.query(
        "SELECT gene_id, gene, symbol FROM raw.genes WHERE dataset = 's' ORDER BY gene_index"
    ).result_rows
    assert genes[2] == ("ENSG2", "CD3D-1", "CD3D")
    rows = engine_client.query(
        "SELECT barcode, cell_type, sample, group_attributes, numeric_attributes FROM raw.metadata"
        " WHERE dataset = 's' ORDER BY barcode"
    ).result_rows
    by_cell = {r[0]: r[1:] for r in rows}
    assert by_cell["CELL2-1"][:2] == ("unannotated", "d2") and by_cell["CELL4-1"][:2] == ("B cell", "")
    assert by_cell["CELL0-1"][2] == {
        "cell_type": "T cell",
        "donor_id": "d1",
        "is_primary_data": "True",
        "note": "a",
    }
    assert by_cell["CELL0-1"][3] == {"n_counts": float(counts[0].sum()), "n_genes": 1.0}
    assert by_cell["CELL2-1"][3] == {"n_counts": float(counts[2].sum())}  # missing values are left out


@pytest.mark.parametrize("encoding", ["csr", "csc", "dense"])
def test_h5ad_real_values_in_every_encoding(engine_client, tmp_path: Path, encoding: str) -> None:
    counts, obs, var = _study(1)
    values = np.log1p(counts * 0.37)
    path = write_h5ad(tmp_path / "r.h5ad", as_encoding(values, encoding), obs, var)
    result = load_dataset(engine_client, path, dataset=f"h5_real_{encoding}")
    assert result.value_kind == "real"
    landed = matrix_of(engine_client, f"h5_real_{encoding}", result.load_id, (5, 6))
    np.testing.assert_array_equal(landed, values.T)


def test_layer_option_and_dataset_name(engine_client, tmp_path: Path) -> None:
    counts, obs, var = _study(2)
    lognorm = np.log1p(counts.astype(np.float64))
    path = write_h5ad(
        tmp_path / "l.h5ad", sp.csr_matrix(lognorm), obs, var, layers={"spliced": sp.csr_matrix(counts)}
    )
    result = load_dataset(engine_client, path, dataset="h5_layer", layer="spliced")
    assert (result.layout, result.value_kind) == ("h5ad layers/spliced", "counts")
    # only layers/counts is a default candidate: another layer is loaded when asked for
    assert load_dataset(engine_client, path, dataset="h5_layer").layout == "h5ad X"
    result = load_dataset(engine_client, path, dataset="h5_layer", layer="X")
    assert (result.layout, result.value_kind) == ("h5ad X", "real")


def test_cell_ranger_h5_equals_its_text_directory(engine_client) -> None:
    """scanpy's real Cell Ranger 3 output, as .h5 and as filtered_feature_bc_matrix/: the same dataset."""
    h5 = load_dataset(engine_client, TENX_H5_DIR / "v3_filtered_feature_bc_matrix.h5", dataset="h5_v3")
    text = load_dataset(engine_client, TENX_V3_DIR, dataset="h5_v3_text")
    assert (h5.layout, h5.value_kind, h5.n_genes, h5.n_cells, h5.nnz) == (
        "10x-h5",
        "counts",
        text.n_genes,
        text.n_cells,
        text.nnz,
    )
    shape = (text.n_genes, text.n_cells)
    np.testing.assert_array_equal(
        matrix_of(engine_client, "h5_v3", h5.load_id, shape),
        matrix_of(engine_client, "h5_v3_text", text.load_id, shape),
    )
    sql = "SELECT gene_id, gene, symbol, feature_type FROM raw.genes WHERE dataset = {d:String}"
    sql += " ORDER BY gene_index"
    assert (
        engine_client.query(sql, parameters={"d": "h5_v3"}).result_rows
        == engine_client.query(sql, parameters={"d": "h5_v3_text"}).result_rows
    )
    sql = "SELECT barcode FROM raw.barcodes WHERE dataset = {d:String} ORDER BY cell_index"
    assert (
        engine_client.query(sql, parameters={"d": "h5_v3"}).result_rows
        == engine_client.query(sql, parameters={"d": "h5_v3_text"}).result_rows
    )


def test_directory_holding_one_h5(engine_client, tmp_path: Path) -> None:
    outs = tmp_path / "outs"
    outs.mkdir()
    shutil.copy(TENX_H5_DIR / "v2_hg19_chr21.h5", outs / "filtered_gene_bc_matrices_h5.h5")
    (outs / "web_summary.html").write_text("<html></html>")
    result = load_dataset(engine_client, outs)
    oracle = read_dense(
        *(TENX_H5_DIR.parent / "tenx_v2_hg19_chr21" / n for n in ("matrix.mtx", "genes.tsv", "barcodes.tsv"))
    )
    assert (result.dataset, result.layout) == ("outs", "10x-h5")
    np.testing.assert_array_equal(
        matrix_of(engine_client, "outs", result.load_id, oracle.matrix.shape), oracle.matrix
    )


# --- refused files: each breaks one thing; the previously loaded version must stay served -----------------


def _rewrite(path: Path, change: Callable[[h5py.File], None]) -> None:
    with h5py.File(path, "a") as handle:
        change(handle)


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _set_value(element: str, position: int, value: float) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        def edit(handle: h5py.File) -> None:
            handle[f"{element}/data"][position] = value

        _rewrite(path, edit)

    return change


def _delete(element: str) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        def edit(handle: h5py.File) -> None:
            del handle[element]

        _rewrite(path, edit)

    return change


def _shape(value: list[int]) -> Callable[[Path], None]:
    def change(path: Path) -> None:
        _rewrite(path, lambda handle: handle["X"].attrs.__setitem__("shape", np.array(value)))

    return change


def _duplicate_column(path: Path) -> None:
    def edit(handle: h5py.File) -> None:
        indices = handle["X/indices"]
        indptr = handle["X/indptr"][()]
        row = int(np.argmax(np.diff(indptr) >= 2))
        start = int(indptr[row])
        indices[start + 1] = indices[start]

    _rewrite(path, edit)


def _external_x(path: Path) -> None:
    """X moved to a file that is gone: what a backed AnnData points at after its data file was removed."""

    def edit(handle: h5py.File) -> None:
        del handle["X"]
        handle["X"] = h5py.ExternalLink("gone.h5", "/X")

    _rewrite(path, edit)


def _rename(element: str, position: int, rename: Callable[[str], str]) -> Callable[[Path], None]:
    """One name of a string dataset (obs/var index, categories) changed in place."""

    def change(path: Path) -> None:
        def edit(handle: h5py.File) -> None:
            names = handle[element]
            names[position] = rename(names.asstr()[position])

        _rewrite(path, edit)

    return change


def _replace(element: str, replace: Callable[[np.ndarray], np.ndarray]) -> Callable[[Path], None]:
    """A dataset stored again as `replace(its values)`."""

    def change(path: Path) -> None:
        def edit(handle: h5py.File) -> None:
            values = handle[element][()]
            del handle[element]
            handle[element] = replace(values)

        _rewrite(path, edit)

    return change


def _as_floats(element: str) -> Callable[[Path], None]:
    """An index array (indptr, indices) stored as float64: the same numbers, not integers."""
    return _replace(element, lambda values: values.astype(np.float64))


def _text_file(path: Path) -> None:
    path.write_text("NAME\tCluster\nc1\tT\n")


@dataclass(frozen=True)
class BadFile:
    id: str
    change: Callable[[Path], None]
    problem: str  # regex on the message after the file name
    kwargs: tuple[tuple[str, str], ...] = ()


BAD_FILES = [
    BadFile("not_hdf5", _text_file, "not an HDF5 file"),
    BadFile("truncated", _truncate, r"cannot open the HDF5 file \(truncated or corrupt\?\)"),
    BadFile("no_x", _delete("X"), r"no X matrix \(an AnnData written without X\?\)$"),
    BadFile("backed_x_missing", _external_x, r"X links to data that cannot be opened"),
    BadFile(
        "unknown_layer",
        lambda p: None,
        r"no matrix 'spliced' to load; the file has: X \(--layer\)$",
        (("layer", "spliced"),),
    ),
    BadFile("x_vs_obs", _shape([5, 765]), r"X has 5 rows \(cells\) but obs has 700"),
    BadFile("x_vs_var", _shape([700, 764]), r"X has 764 columns \(genes\) but var has 765"),
    BadFile(
        "negative",
        _set_value("X", 10, -1.0),
        r"X: cell '.+' \(#1\), gene '.+' \(#\d+\): negative value -1\.0: expression values must be ≥ 0",
    ),
    BadFile(
        "nan",
        _set_value("X", 3, np.nan),
        r"X: cell '.+' \(#1\), gene '.+' \(#\d+\): value nan is not a finite number$",
    ),
    BadFile(
        "index_range",
        lambda p: _rewrite(p, lambda h: h["X/indices"].__setitem__(7, 765)),
        r"X: index 765 out of range 0\.\.764",
    ),
    BadFile(
        "indptr",
        lambda p: _rewrite(p, lambda h: h["X/indptr"].__setitem__(3, 10**9)),
        r"X: indptr must rise from 0 to the 174400 stored values",
    ),
    BadFile(
        "duplicate_entry",
        _duplicate_column,
        r"X: duplicate entry for cell '.+' \(#\d+\), gene '.+' \(#\d+\)$",
    ),
    BadFile(
        "obs_trailing_space",
        _rename("obs/_index", 0, lambda name: name + " "),
        r"obs: cell name '.+ ' has leading or trailing whitespace; .* \(#1\)$",
    ),
    BadFile(
        "obs_newline",
        _rename("obs/_index", 2, lambda name: name + "\n"),
        r"obs: cell name '.+\\n' contains the control character U\+000A; .* \(#3\)$",
    ),
    BadFile(
        "obs_quotes", _rename("obs/_index", 1, lambda name: f'"{name}"'), r"obs: cell name .+ is in quotes"
    ),
    BadFile(
        "obs_control",
        _rename("obs/_index", 0, lambda name: name[:2] + "\x01" + name[2:]),
        r"obs: cell name '.+' contains the control character U\+0001",
    ),
    BadFile(
        "obs_empty", _rename("obs/_index", 5, lambda name: ""), r"obs: cell name '' is empty; .* \(#6\)$"
    ),
    BadFile(
        "var_trailing_space",
        _rename("var/_index", 3, lambda name: name + " "),
        r"var: gene symbol '.+ ' has leading or trailing whitespace",
    ),
    BadFile(
        "obs_label_space",
        _rename("obs/Cluster/categories", 0, lambda name: " " + name),
        r"obs/Cluster: 'Cluster' value ' .+' has leading or trailing whitespace",
    ),
    BadFile(
        "obs_column_longer",
        _replace("obs/n_genes", lambda values: np.arange(len(values) + 1)),
        r"obs/n_genes has 701 values but obs has 700 rows$",
    ),
    BadFile("float_indptr", _as_floats("X/indptr"), r"X: indptr of type float64: indices must be integers$"),
    BadFile(
        "float_indices", _as_floats("X/indices"), r"X: indices of type float64: indices must be integers$"
    ),
    BadFile(
        "unknown_cell_type",
        lambda p: None,
        r"obs: no cell type column 'celltype'; the columns are Cluster, Subject, phase, louvain",
        (("cell_type_column", "celltype"),),
    ),
]


@pytest.mark.parametrize("case", BAD_FILES, ids=[c.id for c in BAD_FILES])
def test_bad_h5ad_is_refused_and_previous_version_kept(engine_client, tmp_path: Path, case: BadFile) -> None:
    dataset = f"h5_bad_{case.id}"
    before = load_dataset(engine_client, pbmc_h5ad(tmp_path / "good.h5ad"), dataset=dataset)
    bad = pbmc_h5ad(tmp_path / "bad.h5ad")
    case.change(bad)
    with pytest.raises(LoaderError) as caught:
        load_dataset(engine_client, bad, dataset=dataset, **dict(case.kwargs))
    message = str(caught.value)
    assert "\n" not in message
    assert re.match(rf"{re.escape(str(bad))}: .*{case.problem}", message), message
    assert_intact(engine_client, before)


def test_bad_cell_ranger_h5_is_refused(engine_client, tmp_path: Path) -> None:
    before = load_dataset(engine_client, TENX_H5_DIR / "v2_hg19_chr21.h5", dataset="h5_bad_tenx")
    with pytest.raises(LoaderError, match=r"several genomes \(another_genome, hg19_chr21\)"):
        load_dataset(engine_client, TENX_H5_DIR / "v2_multiple_genomes.h5", dataset="h5_bad_tenx")
    negative = Path(shutil.copy(TENX_H5_DIR / "v2_hg19_chr21.h5", tmp_path / "neg.h5"))
    _rewrite(negative, lambda h: h["hg19_chr21/data"].__setitem__(0, -3))
    with pytest.raises(
        LoaderError,
        match=r"neg\.h5: hg19_chr21: cell '.+' \(#1\), gene 'LINC00649' \(#201\): negative value -3",
    ):
        load_dataset(engine_client, negative, dataset="h5_bad_tenx")
    two_invalid = Path(shutil.copy(TENX_H5_DIR / "v3_filtered_feature_bc_matrix.h5", tmp_path / "utf8.h5"))
    _rewrite(
        two_invalid, lambda h: h["matrix/barcodes"].__setitem__(slice(0, 2), [b"AAAC\xff-1", b"AAAC\xfe-1"])
    )
    with pytest.raises(
        LoaderError, match=r"utf8\.h5: matrix/barcodes: barcode #1 is not valid UTF-8 \(byte 0xff at 5\)$"
    ):
        load_dataset(engine_client, two_invalid, dataset="h5_bad_tenx")
    spaced = Path(shutil.copy(TENX_H5_DIR / "v3_filtered_feature_bc_matrix.h5", tmp_path / "spaced.h5"))
    _rewrite(spaced, lambda h: h["matrix/features/name"].__setitem__(4, b"GENE "))
    with pytest.raises(
        LoaderError, match=r"matrix/features/name: feature name 'GENE ' has leading or trailing whitespace"
    ):
        load_dataset(engine_client, spaced, dataset="h5_bad_tenx")
    with pytest.raises(LoaderError, match=r"a Cell Ranger \.h5 file has no cell metadata"):
        load_dataset(
            engine_client, TENX_H5_DIR / "v2_hg19_chr21.h5", dataset="h5_bad_tenx", cell_type_column="x"
        )
    assert_intact(engine_client, before)
