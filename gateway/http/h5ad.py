"""AnnData answers (.h5ad): what a scanpy user reads with `anndata.read_h5ad` — X sparse CSR cells × genes,
obs indexed by barcode, var by gene, uns naming where the numbers came from.

Encoded by anndata's element writers into an h5py file; X is appended block by block as the engine sends
its rows (anndata's backed sparse dataset), so Python holds one block of X at a time. obs (one row per
chosen cell) is held whole, as anndata writes a frame at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import anndata.io
import h5py
import numpy as np
import pandas as pd
from scipy import sparse

OWN_COLUMNS = ("cell_type", "sample")
# Tuples of (row indices, column indices, values), rows ascending across blocks.
Entries = tuple[np.ndarray, np.ndarray, np.ndarray]


def _categorical(values: Sequence[str | None]) -> pd.Categorical:
    # Categories as object arrays: anndata's writer does not take pandas' Arrow-backed strings.
    categories = pd.Index(sorted({v for v in values if v is not None}), dtype=object)
    return pd.Categorical(list(values), categories=categories)


def obs_frame(cells: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Cells (barcode, cell_type, sample, group_attributes, numeric_attributes) as obs: indexed by barcode,
    cell_type, sample and every group attribute categorical, every numeric attribute float (NaN where a cell
    has none)."""
    groups = sorted({k for c in cells for k in c["group_attributes"]} - set(OWN_COLUMNS))
    numbers = sorted({k for c in cells for k in c["numeric_attributes"]} - set(OWN_COLUMNS) - set(groups))
    columns: dict[str, Any] = {name: _categorical([c[name] for c in cells]) for name in OWN_COLUMNS}
    for key in groups:
        columns[key] = _categorical([c["group_attributes"].get(key) for c in cells])
    for key in numbers:
        columns[key] = np.array([c["numeric_attributes"].get(key, np.nan) for c in cells], dtype=np.float64)
    return pd.DataFrame(columns, index=pd.Index([c["barcode"] for c in cells], dtype=object))


def var_frame(genes: Sequence[str], gene_ids: Sequence[str]) -> pd.DataFrame:
    """Genes as var: indexed by gene, with the gene id as a column."""
    index = pd.Index(list(genes), dtype=object)
    return pd.DataFrame({"gene_id": pd.Series(list(gene_ids), index=index, dtype=object)}, index=index)


def csr_blocks(entries: Iterable[Entries], n_rows: int, n_cols: int) -> Iterator[sparse.csr_matrix]:
    """Consecutive row blocks of the CSR matrix whose non-zeros arrive as `entries` (rows ascending); a
    row cut across two blocks of entries is completed before it is emitted, empty rows included."""
    done = 0
    pending: Entries = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    for block in entries:
        rows, cols, values = (np.concatenate([p, b]) for p, b in zip(pending, block, strict=True))
        if len(rows) == 0:
            continue
        last = int(rows[-1])
        ready = rows < last
        if last > done:
            yield _rows(done, last, rows[ready], cols[ready], values[ready], n_cols)
            done = last
        pending = (rows[~ready], cols[~ready], values[~ready])
    yield _rows(done, n_rows, *pending, n_cols)


def _rows(start: int, stop: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, n_cols: int):
    return sparse.csr_matrix((values, (rows - start, cols)), shape=(stop - start, n_cols), dtype=np.float64)


def write_h5ad(
    file: IO[bytes],
    *,
    obs: pd.DataFrame,
    var: pd.DataFrame,
    uns: Mapping[str, Any],
    x_blocks: Iterable[sparse.csr_matrix],
) -> None:
    """An .h5ad file (AnnData's on-disk format 0.1.0) written into `file`."""
    with h5py.File(file, "w") as h5:
        h5.attrs["encoding-type"] = "anndata"
        h5.attrs["encoding-version"] = "0.1.0"
        anndata.io.write_elem(h5, "obs", obs)
        anndata.io.write_elem(h5, "var", var)
        anndata.io.write_elem(h5, "uns", dict(uns))
        anndata.io.write_elem(h5, "X", sparse.csr_matrix((0, len(var)), dtype=np.float64))
        x = anndata.io.sparse_dataset(h5["X"])
        for block in x_blocks:
            x.append(block)
