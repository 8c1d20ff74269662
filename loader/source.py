"""What a study of any layout hands the load: genes, barcodes, metadata tables and checked matrix batches.

`loader.load_dataset` drives one of these through the same write, validate and publish steps, so a
MatrixMarket directory, an AnnData file and a Cell Ranger HDF5 file are landed, refused and published alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from loader.entries import MatrixStats
from loader.errors import LoaderError
from loader.features import Genes


class StudySource(Protocol):
    """One opened study, ready to stream; `close()` releases its files."""

    layout: str
    genes: Genes
    barcodes: list[str]
    cell_type_column: str  # "" when the cells carry no cell-type annotation
    sample_column: str
    integer_declared: bool  # the file declares integer values (MatrixMarket `integer`, an integer dtype)

    @property
    def stats(self) -> MatrixStats:
        """Entries, non-zeros, integrality and order of the matrix, filled while it streams."""
        ...

    def roles(self) -> list[tuple[str, Path]]:
        """(role, path) of every input file, for the manifest's checksums."""
        ...

    def details(self) -> dict[str, Any]:
        """Extra facts recorded with the matrix file in the manifest (e.g. which AnnData layer)."""
        ...

    def describe(self) -> str:
        """A few words for the summary line, e.g. `h5ad raw/X`."""
        ...

    def metadata_tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        """`raw.metadata` rows, in blocks."""
        ...

    @property
    def n_metadata_cells(self) -> int:
        """Metadata rows landed (valid once `metadata_tables` is exhausted)."""
        ...

    def matrix_batches(self, on_progress: Callable[[int, int], None]) -> Iterator[pa.RecordBatch]:
        """Checked `raw.matrix` batches; `on_progress(bytes done, entries)` as they go."""
        ...

    @property
    def matrix_bytes(self) -> int:
        """The size the progress bar counts up to."""
        ...

    def duplicate_entry_error(self, gene: int, cell: int) -> LoaderError:
        """The refusal for an entry stored twice (found by the engine when the stream was not sorted)."""
        ...

    def check_landed(self, client: Any, keys: dict[str, str]) -> None:
        """Layout-specific checks on what was written (e.g. metadata names given twice)."""
        ...

    def close(self) -> None: ...
