"""Run dbt in this process, as the tests do (it shares the session's embedded engine)."""

from __future__ import annotations

import pytest

from tests.helpers.paths import REPO


def run_dbt(*args: str) -> None:
    """Run a dbt command in this process (it shares the session's embedded engine); fail the test on error."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [*args, "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO), "--quiet"]
    )
    if not result.success:
        failed = [r for r in (result.result or []) if r.status in ("error", "fail")]
        detail = result.exception or [f"{r.node.name}: {r.message}" for r in failed]
        pytest.fail(f"dbt {' '.join(args)} failed: {detail}")
