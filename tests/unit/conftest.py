"""Store-free tests: nothing here may open an engine or run dbt, so any test that tries fails at once
(store-backed tests and dbt runs belong in tests/integration/)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import clickhouse_connect
import pytest


@pytest.fixture(scope="package", autouse=True)
def no_engine() -> Iterator[None]:
    """Opening any ClickHouse client (embedded or server) or importing dbt's runner fails the test (package
    scope: set before any module-scoped fixture runs, undone when the unit tests are done)."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a unit test opened an engine client; move it to tests/integration/")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clickhouse_connect, "get_client", refuse)
        # `from dbt.cli.main import dbtRunner` now raises ImportError ("halted; None in sys.modules").
        patch.setitem(sys.modules, "dbt.cli.main", None)
        yield
