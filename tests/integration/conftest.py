"""Fixtures for the store-backed tests: one embedded store per test session, loaded once with the test studies
(helpers the tests import are in tests/helpers/)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.dbt import run_dbt
from tests.helpers.oracle import DenseStudy
from tests.helpers.paths import PBMC_DIR, TENX_DIR
from tests.helpers.studies import (
    LOGNORM_FROM_COUNTS,
    STUDY_READERS,
    read_pbmc,
    write_counts_study,
    write_demo_like_study,
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
def built_store(store_path: Path, engine_client, counts_study_dir: Path, demo_study_dir: Path) -> Path:
    """The session store with the test studies loaded and built: `pbmc` (real-valued), `tenx` (10x counts,
    no metadata), `counts` (synthetic SCP counts with edge cases) and `demo` (like `make run`'s demo)."""
    from loader.api import load_dataset

    load_dataset(engine_client, PBMC_DIR, dataset="pbmc")
    load_dataset(engine_client, TENX_DIR, dataset="tenx")
    load_dataset(engine_client, counts_study_dir, dataset="counts")
    load_dataset(engine_client, demo_study_dir, dataset="demo")
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
