"""What the embedded engine cannot have, listed so that the report says so: chDB has no users or access
control, so no GRANT (dbt's `grants` config) — security on an embedded store is the application's."""

from __future__ import annotations

import pytest
from dbt.tests.adapter.grants.test_incremental_grants import BaseIncrementalGrants
from dbt.tests.adapter.grants.test_invalid_grants import BaseInvalidGrants
from dbt.tests.adapter.grants.test_model_grants import BaseModelGrants
from dbt.tests.adapter.grants.test_seed_grants import BaseSeedGrants
from dbt.tests.adapter.grants.test_snapshot_grants import BaseSnapshotGrants

NO_GRANTS = pytest.mark.skip(reason="chDB has no users or access control: GRANT / CREATE USER cannot run")


@NO_GRANTS
class TestModelGrants(BaseModelGrants):
    pass


@NO_GRANTS
class TestIncrementalGrants(BaseIncrementalGrants):
    pass


@NO_GRANTS
class TestSeedGrants(BaseSeedGrants):
    pass


@NO_GRANTS
class TestSnapshotGrants(BaseSnapshotGrants):
    pass


@NO_GRANTS
class TestInvalidGrants(BaseInvalidGrants):
    pass
