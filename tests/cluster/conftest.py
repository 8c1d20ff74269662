"""Opt-in: the end-to-end suite against a real ClickHouse cluster (deploy/cluster/). Every test here is marked
`cluster` and skipped unless GENOSTREAM_CLUSTER_HOST names one of the cluster's servers:

    CLUSTER_SECRET=… docker compose -f deploy/cluster/docker-compose.yml up -d clickhouse-01 clickhouse-02
    GENOSTREAM_CLUSTER_HOST=localhost .venv/bin/python -m pytest -m cluster tests/cluster

It loads the test studies as datasets pbmc, tenx and counts (replacing any of that name): use a scratch
cluster. CLICKHOUSE_PORT/USER/PASSWORD (default 8123, genostream/genostream as in the compose file),
GENOSTREAM_CLUSTER (genostream) and ANALYST_PASSWORD (analyst) are read as usual. Nothing here has run on
this project's machines (no Docker): the first run on a cluster is the real test of the cluster mode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from genostream.config import EngineSettings
from tests.helpers.dbt import run_dbt
from tests.helpers.paths import PBMC_DIR, TENX_DIR

# The store-independent fixtures of the embedded suite (they reach the store through the ones below).
from tests.integration.conftest import (  # noqa: F401
    api,
    counts_study_dir,
    gateway_app,
    loaded_study,
    pbmc_dense,
)

HOST_VARIABLE = "GENOSTREAM_CLUSTER_HOST"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(HOST_VARIABLE):
        return
    skip = pytest.mark.skip(reason=f"no cluster: set {HOST_VARIABLE} to a server of one (deploy/cluster/)")
    for item in items:
        if item.get_closest_marker("cluster"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cluster_engine() -> EngineSettings:
    """The cluster as every entry point sees it: the process environment now names it (dbt's profile and the
    gateway read the same variables)."""
    os.environ.update(
        {
            "GENOSTREAM_TARGET": "cluster",
            "CLICKHOUSE_HOST": os.environ[HOST_VARIABLE],
            "CLICKHOUSE_PORT": os.environ.get("CLICKHOUSE_PORT", "8123"),
            "CLICKHOUSE_USER": os.environ.get("CLICKHOUSE_USER", "genostream"),
            "CLICKHOUSE_PASSWORD": os.environ.get("CLICKHOUSE_PASSWORD", "genostream"),
        }
    )
    engine = EngineSettings.from_env()
    assert engine.clustered
    return engine


@pytest.fixture(scope="session")
def engine_client(cluster_engine: EngineSettings) -> Iterator:
    from genostream.engine import get_client

    client = get_client(cluster_engine)
    yield client
    client.close()


@pytest.fixture(scope="session")
def built_store(engine_client, counts_study_dir: Path) -> str:  # noqa: F811
    """The cluster with the test studies loaded and built, as the embedded suite's `built_store`."""
    from loader import load_dataset

    load_dataset(engine_client, PBMC_DIR, dataset="pbmc")
    load_dataset(engine_client, TENX_DIR, dataset="tenx")
    load_dataset(engine_client, counts_study_dir, dataset="counts")
    run_dbt("build", "--target", "cluster")
    return os.environ[HOST_VARIABLE]
