"""Matrix entries of any layout: the value rules, the running statistics, the Arrow batch `raw.matrix` takes.

Every reader (MatrixMarket text, AnnData, Cell Ranger HDF5) finds its entries its own way, then passes them
through here, so a value is accepted, counted and classified (counts or real) by one rule whatever the format.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

OUTPUT_SCHEMA = pa.schema([("gene_index", pa.uint32()), ("cell_index", pa.uint32()), ("value", pa.float64())])


@dataclass
class MatrixStats:
    """Running totals of a stream: entries in the file, non-zeros kept, whether all values are integral."""

    entries: int = 0
    nnz: int = 0
    all_integral: bool = True
    # Strictly increasing by (row, col) or by (col, row) proves there are no duplicate entries, cheaply.
    row_major: bool = True
    col_major: bool = True
    last_row_key: int = -1
    last_col_key: int = -1

    @property
    def strictly_sorted(self) -> bool:
        return self.row_major or self.col_major

    def track_order(self, rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int) -> None:
        if not len(rows):
            return
        rows, cols = rows.astype(np.int64, copy=False), cols.astype(np.int64, copy=False)
        if self.row_major:
            keys = rows * (n_cols + 1) + cols
            self.row_major = bool(keys[0] > self.last_row_key and (np.diff(keys) > 0).all())
            self.last_row_key = int(keys[-1])
        if self.col_major:
            keys = cols * (n_rows + 1) + rows
            self.col_major = bool(keys[0] > self.last_col_key and (np.diff(keys) > 0).all())
            self.last_col_key = int(keys[-1])


def value_problem(values: np.ndarray) -> tuple[int, str] | None:
    """(position, problem) of the first value that is not a finite number ≥ 0, or None."""
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            i = int((~finite).argmax())
            return i, f"value {values[i]} is not a finite number"
    negative = values < 0
    if negative.any():
        i = int(negative.argmax())
        return i, f"negative value {values[i]}: expression values must be ≥ 0"
    return None


def first_fraction(values: np.ndarray) -> int | None:
    """Position of the first value with a fractional part (None if all are integral)."""
    if values.dtype.kind != "f":
        return None
    fractional = values != np.floor(values)
    return int(fractional.argmax()) if fractional.any() else None


def value_kind(integer_declared: bool, stats: MatrixStats) -> str:
    """`counts` when the file declares integers or every value is integral, else `real` (lognorm follows)."""
    return "counts" if integer_declared or stats.all_integral else "real"


def entries_batch(
    genes: np.ndarray, cells: np.ndarray, values: np.ndarray, stats: MatrixStats
) -> pa.RecordBatch:
    """Count checked entries (1-based indices) and keep the non-zeros: explicit zeros are not data."""
    nonzero = values != 0
    kept = int(nonzero.sum())
    stats.entries += len(values)
    stats.nnz += kept
    if kept < len(values):
        genes, cells, values = genes[nonzero], cells[nonzero], values[nonzero]
    return pa.RecordBatch.from_arrays(
        [
            pa.array(genes.astype(np.uint32, copy=False)),
            pa.array(cells.astype(np.uint32, copy=False)),
            pa.array(values.astype(np.float64, copy=False)),
        ],
        schema=OUTPUT_SCHEMA,
    )
