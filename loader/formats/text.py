"""Text studies — Single Cell Portal and 10x Cell Ranger directories: a MatrixMarket matrix beside its genes
(features) and barcodes files and, for the Portal, a metadata file.

The small files are read whole and checked against the matrix header before anything is written; then the
matrix body streams (`loader.formats.mtx`) and the metadata file streams (`loader.metadata`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from loader.entries import MatrixStats
from loader.errors import InputError
from loader.features import Genes, read_barcodes, read_genes
from loader.formats.mtx import MatrixReader, MtxHeader, find_entry_line, read_header
from loader.metadata import MetadataHeader, MetadataReader, read_metadata_header
from loader.textio import iter_lines, require_file

DUPLICATE_CELL_SQL = """
    SELECT barcode FROM raw.metadata
    WHERE dataset = {dataset} AND load_id = {load_id}
    GROUP BY dataset, load_id, barcode
    HAVING count() > 1
    LIMIT 1
"""


@dataclass(frozen=True)
class StudyFiles:
    """The files of one study; `metadata` is optional (10x output has none); `clusters`: Single Cell Portal
    cluster files (cell coordinates) found beside the study (`loader.embeddings`)."""

    layout: str
    matrix: Path
    genes: Path
    barcodes: Path
    metadata: Path | None
    clusters: tuple[Path, ...] = ()

    def roles(self) -> list[tuple[str, Path]]:
        pairs = [("matrix", self.matrix), ("genes", self.genes), ("barcodes", self.barcodes)]
        return pairs + ([("metadata", self.metadata)] if self.metadata else [])


@dataclass(frozen=True)
class Study:
    """A study whose small files are read and consistent; only the matrix body is still to stream."""

    data_dir: Path | None
    files: StudyFiles
    header: MtxHeader
    genes: Genes
    barcodes: list[str]
    metadata: MetadataHeader | None


def _check_count(header: MtxHeader, declared: int, what: str, path: Path, found: int) -> None:
    """`found` lines were read of at most declared + 1: more than declared means the file is longer."""
    if found != declared:
        lines = f"more than {declared} lines" if found > declared else f"{found} lines"
        raise InputError(
            header.path, header.size_line, f"header declares {declared} {what} but {path.name} has {lines}"
        )


def read_study(directory: Path | None, files: StudyFiles) -> Study:
    """Read a text study's small files and check them against the matrix header. The genes and barcodes are
    read only up to one line past what the header declares, so a file far longer costs nothing."""
    for role, path in files.roles():
        require_file(path, role)
    header = read_header(files.matrix)
    gene_list = read_genes(files.genes, max_lines=header.n_rows + 1)
    _check_count(header, header.n_rows, "rows (genes)", files.genes, len(gene_list))
    barcode_list = read_barcodes(files.barcodes, max_lines=header.n_cols + 1)
    _check_count(header, header.n_cols, "columns (cells)", files.barcodes, len(barcode_list))
    meta = read_metadata_header(files.metadata) if files.metadata else None
    return Study(directory, files, header, gene_list, barcode_list, meta)


@dataclass
class TextSource:
    """A MatrixMarket study (Single Cell Portal or 10x directory) as a `StudySource`."""

    study: Study
    meta: MetadataReader | None
    reader: MatrixReader = field(init=False)
    layout: str = field(init=False)
    genes: Genes = field(init=False)
    barcodes: list[str] = field(init=False)
    cell_type_column: str = field(init=False)
    sample_column: str = field(init=False)
    integer_declared: bool = field(init=False)

    def __post_init__(self) -> None:
        self.reader = MatrixReader(self.study.header)
        self.layout = self.study.files.layout
        self.genes = self.study.genes
        self.barcodes = self.study.barcodes
        self.cell_type_column = self.meta.cell_type_column if self.meta else ""
        self.sample_column = (self.meta.sample_column or "") if self.meta else ""
        self.integer_declared = self.study.header.field == "integer"

    @property
    def stats(self) -> MatrixStats:
        return self.reader.stats

    def roles(self) -> list[tuple[str, Path]]:
        return self.study.files.roles()

    def details(self) -> dict[str, Any]:
        return {}

    def describe(self) -> str:
        return self.layout

    def metadata_tables(self, dataset: str, load_id: str) -> Iterator[pa.Table]:
        return self.meta.tables(dataset, load_id) if self.meta else iter(())

    @property
    def n_metadata_cells(self) -> int:
        return self.meta.rows if self.meta else 0

    def matrix_batches(self, on_progress: Callable[[int, int], None]) -> Iterator[pa.RecordBatch]:
        return self.reader.batches(on_progress)

    @property
    def matrix_bytes(self) -> int:
        return self.study.files.matrix.stat().st_size

    def duplicate_entry_error(self, gene: int, cell: int) -> InputError:
        line = find_entry_line(self.study.header, gene, cell)
        return InputError(self.study.header.path, line, f"duplicate entry for row {gene}, column {cell}")

    def check_landed(self, client: Any, keys: dict[str, str]) -> None:
        """Duplicate metadata NAMEs (the file is streamed, so the engine finds them)."""
        metadata = self.study.files.metadata
        if metadata is None:
            return
        rows = client.query(DUPLICATE_CELL_SQL.format(**keys)).result_rows
        if rows:
            barcode = rows[0][0]
            hits = (n for n, text in iter_lines(metadata, 3) if text.split("\t", 1)[0] == barcode)
            next(hits, None)
            raise InputError(metadata, next(hits, None), f"duplicate NAME {barcode!r} in the metadata")

    def close(self) -> None:
        """Nothing stays open between batches."""


def open_text_study(
    directory: Path | None,
    files: StudyFiles,
    *,
    cell_type_column: str | None = None,
    sample_column: str | None = None,
) -> TextSource:
    """Open a text study as a `StudySource`: small files read and checked, the metadata columns chosen."""
    study = read_study(directory, files)
    meta = (
        MetadataReader(study.metadata, cell_type_column, sample_column)
        if study.metadata is not None
        else None
    )
    return TextSource(study, meta)
