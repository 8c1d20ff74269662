"""HDF5 studies without an engine: recognised by content, matrices streamed in blocks equal scipy's, the
choice of layer, genes and cell-type column as a scanpy or CELLxGENE user expects."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import loader.formats.hdf5
from loader import Hdf5File, InputError, check_study
from loader.formats.h5ad import open_h5ad
from loader.formats.hdf5 import is_hdf5, sniff_layout
from loader.formats.tenx_h5 import open_tenx_h5
from tests.helpers.hdf5_inputs import as_encoding, pbmc_h5ad, write_h5ad, write_tenx_h5
from tests.helpers.paths import PBMC_DIR, TEST_DATA

TENX_H5_DIR = TEST_DATA / "tenx_h5"


def _dense_from(source) -> np.ndarray:
    """Genes × cells from the source's stream (1-based indices), summing repeats."""
    dense = np.zeros((len(source.genes), len(source.barcodes)))
    for batch in source.matrix_batches(lambda *_: None):
        genes, cells, values = (batch.column(i).to_numpy() for i in range(3))
        np.add.at(dense, (genes - 1, cells - 1), values)
    return dense


def _random_counts(seed: int = 0, shape: tuple[int, int] = (9, 7)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 5, size=shape) * (rng.random(shape) < 0.5)


def _obs(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"cell_type": pd.Categorical(["T", "B", None] * (n // 3) + ["T"] * (n % 3))},
        index=[f"c{i}" for i in range(n)],
    )


def _var(n: int) -> pd.DataFrame:
    return pd.DataFrame(index=[f"G{i}" for i in range(n)])


@pytest.mark.parametrize("encoding", ["csr", "csc", "dense"])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
@pytest.mark.parametrize("block", [3, 1 << 20])
def test_matrix_streams_in_blocks_equal_to_scipy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, dtype: type, block: int
) -> None:
    monkeypatch.setattr(loader.formats.hdf5, "BLOCK_ENTRIES", block)  # blocks that split rows and columns
    counts = _random_counts()
    path = write_h5ad(tmp_path / "s.h5ad", as_encoding(counts, encoding, dtype), _obs(9), _var(7))
    source = open_h5ad(path)
    try:
        np.testing.assert_array_equal(_dense_from(source), counts.T)
        assert source.stats.nnz == int((counts != 0).sum())
        assert source.stats.strictly_sorted and source.integer_declared == (dtype is np.int64)
    finally:
        source.close()


def test_recognised_by_content_not_name(tmp_path: Path) -> None:
    h5ad = pbmc_h5ad(tmp_path / "study.dat")
    tenx = shutil.copy(TENX_H5_DIR / "v3_filtered_feature_bc_matrix.h5", tmp_path / "matrix.bin")
    fake = tmp_path / "fake.h5ad"
    fake.write_text("not hdf5\n")
    assert is_hdf5(h5ad) and sniff_layout(h5ad) == "h5ad"
    assert sniff_layout(Path(tenx)) == "10x-h5" and sniff_layout(TENX_H5_DIR / "v2_hg19_chr21.h5") == "10x-h5"
    assert not is_hdf5(fake) and not is_hdf5(PBMC_DIR / "pbmc.genes.tsv")
    assert check_study(h5ad) == Hdf5File("h5ad", h5ad)
    directory = tmp_path / "one"
    directory.mkdir()
    shutil.copy(h5ad, directory / "anything")
    assert check_study(directory) == Hdf5File("h5ad", directory / "anything")
    with pytest.raises(InputError, match="not an HDF5 file"):
        check_study(fake)


def test_default_layer_is_the_one_holding_counts(tmp_path: Path) -> None:
    counts = _random_counts(1)
    lognorm = np.log1p(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) * 1e4)
    obs, var = _obs(9), _var(7)
    cases = {
        "raw/X": dict(x=sp.csr_matrix(lognorm), raw_x=sp.csr_matrix(counts.astype(np.float32))),
        "layers/counts": dict(x=sp.csr_matrix(lognorm), layers={"counts": sp.csr_matrix(counts)}),
        "X": dict(x=sp.csr_matrix(counts.astype(np.float32)), raw_x=sp.csr_matrix(lognorm)),
    }
    for expected, parts in cases.items():
        path = write_h5ad(tmp_path / f"{expected.replace('/', '_')}.h5ad", parts.pop("x"), obs, var, **parts)
        source = open_h5ad(path)
        try:
            assert source.element == expected
        finally:
            source.close()
    # nothing holds counts: X (as scanpy would read it)
    path = write_h5ad(
        tmp_path / "lognorm.h5ad", sp.csr_matrix(lognorm), obs, var, raw_x=sp.csr_matrix(lognorm)
    )
    source = open_h5ad(path)
    assert source.element == "X"
    source.close()
    for layer, element in (("raw", "raw/X"), ("raw/X", "raw/X"), ("X", "X")):
        source = open_h5ad(path, layer=layer)
        assert source.element == element
        source.close()


def test_genes_take_symbols_from_var_and_keep_ids(tmp_path: Path) -> None:
    counts = _random_counts(2, (3, 4))
    var = pd.DataFrame(
        {"feature_name": ["TBCE", "TBCE", "CD3D", "TBCE-1"]}, index=["ENSG1", "ENSG2", "ENSG3", "ENSG4"]
    )
    source = open_h5ad(write_h5ad(tmp_path / "a.h5ad", sp.csr_matrix(counts), _obs(3), var))
    assert source.genes.gene_ids == ["ENSG1", "ENSG2", "ENSG3", "ENSG4"]
    assert source.genes.unique == ["TBCE", "TBCE-2", "CD3D", "TBCE-1"]
    source.close()
    scanpy_var = pd.DataFrame({"gene_ids": ["E1", "E2", "E3", "E4"]}, index=["A", "B", "C", "D"])
    source = open_h5ad(write_h5ad(tmp_path / "b.h5ad", sp.csr_matrix(counts), _obs(3), scanpy_var))
    assert (source.genes.gene_ids, source.genes.symbols) == (["E1", "E2", "E3", "E4"], ["A", "B", "C", "D"])
    source.close()


def test_cell_type_and_sample_defaults(tmp_path: Path) -> None:
    counts = _random_counts(3, (4, 3))
    obs = pd.DataFrame(
        {"leiden": ["0", "1", "0", "2"], "louvain": ["a", "b", "a", "c"], "sample": ["s1", "s1", "s2", "s2"]},
        index=[f"c{i}" for i in range(4)],
    )
    source = open_h5ad(write_h5ad(tmp_path / "a.h5ad", sp.csr_matrix(counts), obs, _var(3)))
    assert (source.cell_type_column, source.sample_column) == ("louvain", "sample")
    source.close()
    bare = pd.DataFrame({"n_genes": [1, 2, 3, 4]}, index=[f"c{i}" for i in range(4)])
    source = open_h5ad(write_h5ad(tmp_path / "b.h5ad", sp.csr_matrix(counts), bare, _var(3)))
    assert (source.cell_type_column, source.sample_column) == ("", "")
    source.close()
    with pytest.raises(
        InputError, match=r"obs: no cell type column 'celltype'; the columns are leiden, louvain"
    ):
        open_h5ad(tmp_path / "a.h5ad", cell_type_column="celltype")


def test_tenx_h5_loads_gene_expression_only(tmp_path: Path) -> None:
    counts = _random_counts(4, (5, 6))
    ids = ["ENSG1", "ENSG2", "CD3_TotalSeqB", "ENSG3", "ENSG4"]
    types = ["Gene Expression", "Gene Expression", "Antibody Capture", "Gene Expression", "Gene Expression"]
    names = ["A", "B", "CD3", "A", "C"]
    barcodes = [f"AAAC{i}-1" for i in range(6)]
    source = open_tenx_h5(write_tenx_h5(tmp_path / "m.h5", counts, barcodes, ids, names, types))
    try:
        assert source.genes.unique == ["A", "B", "A-1", "C"]
        assert source.genes.gene_ids == ["ENSG1", "ENSG2", "ENSG3", "ENSG4"]
        np.testing.assert_array_equal(_dense_from(source), counts[[0, 1, 3, 4]])
        assert source.stats.nnz == int((counts[[0, 1, 3, 4]] != 0).sum()) and source.integer_declared
    finally:
        source.close()
