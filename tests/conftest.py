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
