"""AnnData (.h5ad) studies: obs and var read by anndata's own element readers, the matrix streamed by h5py.

X is cells × genes (CSR, CSC or dense; float or integer). Which matrix is loaded: `--layer` (`X`, `raw` for
raw/X, or a name in `layers/`), by default the first of X, raw/X and layers/counts that holds counts —
CELLxGENE keeps normalised values in X and the raw counts in raw/X — else X. Genes come from var (raw/var for
raw/X): the symbol column when there is one (CELLxGENE: Ensembl IDs as var_names, symbols in
`feature_name`), the ID kept. Every obs column is landed as cell metadata, categoricals by their labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd
import pyarrow as pa
from anndata.io import read_elem

from loader.errors import InputError
from loader.features import DEFAULT_FEATURE_TYPE, Genes, first_duplicate, make_unique
from loader.formats.hdf5 import H5AD, Hdf5Source, StoredMatrix, open_hdf5, refuse_bad_names
from loader.metadata import ColumnChoice, metadata_table

DEFAULT_LAYERS = ("X", "raw/X", "layers/counts")
# var columns holding gene symbols, in order of preference (CELLxGENE, scanpy conventions).
SYMBOL_COLUMNS = ("feature_name", "gene_symbols", "gene_symbol", "gene_name", "symbol")
ID_COLUMNS = ("gene_ids", "gene_id", "feature_id")
FEATURE_TYPE_COLUMN = "feature_types"  # scanpy's read_10x_* name
METADATA_BLOCK = 100_000
PROBE_VALUES = 1 << 16
SPARSE_ENCODINGS = {"csr_matrix": "csr", "csc_matrix": "csc"}
COLUMN_PARTS = ("codes", "values", "mask")  # one per row: categorical codes, nullable values and mask
MAX_UNUSED_CATEGORIES = 10_000


def _read_frame(handle: h5py.File, key: str, path: Path) -> pd.DataFrame:
    """An obs/var dataframe through anndata's reader (every encoding version); unreadable → InputError."""
    node = handle.get(key)
    if node is None:
        raise InputError(path, None, f"no {key} (an AnnData file has obs and var)")
    try:
        frame = read_elem(node)
    except (OSError, KeyError) as exc:
        raise InputError(path, None, f"cannot read {key}: {str(exc).splitlines()[0]}") from None
    except UnicodeDecodeError as exc:
        raise InputError(path, None, f"{key}: a name is not valid UTF-8 ({exc.reason})") from None
    if not isinstance(frame, pd.DataFrame):
        raise InputError(path, None, f"{key} is not a dataframe")
    return frame


def _frame_rows(handle: h5py.File, key: str) -> int | None:
    """The rows of the obs/var dataframe at `key` from its metadata alone (its index's length); None without
    an index dataset (anndata's reader then says what is wrong)."""
    group = handle.get(key)
    index = group.get(str(group.attrs.get("_index", "_index"))) if isinstance(group, h5py.Group) else None
    return index.shape[0] if isinstance(index, h5py.Dataset) and index.ndim == 1 else None


def _check_columns(handle: h5py.File, key: str, n_rows: int | None, path: Path) -> None:
    """Every column of the dataframe at `key` has `n_rows` values, and every categorical at most
    `n_rows` + MAX_UNUSED_CATEGORIES categories, from the metadata, before it is read."""
    if n_rows is None:
        return
    for node in handle[key].values():
        parts = [node] if isinstance(node, h5py.Dataset) else [node[p] for p in COLUMN_PARTS if p in node]
        for part in parts:
            length = part.shape[0] if part.ndim else 0
            if length != n_rows:
                where = part.name.lstrip("/")
                raise InputError(path, None, f"{where} has {length} values but {key} has {n_rows} rows")
    legacy = handle[key].get("__categories")  # anndata < 0.8 kept categories apart from the codes
    categories = [n.get("categories") for n in handle[key].values() if isinstance(n, h5py.Group)]
    categories += list(legacy.values()) if isinstance(legacy, h5py.Group) else []
    for part in categories:
        if not isinstance(part, h5py.Dataset):
            continue
        length = part.shape[0] if part.ndim else 0
        if length > n_rows + MAX_UNUSED_CATEGORIES:
            raise InputError(
                path,
                None,
                f"{part.name.lstrip('/')} has {length:,} categories for {n_rows:,} rows (at most "
                f"{MAX_UNUSED_CATEGORIES:,} more categories than rows: a subset may keep unused ones)",
            )


def _refuse_mismatch(
    path: Path, element: str, shape: tuple[int, int], n_obs: int | None, n_var: int | None, var_key: str
) -> None:
    """The matrix's declared shape against the dataframes' rows (None: not known yet)."""
    if n_obs is not None and shape[0] != n_obs:
        raise InputError(path, None, f"{element} has {shape[0]} rows (cells) but obs has {n_obs}")
    if n_var is not None and shape[1] != n_var:
        raise InputError(path, None, f"{element} has {shape[1]} columns (genes) but {var_key} has {n_var}")


def _read_frames(handle: h5py.File, path: Path, available: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """obs and var, once their lengths agree with the shape X (or the first layer) declares — X and the
    layers share both — so a dataframe far longer than its matrix is refused before it is read."""
    n_obs, n_var = _frame_rows(handle, "obs"), _frame_rows(handle, "var")
    first = next((m for m in available if m != "raw/X"), None)
    if first is not None:
        _, shape = _declared(handle[first], first, path)
        _refuse_mismatch(path, first, shape, n_obs, n_var, "var")
    _check_columns(handle, "obs", n_obs, path)
    _check_columns(handle, "var", n_var, path)
    return _read_frame(handle, "obs", path), _read_frame(handle, "var", path)


def _read_raw_var(handle: h5py.File, path: Path) -> pd.DataFrame:
    """raw/var, once its length agrees with raw/X's declared columns."""
    _, shape = _declared(handle["raw/X"], "raw/X", path)
    n_var = _frame_rows(handle, "raw/var")
    _refuse_mismatch(path, "raw/X", shape, None, n_var, "raw/var")
    _check_columns(handle, "raw/var", n_var, path)
    return _read_frame(handle, "raw/var", path)


def matrices(handle: h5py.File) -> list[str]:
    """Every matrix the file offers: X, raw/X, layers/NAME (the file is self-contained: `open_hdf5`)."""
    found = [name for name in ("X", "raw/X") if name in handle]
    layers = handle.get("layers")
    if isinstance(layers, h5py.Group):
        found += [f"layers/{name}" for name in layers]
    return found


def _element(requested: str, available: list[str], path: Path) -> str:
    """`--layer` to an element path: X, raw (raw/X), a layer name or layers/NAME."""
    candidates = {"raw": "raw/X", "raw/X": "raw/X", "X": "X"}
    element = candidates.get(
        requested, requested if requested.startswith("layers/") else f"layers/{requested}"
    )
    if element not in available:
        offered = ", ".join(_layer_label(a) for a in available) or "none"
        raise InputError(path, None, f"no matrix {requested!r} to load; the file has: {offered} (--layer)")
    return element


def _layer_label(element: str) -> str:
    return "raw" if element == "raw/X" else element


def _stored(handle: h5py.File, element: str, path: Path, cells: list[str], genes: list[str]) -> StoredMatrix:
    """The matrix at `element`, its declared rows checked against obs (which every matrix shares) before
    the sizes of its parts are checked against them."""
    node = handle[element]
    encoding, shape = _declared(node, element, path)
    _refuse_mismatch(path, element, shape, len(cells), None, "var")
    return StoredMatrix(path, element, node, encoding, shape, 0, cells, genes)


def _declared(node: h5py.Group | h5py.Dataset, element: str, path: Path) -> tuple[str, tuple[int, int]]:
    """(encoding, (cells, genes)) as the matrix declares them: a dense array's shape, a sparse group's
    attributes."""
    if isinstance(node, h5py.Dataset):
        shape = tuple(int(n) for n in node.shape)
        if len(shape) != 2:
            raise InputError(path, None, f"{element}: a {len(shape)}-d array, expected cells × genes")
        return "dense", (shape[0], shape[1])
    encoding_type = node.attrs.get("encoding-type", node.attrs.get("h5sparse_format", ""))
    encoding = SPARSE_ENCODINGS.get(str(encoding_type), str(encoding_type))
    if encoding not in ("csr", "csc"):
        raise InputError(path, None, f"{element}: unsupported matrix encoding {encoding_type!r}")
    shape_attr = node.attrs.get("shape", node.attrs.get("h5sparse_shape"))
    if shape_attr is None or len(shape_attr) != 2:
        raise InputError(path, None, f"{element}: sparse matrix without a 2-d shape attribute")
    return encoding, (int(shape_attr[0]), int(shape_attr[1]))


def holds_counts(matrix: StoredMatrix) -> bool:
    """An integer dtype, or non-negative whole numbers in the first stored values (a cheap look)."""
    if matrix.integer_declared:
        return True
    sample = matrix.sample_values(PROBE_VALUES)
    finite = sample[np.isfinite(sample)]
    return bool(len(finite) and (finite >= 0).all() and (finite == np.floor(finite)).all() and finite.any())


def _strings(series: pd.Series) -> pa.Array:
    """A column as Arrow strings (categoricals by label, booleans as True/False); missing stays null."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        labels = pa.array([str(c) for c in series.cat.categories], pa.string())
        codes = series.cat.codes.to_numpy()
        indices = pa.array(codes.astype(np.int32), mask=codes < 0)
        return pa.DictionaryArray.from_arrays(indices, labels).cast(pa.string())
    values = series.to_numpy(dtype=object, na_value=None)
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def _numbers(series: pd.Series) -> pa.Array:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _genes(var: pd.DataFrame) -> Genes:
    names = [str(n) for n in var.index]
    symbol_column = next((c for c in SYMBOL_COLUMNS if c in var.columns), None)
    if symbol_column is not None:
        given = var[symbol_column].to_numpy(dtype=object, na_value=None)
        symbols = [
            name if s is None or str(s) == "" else str(s) for s, name in zip(given, names, strict=True)
        ]
        ids = names
    else:
        symbols = names
        id_column = next((c for c in ID_COLUMNS if c in var.columns), None)
        ids = [str(v) for v in var[id_column]] if id_column else [""] * len(names)
    if FEATURE_TYPE_COLUMN in var.columns:
        types = [str(v) for v in var[FEATURE_TYPE_COLUMN]]
    else:
        types = [DEFAULT_FEATURE_TYPE] * len(names)
    return Genes(ids, symbols, make_unique(symbols), types)


class H5adSource(Hdf5Source):
    """An AnnData file as a `StudySource` (see the module docstring for what is read from where)."""

    layout = H5AD

    def __init__(
        self,
        path: Path,
        *,
        layer: str | None = None,
        cell_type_column: str | None = None,
        sample_column: str | None = None,
    ) -> None:
        self.path = path
        self.handle = open_hdf5(path)
        try:
            self._open(layer, cell_type_column, sample_column)
        except BaseException:
            self.handle.close()
            raise

    def _open(self, layer: str | None, cell_type_column: str | None, sample_column: str | None) -> None:
        path, handle = self.path, self.handle
        available = matrices(handle)
        self.obs, var = _read_frames(handle, path, available)
        self.barcodes = [str(n) for n in self.obs.index]
        self._check_cells()
        self.element = self._choose(layer, available, var)
        if self.element == "raw/X":
            raw_var = _read_raw_var(handle, path)
            has_symbols = any(c in raw_var.columns for c in SYMBOL_COLUMNS)
            var = var if not has_symbols and raw_var.index.equals(var.index) else raw_var
        var_key = "raw/var" if self.element == "raw/X" else "var"
        self.genes = _genes(var)
        self._check_genes(var_key)
        self.matrix = _stored(handle, self.element, path, self.barcodes, self.genes.unique)
        self.matrix.hint = self._hint(available)
        self.matrix.check_layout()
        _refuse_mismatch(path, self.element, self.matrix.shape, None, len(var), var_key)
        choice = ColumnChoice([str(c) for c in self.obs.columns], path, None, "obs: ")
        self.cell_type_column = choice.cell_type(cell_type_column) or ""
        self.sample_column = choice.sample(sample_column) or ""
        self.integer_declared = self.matrix.integer_declared
        self._metadata_rows = 0

    def _choose(self, layer: str | None, available: list[str], var: pd.DataFrame) -> str:
        if layer is not None:
            return _element(layer, available, self.path)
        if "X" not in available:
            offered = ", ".join(_layer_label(a) for a in available)
            hint = f"; the file has {offered} (choose one with --layer)" if offered else ""
            raise InputError(self.path, None, "no X matrix (an AnnData written without X?)" + hint)
        for element in DEFAULT_LAYERS:
            if element not in available:
                continue
            if element == "raw/X" and "raw/var" not in self.handle:
                continue
            probe = _stored(self.handle, element, self.path, self.barcodes, [str(n) for n in var.index])
            probe.check_layout()
            if holds_counts(probe):
                return element
        return "X"

    def _hint(self, available: list[str]) -> str:
        others = [_layer_label(a) for a in available if a != self.element]
        return f" (another matrix can be chosen with --layer: {', '.join(others)})" if others else ""

    def _check_cells(self) -> None:
        duplicate = first_duplicate(self.barcodes)
        if duplicate is not None:
            first, repeat = duplicate
            raise InputError(
                self.path,
                None,
                f"obs: cell name {self.barcodes[repeat]!r} given twice (rows {first} and {repeat}); "
                "make them unique (anndata: obs_names_make_unique)",
            )
        refuse_bad_names(self.path, "obs", "cell name", self.barcodes)
        refuse_bad_names(self.path, "obs", "metadata column name", [str(c) for c in self.obs.columns])
        for column in self.obs.columns:
            values = self.obs[column]
            if _is_numeric(values) or pd.api.types.is_bool_dtype(values.dtype):
                continue
            labels = values.cat.categories if isinstance(values.dtype, pd.CategoricalDtype) else values
            given = [
                str(v) for v in labels.to_numpy(dtype=object, na_value=None) if v is not None and v != ""
            ]
            refuse_bad_names(self.path, f"obs/{column}", f"{str(column)!r} value", given)

    def _check_genes(self, var_key: str) -> None:
        """The same rules as a genes file's: ids, symbols and feature types are identifiers."""
        genes = self.genes
        refuse_bad_names(self.path, var_key, "gene id", [i for i in genes.gene_ids if i])
        refuse_bad_names(self.path, var_key, "gene symbol", genes.symbols)
        refuse_bad_names(self.path, var_key, "feature type", genes.feature_types)

    def roles(self) -> list[tuple[str, Path]]:
        return [("matrix", self.path)]

    def details(self) -> dict[str, Any]:
        return {"layer": self.element}

    def describe(self) -> str:
        return f"{self.layout} {self.element}"

    def metadata_tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        obs = self.obs
        for start in range(0, len(obs), METADATA_BLOCK):
            block = obs.iloc[start : start + METADATA_BLOCK]
            groups = {str(c): _strings(block[c]) for c in block.columns if not _is_numeric(block[c])}
            numerics = {str(c): _numbers(block[c]) for c in block.columns if _is_numeric(block[c])}
            cell_type = _strings(block[self.cell_type_column]) if self.cell_type_column else None
            sample = _strings(block[self.sample_column]) if self.sample_column else None
            barcodes = pa.array(self.barcodes[start : start + METADATA_BLOCK], pa.string())
            yield metadata_table(dataset, load_id, barcodes, cell_type, sample, groups, numerics)
            self._metadata_rows += len(block)
        self.obs = obs.iloc[:0]  # landed: keep only the columns, not the rows, while the matrix streams

    @property
    def n_metadata_cells(self) -> int:
        return self._metadata_rows

    def check_landed(self, client: Any, keys: dict[str, str]) -> None:
        """Nothing to check after writing: cell names were checked up front."""


def open_h5ad(
    path: Path,
    *,
    layer: str | None = None,
    cell_type_column: str | None = None,
    sample_column: str | None = None,
) -> H5adSource:
    """Open an AnnData file for loading.

    Parameters
    ----------
    path
        The .h5ad file.
    layer
        `X`, `raw` (raw/X) or a name in `layers/`; default: the first of X, raw/X, layers/counts holding
        counts, else X.
    cell_type_column, sample_column
        obs columns; default: the first present of cell_type, Cluster, louvain, leiden — and of donor_id,
        sample, Subject. Without any, every cell is `unannotated`.
    """
    return H5adSource(path, layer=layer, cell_type_column=cell_type_column, sample_column=sample_column)
