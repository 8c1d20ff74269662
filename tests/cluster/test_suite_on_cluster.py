"""The embedded suite's oracle tests (marts against numpy/scipy row by row, every gateway endpoint, /sql),
run unchanged against a real cluster through this directory's fixtures. Opt-in: see conftest.py."""

from __future__ import annotations

from tests.integration.test_explorer_api import *  # noqa: F403
from tests.integration.test_gateway_api import *  # noqa: F403
from tests.integration.test_gateway_sql import *  # noqa: F403
from tests.integration.test_marts_layers import *  # noqa: F403
from tests.integration.test_marts_oracle import *  # noqa: F403

# about the embedded store's single-process lock, not about the data
del test_store_locked_by_another_process_is_503  # noqa: F821
