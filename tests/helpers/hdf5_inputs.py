"""HDF5 studies written inside the tests from tests/data: AnnData .h5ad by anndata itself, Cell Ranger .h5 by
h5py in Cell Ranger's layout — so each test states exactly which file it feeds the loader."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp

from tests.helpers.paths import PBMC_DIR
from tests.helpers.studies import COUNTS_FILES


@contextmanager
def _object_strings() -> Iterator[None]:
    """anndata 0.12 cannot write pandas 3's Arrow-backed strings in raw/var: write with object strings."""
    with pd.option_context("future.infer_string", False):
        yield


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The same frame with object strings everywhere (index, string columns, categories)."""
    plain = pd.DataFrame(index=pd.Index([str(n) for n in frame.index], dtype=object))
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            categories = pd.Index([str(c) for c in values.cat.categories], dtype=object)
            labels = [None if pd.isna(v) else str(v) for v in values.astype(object)]
            plain[column] = pd.Categorical(labels, categories=categories)
        elif pd.api.types.is_string_dtype(values.dtype):
            plain[column] = np.array([None if pd.isna(v) else str(v) for v in values], dtype=object)
        else:
            plain[column] = values.to_numpy()
    return plain


def as_encoding(cells_by_genes: np.ndarray, encoding: str, dtype: type = np.float64):
    """A cells × genes matrix as AnnData would hold it: csr, csc or dense."""
    values = np.asarray(cells_by_genes, dtype=dtype)
    if encoding == "csr":
        return sp.csr_matrix(values)
    if encoding == "csc":
        return sp.csc_matrix(values)
    return values


def write_h5ad(
    path: Path,
    x,
    obs: pd.DataFrame,
    var: pd.DataFrame,
    *,
    raw_x=None,
    raw_var: pd.DataFrame | None = None,
    layers: dict | None = None,
    uns: dict | None = None,
    obsm: dict | None = None,
) -> Path:
    """An .h5ad written by anndata (`x` None: an AnnData without X)."""
    import anndata

    with _object_strings():
        obs, var = _plain(obs), _plain(var)
        raw_var = None if raw_var is None else _plain(raw_var)
        adata = anndata.AnnData(X=x, obs=obs, var=var, layers=layers, uns=uns, obsm=obsm)
        if raw_x is not None:
            adata.raw = anndata.AnnData(X=raw_x, obs=obs, var=var if raw_var is None else raw_var)
        path.parent.mkdir(parents=True, exist_ok=True)
        adata.write_h5ad(path)
    return path


def _pbmc_frames() -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame]:
    """The PBMC study: cells × genes dense values, obs (metadata columns typed as its TYPE row says), var."""
    dense = scipy.io.mmread(str(PBMC_DIR / "gene_sorted-pbmc.matrix.mtx")).toarray().T.astype(np.float64)
    genes = (PBMC_DIR / "pbmc.genes.tsv").read_text().split("\n")[:-1]
    barcodes = (PBMC_DIR / "pbmc.barcodes.tsv").read_text().split("\n")[:-1]
    meta = pd.read_csv(PBMC_DIR / "pbmc.meta.txt", sep="\t", skiprows=[1], dtype=str, keep_default_na=False)
    kinds = (PBMC_DIR / "pbmc.meta.txt").read_text().split("\n")[1].split("\t")
    meta = meta.set_index("NAME").reindex(barcodes)
    obs = pd.DataFrame(index=barcodes)
    for column, kind in zip(meta.columns, kinds[1:], strict=True):
        values = meta[column]
        obs[column] = pd.to_numeric(values) if kind == "numeric" else pd.Categorical(values.astype(object))
    return dense, obs, pd.DataFrame(index=genes)


def pbmc_h5ad(path: Path, encoding: str = "csr") -> Path:
    """The shared PBMC study as anndata writes it (values as in the SCP files: float64, log-normalised), with
    scanpy's UMAP of it (pbmc.umap.txt) in obsm['X_umap']."""
    dense, obs, var = _pbmc_frames()
    return write_h5ad(path, as_encoding(dense, encoding), obs, var, obsm={"X_umap": pbmc_umap()})


def pbmc_umap() -> np.ndarray:
    """cells × 2: scanpy's UMAP of the PBMC study, in barcode order (tests/data/pbmc68k_scp/pbmc.umap.txt)."""
    frame = pd.read_csv(PBMC_DIR / "pbmc.umap.txt", sep="\t", skiprows=[1], index_col="NAME")
    barcodes = (PBMC_DIR / "pbmc.barcodes.tsv").read_text().split("\n")[:-1]
    return frame.loc[barcodes, ["X", "Y"]].to_numpy(dtype=np.float64)


def write_tenx_h5(
    path: Path,
    features_by_cells: np.ndarray,
    barcodes: list[str],
    ids: list[str],
    names: list[str],
    types: list[str] | None = None,
    *,
    dtype: type = np.int32,
) -> Path:
    """A Cell Ranger 3+ `filtered_feature_bc_matrix.h5`: features × barcodes CSC under `matrix/`."""
    matrix = sp.csc_matrix(np.asarray(features_by_cells, dtype=dtype))
    types = types or ["Gene Expression"] * len(ids)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        handle.attrs["filetype"] = "matrix"
        group = handle.create_group("matrix")
        group.create_dataset("barcodes", data=np.array(barcodes, dtype="S"))
        group.create_dataset("data", data=matrix.data)
        group.create_dataset("indices", data=matrix.indices.astype(np.int64))
        group.create_dataset("indptr", data=matrix.indptr.astype(np.int64))
        group.create_dataset("shape", data=np.array(matrix.shape, dtype=np.int32))
        features = group.create_group("features")
        features.create_dataset("id", data=np.array(ids, dtype="S"))
        features.create_dataset("name", data=np.array(names, dtype="S"))
        features.create_dataset("feature_type", data=np.array(types, dtype="S"))
        features.create_dataset("genome", data=np.array(["GRCh38"] * len(ids), dtype="S"))
    return path


def pbmc_tenx_h5(path: Path) -> Path:
    """The PBMC study in Cell Ranger's .h5 layout (float64 values: the study is already normalised)."""
    dense, _, var = _pbmc_frames()
    genes = list(var.index)
    barcodes = list(_pbmc_frames()[1].index)
    return write_tenx_h5(path, dense.T, barcodes, genes, genes, dtype=np.float64)


def cellxgene_h5ad(path: Path, counts_dir: Path) -> Path:
    """The synthetic counts study shaped as CELLxGENE ships it: Ensembl IDs as var_names, symbols in
    `feature_name`, raw counts in raw/X (float32), normalised log1p values in X, categorical `cell_type` and
    `donor_id` (cells without a type: missing), an `is_primary_data` flag and the schema version in uns."""
    counts = scipy.io.mmread(str(counts_dir / COUNTS_FILES["matrix"])).toarray().T.astype(np.float32)
    genes = [line.split("\t") for line in (counts_dir / COUNTS_FILES["genes"]).read_text().splitlines()]
    barcodes = (counts_dir / COUNTS_FILES["barcodes"]).read_text().splitlines()
    meta = pd.read_csv(counts_dir / COUNTS_FILES["metadata"], sep="\t", skiprows=[1], dtype=str)
    meta = meta.set_index("NAME").reindex(barcodes)
    obs = pd.DataFrame(
        {
            "cell_type": pd.Categorical(meta["Cluster"].astype(object).where(meta["Cluster"].notna(), None)),
            "donor_id": pd.Categorical(meta["Subject"].astype(object).where(meta["Subject"].notna(), None)),
            "n_counts": counts.sum(axis=1).astype(np.float64),
            "is_primary_data": np.ones(len(barcodes), dtype=bool),
        },
        index=barcodes,
    )
    var = pd.DataFrame({"feature_name": [g[1] for g in genes]}, index=[g[0] for g in genes])
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lognorm = np.log1p(np.where(totals > 0, counts / totals * 1e4, 0)).astype(np.float32)
    return write_h5ad(
        path,
        sp.csr_matrix(lognorm),
        obs,
        var,
        raw_x=sp.csr_matrix(counts),
        uns={"schema_version": "5.2.0"},
    )
