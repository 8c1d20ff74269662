"""Store-free tests: nothing here may open an engine, so any test that tries fails at once (store-backed tests
belong in tests/integration/)."""

from __future__ import annotations

import clickhouse_connect
import pytest


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening any ClickHouse client (embedded or server) fails the test."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a unit test opened an engine client; move it to tests/integration/")

    monkeypatch.setattr(clickhouse_connect, "get_client", refuse)
