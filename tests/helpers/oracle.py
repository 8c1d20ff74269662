"""The test studies as numpy sees them: a dense genes × cells matrix read straight from the source files, with
each cell's labels; the tests compute their reference answers from it. Normalisation follows the benchmark's
oracle (bench.study.lognorm_counts), so the tests and the benchmark share one rule."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io
import scipy.sparse as sp

from bench.study import UNANNOTATED, lognorm_counts


@dataclass
class DenseStudy:
    """A study as numpy sees it: genes × cells dense matrix plus per-cell labels."""

    genes: list[str]
    barcodes: list[str]
    matrix: np.ndarray  # genes × cells, float64, zeros included
    cell_types: np.ndarray  # per cell (column), UNANNOTATED when the metadata has no row
    samples: np.ndarray

    def gene_row(self, gene: str) -> np.ndarray:
        return self.matrix[self.genes.index(gene)]

    def cells_of(self, cell_types: list[str] | None) -> np.ndarray:
        if not cell_types:
            return np.ones(len(self.barcodes), dtype=bool)
        return np.isin(self.cell_types, cell_types)

    def lognorm(self) -> np.ndarray:
        """scanpy normalize_total(target_sum=1e4) + log1p, for count data."""
        return lognorm_counts(sp.csr_matrix(self.matrix)).toarray()


def _lines(path: Path) -> list[list[str]]:
    with path.open(newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t") if row]


def read_dense(
    matrix: Path,
    genes: Path,
    barcodes: Path,
    metadata: Path | None = None,
    *,
    cell_type_column: str = "Cluster",
    sample_column: str = "Subject",
) -> DenseStudy:
    dense = scipy.io.mmread(str(matrix)).toarray().astype(np.float64)
    gene_rows = _lines(genes)
    symbols = [row[1] if len(row) > 1 else row[0] for row in gene_rows]
    cells = [row[0] for row in _lines(barcodes)]
    cell_types = np.array([UNANNOTATED] * len(cells), dtype=object)
    samples = np.array([""] * len(cells), dtype=object)
    if metadata is not None:
        rows = _lines(metadata)
        header = rows[0]
        by_barcode = {row[0]: row for row in rows[2:]}
        type_col = header.index(cell_type_column) if cell_type_column in header else None
        sample_col = header.index(sample_column) if sample_column in header else None
        for j, barcode in enumerate(cells):
            row = by_barcode.get(barcode)
            if row is None:
                continue
            if type_col is not None:
                cell_types[j] = row[type_col]
            if sample_col is not None:
                samples[j] = row[sample_col]
    return DenseStudy(symbols, cells, dense, cell_types, samples)
