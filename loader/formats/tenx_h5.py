"""Cell Ranger HDF5 matrices (`filtered_feature_bc_matrix.h5`): v3+ `matrix/` and v2 `GENOME/` layouts.

The matrix is features × barcodes in CSC (one compressed column per barcode), streamed by h5py in blocks.
Only Gene Expression features are loaded (as scanpy's `read_10x_h5` does by default); gene IDs and symbols
come from `features/id` and `features/name` (v2: `genes`, `gene_names`). The file has no cell metadata:
every cell is `unannotated`, as for a 10x text directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pyarrow as pa

from loader.errors import InputError
from loader.features import DEFAULT_FEATURE_TYPE, Genes, first_duplicate, make_unique
from loader.formats.hdf5 import TENX_H5, Hdf5Source, StoredMatrix, open_hdf5, read_names, tenx_groups


def _declared_shape(group: h5py.Group, path: Path) -> tuple[int, int]:
    """`shape`: (features, barcodes), which every other dataset of the group is checked against."""
    node = group["shape"]
    where = node.name.lstrip("/")
    if not isinstance(node, h5py.Dataset) or node.shape != (2,) or node.dtype.kind not in "iu":
        raise InputError(path, None, f"{where} must hold 2 integers (features, barcodes)")
    n_features, n_barcodes = (int(n) for n in node[()])
    return n_features, n_barcodes


def _features(group: h5py.Group, path: Path, n: int) -> tuple[list[str], list[str], list[str]]:
    """(ids, symbols, feature types) of every row of the matrix."""
    by = f"{group.name.lstrip('/')}/shape"
    if "features" in group:
        features = group["features"]
        ids = read_names(features["id"], path, "feature id", n, by)
        names = read_names(features["name"], path, "feature name", n, by)
        if "feature_type" in features:
            types = read_names(features["feature_type"], path, "feature type", n, by)
        else:
            types = [DEFAULT_FEATURE_TYPE] * len(ids)
        return ids, names, types
    ids = read_names(group["genes"], path, "gene id", n, by)
    names = read_names(group["gene_names"], path, "gene name", n, by) if "gene_names" in group else ids
    return ids, names, [DEFAULT_FEATURE_TYPE] * len(ids)


class TenxH5Source(Hdf5Source):
    """A Cell Ranger .h5 file as a `StudySource`."""

    layout = TENX_H5
    cell_type_column = ""
    sample_column = ""
    n_metadata_cells = 0

    def __init__(self, path: Path, *, cell_type_column: str | None = None, sample_column: str | None = None):
        self.path = path
        self.handle = open_hdf5(path)
        try:
            self._open(cell_type_column, sample_column)
        except BaseException:
            self.handle.close()
            raise

    def _open(self, cell_type_column: str | None, sample_column: str | None) -> None:
        path = self.path
        for flag, value in (("--cell-type-column", cell_type_column), ("--sample-column", sample_column)):
            if value is not None:
                raise InputError(path, None, f"{flag} {value!r}: a Cell Ranger .h5 file has no cell metadata")
        groups = tenx_groups(self.handle)
        if len(groups) != 1:
            raise InputError(
                path, None, f"several genomes ({', '.join(groups)}): load a single-genome Cell Ranger file"
            )
        self.element = groups[0]
        group = self.handle[self.element]
        shape = _declared_shape(group, path)
        ids, names, types = _features(group, path, shape[0])
        self.barcodes = read_names(group["barcodes"], path, "barcode", shape[1], f"{self.element}/shape")
        duplicate = first_duplicate(self.barcodes)
        if duplicate is not None:
            raise InputError(path, None, f"barcodes: {self.barcodes[duplicate[1]]!r} given twice")
        keep = np.array([t == DEFAULT_FEATURE_TYPE for t in types], dtype=bool)
        if not keep.any():
            raise InputError(path, None, f"no {DEFAULT_FEATURE_TYPE} features in {self.element}")
        symbols = [n for n, k in zip(names, keep, strict=True) if k]
        self.genes = Genes(
            [i for i, k in zip(ids, keep, strict=True) if k],
            symbols,
            make_unique(symbols),
            [DEFAULT_FEATURE_TYPE] * len(symbols),
        )
        gene_map = None if keep.all() else (np.cumsum(keep) * keep).astype(np.int64)
        self.matrix = StoredMatrix(
            path,
            self.element,
            group,
            "csc",
            (shape[0], shape[1]),
            1,
            self.barcodes,
            self.genes.unique,
            gene_map,
        )
        self.matrix.check_layout()
        self.integer_declared = self.matrix.integer_declared

    def roles(self) -> list[tuple[str, Path]]:
        return [("matrix", self.path)]

    def details(self) -> dict[str, Any]:
        return {"group": self.element}

    def describe(self) -> str:
        return self.layout

    def metadata_tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        return iter(())

    def check_landed(self, client: Any, keys: dict[str, str]) -> None:
        """Nothing to check after writing: barcodes were checked up front."""


def open_tenx_h5(
    path: Path, *, cell_type_column: str | None = None, sample_column: str | None = None
) -> TenxH5Source:
    """Open a Cell Ranger .h5 matrix for loading (columns cannot be chosen: the file has no metadata)."""
    return TenxH5Source(path, cell_type_column=cell_type_column, sample_column=sample_column)
