"""dbt unit tests (`unit_tests:` in YAML): value types, case-insensitive column names, invalid input."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.unit_testing.test_case_insensitivity import BaseUnitTestCaseInsensivity
from dbt.tests.adapter.unit_testing.test_invalid_input import BaseUnitTestInvalidInput
from dbt.tests.adapter.unit_testing.test_types import BaseUnitTestingTypes


class TestUnitTestingTypes(BaseUnitTestingTypes):
    @pytest.fixture
    def data_types(self):
        """(SQL value, YAML value) pairs in ClickHouse's spelling: its timestamps carry no `-0` offset (the
        zone is part of the type), and it has no JSON cast of the framework's form."""
        return [
            ["1", "1"],
            ["'1'", "1"],
            ["true", "true"],
            ["DATE '2020-01-02'", "2020-01-02"],
            ["TIMESTAMP '2013-11-03 00:00:00'", "2013-11-03 00:00:00"],
            ["toDateTime('2013-11-03 00:00:00', 'UTC')", "2013-11-03 00:00:00"],
            ["'1'::numeric", "1"],
        ]


class TestUnitTestCaseInsensitivity(BaseUnitTestCaseInsensivity):
    pass


class TestUnitTestInvalidInput(BaseUnitTestInvalidInput):
    pass
