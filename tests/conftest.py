"""Shared fixtures: one embedded store per test session, loaded once with the real test studies."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse

from tests.oracle import DenseStudy, read_dense

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PBMC_DIR = SHARED_DATA / "pbmc68k_scp"
TENX_DIR = SHARED_DATA / "tenx_v2_hg19_chr21"
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
    zero everywhere, a gene in every cell and a duplicated symbol (made unique by the loader).
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
    rows = ["NAME\tCluster\tSubject\tn_counts", "TYPE\tgroup\tgroup\tnumeric"]
    for j, (barcode, cell_type) in enumerate(zip(barcodes, cell_types, strict=True)):
        if cell_type:
            rows.append(f"{barcode}\t{cell_type}\tdonor{j % 3}\t{counts[:, j].sum()}")
    rows += [f"GHOST{k}-1\tT cell\tdonor0\t0" for k in range(3)]
    (directory / COUNTS_FILES["metadata"]).write_text("\n".join(rows) + "\n")
    return directory


# How numpy reads each dataset of `built_store`, and whether its lognorm is computed from counts.
STUDY_READERS: dict[str, Callable[[Path], DenseStudy]] = {
    "pbmc": lambda _: read_dense(
        PBMC_DIR / "gene_sorted-pbmc.matrix.mtx",
        PBMC_DIR / "pbmc.genes.tsv",
        PBMC_DIR / "pbmc.barcodes.tsv",
        PBMC_DIR / "pbmc.meta.txt",
    ),
    "tenx": lambda _: read_dense(TENX_DIR / "matrix.mtx", TENX_DIR / "genes.tsv", TENX_DIR / "barcodes.tsv"),
    "counts": lambda directory: read_dense(*(directory / name for name in COUNTS_FILES.values())),
}
LOGNORM_FROM_COUNTS = {"pbmc": False, "tenx": True, "counts": True}


def query_columns(client, sql: str, dataset: str) -> dict[str, np.ndarray]:
    """Run `sql` with the {dataset:String} parameter; each column as an object array (NULL stays None)."""
    result = client.query(sql, parameters={"dataset": dataset})
    return {
        name: np.array(values, dtype=object)
        for name, values in zip(result.column_names, result.result_columns, strict=True)
    }


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's embedded store; every in-process client and dbt run uses it."""
    path = tmp_path_factory.mktemp("store") / "chdb"
    os.environ["GENOSTREAM_TARGET"] = "embedded"
    os.environ["GENOSTREAM_CHDB_PATH"] = str(path)
    return path


def run_dbt(*args: str) -> None:
    """Run a dbt command in this process (it shares the session's embedded engine); fail the test on error."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO), "--quiet"]
    )
    if not result.success:
        failed = [r for r in (result.result or []) if r.status in ("error", "fail")]
        detail = result.exception or [f"{r.node.name}: {r.message}" for r in failed]
        pytest.fail(f"dbt {' '.join(args)} failed: {detail}")


@pytest.fixture(scope="session")
def engine_client(store_path: Path):
    """A client on the session store (other in-process clients, dbt's included, share its engine)."""
    from genostream.engine import open_chdb

    client = open_chdb(store_path)
    yield client
    client.close()


@pytest.fixture(scope="session")
def counts_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small synthetic count study (see `write_counts_study`), written once per session."""
    return write_counts_study(tmp_path_factory.mktemp("counts_study"))


@pytest.fixture(scope="session")
def built_store(store_path: Path, engine_client, counts_study_dir: Path) -> Path:
    """The session store with the test studies loaded and built: `pbmc` (real-valued), `tenx` (10x counts,
    no metadata) and `counts` (synthetic SCP counts with edge cases)."""
    from loader.api import load_dataset

    load_dataset(engine_client, PBMC_DIR, dataset="pbmc")
    load_dataset(engine_client, TENX_DIR, dataset="tenx")
    load_dataset(engine_client, counts_study_dir, dataset="counts")
    run_dbt("build")
    return store_path


@pytest.fixture(scope="session")
def gateway_app(built_store: Path):
    """The HTTP gateway on the session store (catalog cache off: every request sees the marts as they are)."""
    from gateway import create_app

    app = create_app({"catalog_ttl_s": 0.0})
    yield app
    app.extensions["genostream"].close()


@pytest.fixture
def api(gateway_app):
    """A Flask test client of the gateway."""
    return gateway_app.test_client()


@pytest.fixture(scope="session")
def pbmc_dense():
    """The pbmc study as numpy sees it (values are already log-normalised: lognorm = value)."""
    from tests.oracle import read_dense

    return read_dense(
        PBMC_DIR / "gene_sorted-pbmc.matrix.mtx",
        PBMC_DIR / "pbmc.genes.tsv",
        PBMC_DIR / "pbmc.barcodes.tsv",
        PBMC_DIR / "pbmc.meta.txt",
    )


@pytest.fixture(scope="module", params=list(STUDY_READERS))
def loaded_study(request, built_store, counts_study_dir) -> tuple[str, DenseStudy, np.ndarray]:
    """(dataset, its dense numpy study, lognorm genes × cells) for each dataset of `built_store`."""
    dataset = request.param
    dense = STUDY_READERS[dataset](counts_study_dir)
    lognorm = dense.lognorm() if LOGNORM_FROM_COUNTS[dataset] else dense.matrix
    return dataset, dense, lognorm
