"""Small generated studies for the loader tests: a valid Single Cell Portal study and 10x v3 output, each
written from plain lines so a test can break exactly one thing."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

MTX_BANNER = "%%MatrixMarket matrix coordinate integer general"


def write_lines(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = ("\n".join(lines) + "\n").encode() if lines else b""
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)
    return path


@dataclass
class ScpStudy:
    """A tiny valid SCP study as lines; mutate the lists, then `write()`."""

    genes: list[str] = field(default_factory=lambda: ["GAPDH", "EPCAM", "KRT18", "CD3D", "MS4A1"])
    barcodes: list[str] = field(default_factory=lambda: ["AAAC-1", "AAAG-1", "AACT-1", "AAGT-1"])
    matrix: list[str] = field(
        default_factory=lambda: [
            MTX_BANNER,
            "% generated for the loader tests",
            "5 4 7",
            "1 1 3",
            "1 3 1",
            "2 2 5",
            "3 2 4",
            "3 4 2",
            "4 1 7",
            "5 3 1",
        ]
    )
    metadata: list[str] | None = field(
        default_factory=lambda: [
            "NAME\tCluster\tSubject\tage",
            "TYPE\tgroup\tgroup\tnumeric",
            "AAAC-1\tT cell\tp1\t30",
            "AAAG-1\tEpithelial\tp1\t41.5",
            "AACT-1\tB cell\tp2\tNA",
            "XXXX-1\tEpithelial\tp3\t33",
        ]
    )
    names: dict[str, str] = field(
        default_factory=lambda: {
            "matrix": "gene_sorted-tiny.matrix.mtx",
            "genes": "tiny.genes.tsv",
            "barcodes": "tiny.barcodes.tsv",
            "metadata": "tiny.meta.txt",
        }
    )

    def write(self, directory: Path, *, gz: bool = False) -> Path:
        suffix = ".gz" if gz else ""
        write_lines(directory / (self.names["matrix"] + suffix), self.matrix, gz=gz)
        write_lines(directory / (self.names["genes"] + suffix), self.genes, gz=gz)
        write_lines(directory / (self.names["barcodes"] + suffix), self.barcodes, gz=gz)
        if self.metadata is not None:
            write_lines(directory / (self.names["metadata"] + suffix), self.metadata, gz=gz)
        return directory


def tenx_v3_study(directory: Path) -> tuple[Path, np.ndarray]:
    """Cell Ranger v3 output (gzip, cell-sorted entries, duplicate symbols); returns the dense matrix too."""
    rng = np.random.default_rng(3)
    n_genes, n_cells = 6, 5
    dense = rng.integers(0, 4, size=(n_genes, n_cells)) * (rng.random((n_genes, n_cells)) < 0.6)
    features = [
        "ENSG01\tMT-CO1\tGene Expression",
        "ENSG02\tTBCE\tGene Expression",
        "ENSG03\tTBCE\tGene Expression",
        "ENSG04\tTBCE-1\tGene Expression",
        "ENSG05\tTBCE\tGene Expression",
        "CD3_TotalSeqB\tCD3\tAntibody Capture",
    ]
    cells, genes = np.nonzero(dense.T)  # cell-major order, as Cell Ranger writes it
    entries = [f"{g + 1} {c + 1} {dense[g, c]}" for c, g in zip(cells, genes, strict=True)]
    matrix = [
        MTX_BANNER,
        '%metadata_json: {"software_version": "cellranger-7"}',
        f"{n_genes} {n_cells} {len(entries)}",
    ]
    write_lines(directory / "matrix.mtx.gz", matrix + entries, gz=True)
    write_lines(directory / "features.tsv.gz", features, gz=True)
    write_lines(directory / "barcodes.tsv.gz", [f"CELL{j}-1" for j in range(n_cells)], gz=True)
    return directory, dense


def big_matrix(path: Path, n_rows: int, n_cols: int, per_row: int, seed: int = 0) -> int:
    """A gene-sorted integer matrix with `per_row` random cells per gene, written fast; returns nnz."""
    rng = np.random.default_rng(seed)
    nnz = n_rows * per_row
    with path.open("wb") as handle:
        handle.write(f"{MTX_BANNER}\n{n_rows} {n_cols} {nnz}\n".encode())
        step = max(1, 4_000_000 // n_cols)
        options = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
        for start in range(0, n_rows, step):
            rows = np.arange(start, min(start + step, n_rows))
            cols = np.sort(rng.random((len(rows), n_cols)).argpartition(per_row, axis=1)[:, :per_row], axis=1)
            table = pa.table(
                {
                    "r": np.repeat(rows + 1, per_row),
                    "c": cols.ravel() + 1,
                    "v": rng.integers(1, 20, size=len(rows) * per_row),
                }
            )
            pacsv.write_csv(table, handle, write_options=options)
    return nnz
