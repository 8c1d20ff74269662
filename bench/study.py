"""A study read straight from its files (independently of the loader), as a genes × cells sparse matrix.

This is the benchmark's ground truth: the exact oracle and the in-memory peers start from here, so nothing
the loader or dbt does can leak into the reference answers. Memory stays bounded at the reference size:
170M non-zeros are ≈ 2 GB as float64 CSR (never dense).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import scipy.io
import scipy.sparse as sp

from bench.errors import BenchError

UNANNOTATED = "unannotated"
LOGNORM_TARGET_SUM = 1e4


class StudyError(BenchError):
    """The study directory does not hold the files the benchmark needs."""


@dataclass(frozen=True)
class StudyFiles:
    """The four files of a Single Cell Portal style study (metadata optional)."""

    matrix: Path
    genes: Path
    barcodes: Path
    metadata: Path | None = None

    @classmethod
    def find(cls, directory: Path) -> StudyFiles:
        """Locate `*.mtx`, `*genes*.tsv`, `*barcodes*.tsv` and `*meta*.txt` (optionally .gz)."""

        def one(patterns: tuple[str, ...], role: str, required: bool = True) -> Path | None:
            hits = sorted({p for pattern in patterns for p in directory.glob(pattern) if p.is_file()})
            if len(hits) > 1:
                raise StudyError(f"{directory}: several {role} files ({', '.join(p.name for p in hits)})")
            if not hits and required:
                raise StudyError(f"{directory}: no {role} file")
            return hits[0] if hits else None

        return cls(
            matrix=one(("*.mtx", "*.mtx.gz"), "matrix"),
            genes=one(("*genes*.tsv", "*genes*.tsv.gz", "*features*.tsv", "*features*.tsv.gz"), "genes"),
            barcodes=one(("*barcodes*.tsv", "*barcodes*.tsv.gz"), "barcodes"),
            metadata=one(("*meta*.txt", "*meta*.txt.gz", "*meta*.tsv"), "metadata", required=False),
        )


def make_unique(names: list[str]) -> list[str]:
    """scanpy's `var_names_make_unique`: later duplicates get `-1`, `-2`, … (skipping names already taken)."""
    counts = Counter(names)
    taken = set(names)
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        if counts[name] == 1 or name not in seen:
            seen.setdefault(name, 0)
            unique.append(name)
            continue
        suffix = seen[name]
        while True:
            suffix += 1
            candidate = f"{name}-{suffix}"
            if candidate not in taken:
                break
        seen[name] = suffix
        taken.add(candidate)
        unique.append(candidate)
    return unique


def read_tsv_columns(path: Path) -> list[list[str]]:
    """The columns of a header-less tab-separated file, as strings."""
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(autogenerate_column_names=True),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(8)}),
    )
    return [column.to_pylist() for column in table.columns]


def read_cell_types(metadata: Path, barcodes: list[str], column: str) -> np.ndarray:
    """Per matrix column, its label in `column` of an SCP metadata file (NAME header, TYPE second row)."""
    table = pacsv.read_csv(
        metadata,
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
        convert_options=pacsv.ConvertOptions(column_types={name: pa.string() for name in ("NAME", column)}),
        read_options=pacsv.ReadOptions(block_size=64 << 20),
    )
    if column not in table.column_names:
        raise StudyError(f"{metadata}: no column {column!r} (columns: {', '.join(table.column_names)})")
    names = table.column("NAME").to_pylist()[1:]
    labels = table.column(column).to_pylist()[1:]
    by_barcode = dict(zip(names, labels, strict=True))
    return np.array([by_barcode.get(b) or UNANNOTATED for b in barcodes], dtype=object)


@dataclass
class Study:
    """Genes × cells values as loaded (float64 CSR), unique gene names, and each cell's type."""

    genes: list[str]
    barcodes: list[str]
    cell_types: np.ndarray
    values: sp.csr_matrix
    value_kind: str
    _gene_index: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def nnz(self) -> int:
        return int(self.values.nnz)

    def gene_index(self, gene: str) -> int:
        if not self._gene_index:
            self._gene_index = {g: i for i, g in enumerate(self.genes)}
        return self._gene_index[gene]

    def lognorm(self) -> sp.csr_matrix:
        """What the marts call `lognorm`: the values as they are for real-valued (already normalised) data,
        scanpy's normalize_total(1e4) + log1p for counts."""
        return lognorm_counts(self.values) if self.value_kind == "counts" else self.values


def lognorm_counts(counts: sp.csr_matrix) -> sp.csr_matrix:
    """scanpy's normalize_total(target_sum=1e4) + log1p of a genes × cells count matrix, per cell (column);
    a cell without counts stays all zeros. The one normalisation rule of the benchmark's and the tests'
    oracles (tests.helpers.oracle uses it on the dense test studies)."""
    scale = cell_scale(np.asarray(counts.sum(axis=0)).ravel())
    out = sp.csr_matrix(counts, dtype=np.float64, copy=True)
    out.data = np.log1p(out.data * scale[out.indices])
    return out


def cell_scale(totals: np.ndarray) -> np.ndarray:
    """Per cell, the factor normalize_total(1e4) multiplies its counts by (0 for a cell without counts);
    `lognorm = log1p(count × scale)`; streaming oracles (bench.scale) sum the totals in a pass of their own.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals > 0, LOGNORM_TARGET_SUM / totals, 0.0)


def gene_names(files: StudyFiles) -> list[str]:
    """The matrix rows' gene names as scanpy's users see them: symbols (second column when there is one),
    made unique."""
    gene_columns = read_tsv_columns(files.genes)
    return make_unique(gene_columns[1] if len(gene_columns) > 1 else gene_columns[0])


def read_study(files: StudyFiles, *, cell_type_column: str | None, value_kind: str) -> Study:
    """Read a study into memory as sparse CSR (scipy's C++ Matrix Market reader, multi-threaded)."""
    matrix = scipy.io.mmread(str(files.matrix))
    values = sp.csr_matrix(matrix, dtype=np.float64)
    del matrix
    values.sum_duplicates()
    genes = gene_names(files)
    barcodes = read_tsv_columns(files.barcodes)[0]
    if values.shape != (len(genes), len(barcodes)):
        raise StudyError(
            f"{files.matrix}: shape {values.shape} is not {len(genes)} genes × {len(barcodes)} cells"
        )
    if files.metadata is not None and cell_type_column:
        cell_types = read_cell_types(files.metadata, barcodes, cell_type_column)
    else:
        cell_types = np.full(len(barcodes), UNANNOTATED, dtype=object)
    return Study(genes, barcodes, cell_types, values, value_kind)
