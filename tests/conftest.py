"""Shared fixtures: one embedded store per test session, loaded once with the real test studies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PBMC_DIR = SHARED_DATA / "pbmc68k_scp"
TENX_DIR = SHARED_DATA / "tenx_v2_hg19_chr21"


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
        detail = result.exception or [
            f"{r.node.name}: {r.message}" for r in (result.result or []) if r.status not in ("success", "pass")
        ]
        pytest.fail(f"dbt {' '.join(args)} failed: {detail}")


@pytest.fixture(scope="session")
def engine_client(store_path: Path):
    """A client on the session store (other in-process clients, dbt's included, share its engine)."""
    from genostream.engine import open_chdb

    client = open_chdb(store_path)
    yield client
    client.close()


@pytest.fixture(scope="session")
def built_store(store_path: Path, engine_client) -> Path:
    """The session store with the real test studies loaded (`pbmc`: real-valued, `tenx`: counts) and built."""
    from loader.api import load_dataset

    load_dataset(engine_client, PBMC_DIR, dataset="pbmc")
    load_dataset(engine_client, TENX_DIR, dataset="tenx")
    run_dbt("build")
    return store_path
