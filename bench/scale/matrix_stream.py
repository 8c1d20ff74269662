"""The entries of a MatrixMarket study file in blocks, read by pyarrow's CSV reader (not the loader's, so
nothing the loader does can leak into the oracle): memory is one block, whatever the matrix's size."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from loader import read_header

BLOCK_BYTES = 32 << 20  # ≈ 2.5M entries of text per block


@dataclass
class Entries:
    """One block of entries, 0-based: gene (matrix row), cell (matrix column) and stored value."""

    gene: np.ndarray
    cell: np.ndarray
    value: np.ndarray


def stream_entries(matrix: Path, *, block_bytes: int = BLOCK_BYTES) -> Iterator[Entries]:
    """Every entry of `matrix` (plain or .gz), block by block, in file order."""
    header = read_header(matrix)
    with pa.input_stream(str(matrix), compression="detect") as stream:
        stream.read(header.data_offset)  # the banner, comments and size line (offset in decompressed bytes)
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=["gene", "cell", "value"], block_size=block_bytes),
            parse_options=pacsv.ParseOptions(delimiter=" "),
            convert_options=pacsv.ConvertOptions(
                column_types={"gene": pa.int64(), "cell": pa.int64(), "value": pa.float64()}
            ),
        )
        for batch in reader:
            if batch.num_rows == 0:
                continue
            yield Entries(
                batch.column(0).to_numpy() - 1,
                batch.column(1).to_numpy() - 1,
                batch.column(2).to_numpy(),
            )
