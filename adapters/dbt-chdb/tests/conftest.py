"""dbt's adapter test framework against `type: chdb`.

chDB runs one engine per process, on one directory: the whole session shares one store in a temporary
directory, and every test class works in a schema of its own (the framework's `unique_schema`), created before
the class and dropped after it — the isolation dbt's framework gives every adapter.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

# Snapshot and microbatch tests compare timestamps written by the engine with Python's: one zone for both.
os.environ["TZ"] = "UTC"
time.tzset()

pytest_plugins = ["dbt.tests.fixtures.project"]


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's embedded store (one per process is all chDB allows)."""
    return tmp_path_factory.mktemp("chdb") / "store"


@pytest.fixture(scope="class")
def dbt_profile_target(chdb_store: Path) -> dict:
    """The profile every test class's project runs with; the framework adds its unique schema."""
    return {
        "type": "chdb",
        "path": str(chdb_store),
        "user": "default",  # chDB has no users; the framework's docs tests read the field
        "threads": 4,
        "custom_settings": {"input_format_skip_unknown_fields": 1},
    }
