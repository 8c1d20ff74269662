"""Every test belongs to one tier, named by its directory and applied here as a marker, so a tier runs alone
(`make test-unit`, `make test-integration`, `make test-browser`; `pytest -m unit`):

    tests/unit/                  unit         no engine, no dbt: seconds
    tests/integration/           integration  a temporary embedded store loaded with the test studies
    tests/integration/browser/   browser      the explorer in headless Chromium on that store
    tests/cluster/               cluster      a real ClickHouse cluster (opt-in, see its conftest)
"""

from __future__ import annotations

import pytest

from tests.helpers.tiers import tier_of


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier before `-m` selects (hence tryfirst)."""
    for item in items:
        item.add_marker(tier_of(item.path))
