"""Test studies: the small synthetic count study with the marts' edge cases, and how numpy reads each study
the integration store holds."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from tests.helpers.oracle import DenseStudy, read_dense
from tests.helpers.paths import PBMC_DIR, TENX_DIR

# Metadata names with spaces, `+`, `/` and parentheses, as real studies have them.
ARM_COLUMN = "arm (treated/control)"
ARMS = ("drug A+B", "placebo (saline)", "drug A / low dose")
COUNTS_FILES = {
    "matrix": "counts.matrix.mtx",
    "genes": "counts.genes.tsv",
    "barcodes": "counts.barcodes.tsv",
    "metadata": "counts.meta.txt",
}


def write_counts_study(directory: Path, *, seed: int = 7) -> Path:
    """A small integer-count study in Single Cell Portal layout with the edge cases the marts must survive.

    Cell types of 30, 24, 16 and 1 cell(s), 8 cells without a metadata row (`unannotated`), one cell with no
    counts at all, metadata rows for barcodes absent from the matrix, a gene zero in a whole cell type, a gene
    zero everywhere, a gene in every cell and a duplicated symbol (made unique by the loader). Besides the
    cell type and the donor (`Subject`), a group column and values with spaces, `+`, `/` and parentheses
    (ARM_COLUMN) and a numeric `pct_mito` that one cell lacks.
    """
    rng = np.random.default_rng(seed)
    sizes = {"T cell": 30, "B cell": 24, "NK cell": 16, "Megakaryocyte": 1}
    cell_types = [t for t, n in sizes.items() for _ in range(n)] + [""] * 8
    n_genes, n_cells = 120, len(cell_types)
    rates = rng.gamma(0.6, 2.0, size=(n_genes, 1)) * rng.uniform(0.5, 2.0, size=(1, n_cells))
    counts = rng.poisson(rates).astype(np.int64)
    counts[5, [j for j, t in enumerate(cell_types) if t == "B cell"]] = 0
    counts[6, :] = 0
    counts[7, :] = rng.integers(1, 9, size=n_cells)
    counts[:, 40] = 0
    symbols = [f"GENE{i}" for i in range(n_genes)]
    symbols[9] = symbols[8]
    barcodes = [f"CELL{j:03d}-1" for j in range(n_cells)]
    directory.mkdir(parents=True, exist_ok=True)
    matrix = scipy.sparse.coo_matrix(counts)
    scipy.io.mmwrite(str(directory / COUNTS_FILES["matrix"]), matrix, field="integer")
    genes = "".join(f"ENSG{i:05d}\t{s}\n" for i, s in enumerate(symbols))
    (directory / COUNTS_FILES["genes"]).write_text(genes)
    (directory / COUNTS_FILES["barcodes"]).write_text("".join(f"{b}\n" for b in barcodes))
    header = ["NAME", "Cluster", "Subject", "n_counts", ARM_COLUMN, "pct_mito"]
    rows = ["\t".join(header), "TYPE\tgroup\tgroup\tnumeric\tgroup\tnumeric"]
    pct_mito = np.round(rng.uniform(0.0, 10.0, size=n_cells), 2)
    for j, (barcode, cell_type) in enumerate(zip(barcodes, cell_types, strict=True)):
        if cell_type:
            mito = "NA" if j == 0 else pct_mito[j]  # one cell without a value
            arm = ARMS[j % len(ARMS)]
            rows.append(f"{barcode}\t{cell_type}\tdonor{j % 3}\t{counts[:, j].sum()}\t{arm}\t{mito}")
    rows += [f"GHOST{k}-1\tT cell\tdonor0\t0\tdrug A+B\t1.0" for k in range(3)]
    (directory / COUNTS_FILES["metadata"]).write_text("\n".join(rows) + "\n")
    return directory


def write_wide_study(directory: Path) -> Path:
    """The demo's generator with many genes and few cells: for gene lists of thousands (a 5,000-gene dot
    plot) without the load time of a large matrix."""
    from loader.synth import SynthSpec, write_study

    write_study(directory, SynthSpec.from_options(genes=5_200, cells=120, nnz=60_000, seed=3))
    return directory


def write_demo_like_study(directory: Path) -> Path:
    """The demo's synthetic study (`python -m loader synth --preset demo`: same cell types, marker genes,
    patients and correlated modules such as EPCAM–KRT18 in Epithelial) with fewer genes, so it loads fast."""
    from loader.synth import SynthSpec, write_study

    write_study(directory, SynthSpec.from_options(preset="demo", genes=300, nnz=250_000))
    return directory


def read_demo_like(directory: Path) -> DenseStudy:
    """The study `write_demo_like_study` wrote, as numpy sees it (donor_id is its sample column)."""
    return read_dense(
        directory / "gene_sorted-synth.matrix.mtx",
        directory / "synth.genes.tsv",
        directory / "synth.barcodes.tsv",
        directory / "synth.meta.txt",
        sample_column="donor_id",
    )


def read_pbmc() -> DenseStudy:
    """The pbmc study as numpy sees it (values are already log-normalised: lognorm = value)."""
    return read_dense(
        PBMC_DIR / "gene_sorted-pbmc.matrix.mtx",
        PBMC_DIR / "pbmc.genes.tsv",
        PBMC_DIR / "pbmc.barcodes.tsv",
        PBMC_DIR / "pbmc.meta.txt",
    )


PBMC_WITHOUT_METADATA = {
    "matrix": PBMC_DIR / "gene_sorted-pbmc.matrix.mtx",
    "genes": PBMC_DIR / "pbmc.genes.tsv",
    "barcodes": PBMC_DIR / "pbmc.barcodes.tsv",
}


def read_tenx() -> DenseStudy:
    return read_dense(TENX_DIR / "matrix.mtx", TENX_DIR / "genes.tsv", TENX_DIR / "barcodes.tsv")


def read_counts(directory: Path) -> DenseStudy:
    return read_dense(*(directory / name for name in COUNTS_FILES.values()))


# How numpy reads each dataset of `built_store` (from the text files the HDF5 ones were written from), and
# whether its lognorm is computed from counts.
STUDY_READERS: dict[str, Callable[[Path], DenseStudy]] = {
    "pbmc": lambda _: read_pbmc(),
    "tenx": lambda _: read_tenx(),
    "counts": read_counts,
    "pbmc_h5ad": lambda _: read_pbmc(),
    "pbmc_h5ad_dense": lambda _: read_pbmc(),
    "pbmc_10x_h5": lambda _: read_dense(*PBMC_WITHOUT_METADATA.values()),
    "tenx_h5": lambda _: read_tenx(),
    "cellxgene": read_counts,
}
LOGNORM_FROM_COUNTS = {
    "pbmc": False,
    "tenx": True,
    "counts": True,
    "pbmc_h5ad": False,
    "pbmc_h5ad_dense": False,
    "pbmc_10x_h5": False,
    "tenx_h5": True,
    "cellxgene": True,
}
# Each HDF5 dataset of `built_store` and the dataset loaded from the text files it was written from.
SAME_STUDY_AS = {
    "pbmc_h5ad": "pbmc",
    "pbmc_h5ad_dense": "pbmc",
    "pbmc_10x_h5": "pbmc_nometa",
    "tenx_h5": "tenx",
    "cellxgene": "counts",
}


def query_columns(client, sql: str, dataset: str) -> dict[str, np.ndarray]:
    """Run `sql` with the {dataset:String} parameter; each column as an object array (NULL stays None)."""
    result = client.query(sql, parameters={"dataset": dataset})
    return {
        name: np.array(values, dtype=object)
        for name, values in zip(result.column_names, result.result_columns, strict=True)
    }


def studies_needed(items: list[pytest.Item], datasets: Collection[str]) -> list[str]:
    """Of the store's `datasets`, those the collected store tests need, in the order given: what a
    `studies(...)` marker names (on the test or its module), every dataset for a store test (one using
    `built_store`) without one. Cluster tests load their own."""
    needed: set[str] = set()
    for item in items:
        if "built_store" not in item.fixturenames or item.get_closest_marker("cluster"):
            continue
        marker = item.get_closest_marker("studies")
        names = marker.args if marker else tuple(datasets)
        unknown = sorted(set(names) - set(datasets))
        if unknown:
            raise pytest.UsageError(
                f"{item.nodeid}: the studies marker names no such dataset: {', '.join(unknown)}"
            )
        needed.update(names)
    return [name for name in datasets if name in needed]
