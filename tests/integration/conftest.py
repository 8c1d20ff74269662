"""Fixtures for the store-backed tests: one embedded store per test session, loaded once with the test studies
the session's tests need (helpers the tests import are in tests/helpers/)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.dbt import run_dbt
from tests.helpers.hdf5_inputs import cellxgene_h5ad, pbmc_h5ad, pbmc_tenx_h5
from tests.helpers.oracle import DenseStudy
from tests.helpers.paths import PBMC_DIR, TENX_DIR, TENX_H5
from tests.helpers.studies import (
    LOGNORM_FROM_COUNTS,
    PBMC_WITHOUT_METADATA,
    STUDY_READERS,
    read_pbmc,
    studies_needed,
    write_counts_study,
    write_demo_like_study,
    write_wide_study,
)


@pytest.fixture(scope="session")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's embedded store; every in-process client and dbt run uses it."""
    path = tmp_path_factory.mktemp("store") / "chdb"
    os.environ["GENOSTREAM_TARGET"] = "embedded"
    os.environ["GENOSTREAM_CHDB_PATH"] = str(path)
    return path


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
def demo_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smaller study from the demo's generator (`write_demo_like_study`), written once per session."""
    return write_demo_like_study(tmp_path_factory.mktemp("demo_study"))


@pytest.fixture(scope="session")
def wide_study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5,200 genes × 120 cells (`write_wide_study`), written once per session."""
    return write_wide_study(tmp_path_factory.mktemp("wide_study"))


@pytest.fixture(scope="session")
def hdf5_studies_dir(tmp_path_factory: pytest.TempPathFactory, counts_study_dir: Path) -> Path:
    """The shared studies in the HDF5 formats (see `tests.helpers.hdf5_inputs`), written once per session."""
    directory = tmp_path_factory.mktemp("hdf5_studies")
    pbmc_h5ad(directory / "pbmc.h5ad", "csr")
    pbmc_h5ad(directory / "pbmc_dense.h5ad", "dense")
    pbmc_tenx_h5(directory / "pbmc.h5")
    cellxgene_h5ad(directory / "cellxgene.h5ad", counts_study_dir)
    return directory


# Each dataset of the session store and where it is loaded from: (path, files) for `load_dataset`; generated
# inputs come from the session fixtures above, so they are written only when a test needs them.
STUDY_INPUTS: dict[str, Callable[[pytest.FixtureRequest], tuple[Path | None, dict[str, Path]]]] = {
    "pbmc": lambda _: (PBMC_DIR, {}),
    "tenx": lambda _: (TENX_DIR, {}),
    "counts": lambda request: (request.getfixturevalue("counts_study_dir"), {}),
    "demo": lambda request: (request.getfixturevalue("demo_study_dir"), {}),
    "wide": lambda request: (request.getfixturevalue("wide_study_dir"), {}),
    "pbmc_h5ad": lambda request: (request.getfixturevalue("hdf5_studies_dir") / "pbmc.h5ad", {}),
    "pbmc_h5ad_dense": lambda request: (request.getfixturevalue("hdf5_studies_dir") / "pbmc_dense.h5ad", {}),
    "pbmc_10x_h5": lambda request: (request.getfixturevalue("hdf5_studies_dir") / "pbmc.h5", {}),
    "pbmc_nometa": lambda _: (None, PBMC_WITHOUT_METADATA),
    "tenx_h5": lambda _: (TENX_H5, {}),
    "cellxgene": lambda request: (request.getfixturevalue("hdf5_studies_dir") / "cellxgene.h5ad", {}),
}


@pytest.fixture(scope="session")
def built_store(request: pytest.FixtureRequest, store_path: Path, engine_client) -> Path:
    """The session store with the test studies loaded and built once: `pbmc` (real-valued), `tenx` (10x
    counts, no metadata), `counts` (synthetic SCP counts with edge cases) and `demo` (like `make run`'s demo);
    the same studies from HDF5 files — `pbmc_h5ad` (CSR), `pbmc_h5ad_dense`, `pbmc_10x_h5` (beside
    `pbmc_nometa`: the SCP files without their metadata), `tenx_h5` (Cell Ranger's own .h5 of `tenx`) and
    `cellxgene` (`counts` shaped as CELLxGENE ships it), each loaded with no options. Only the datasets the
    collected tests need are loaded: a module marked `pytest.mark.studies("pbmc")` run alone loads pbmc alone;
    the whole suite loads every one (`studies_needed`)."""
    from loader import load_dataset

    for dataset in studies_needed(request.session.items, STUDY_INPUTS):
        path, files = STUDY_INPUTS[dataset](request)
        load_dataset(engine_client, path, dataset=dataset, **files)
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
    return read_pbmc()


@pytest.fixture(scope="module", params=list(STUDY_READERS))
def loaded_study(request, built_store, counts_study_dir) -> tuple[str, DenseStudy, np.ndarray]:
    """(dataset, its dense numpy study, lognorm genes × cells) for each dataset of `built_store`."""
    dataset = request.param
    dense = STUDY_READERS[dataset](counts_study_dir)
    lognorm = dense.lognorm() if LOGNORM_FROM_COUNTS[dataset] else dense.matrix
    return dataset, dense, lognorm
