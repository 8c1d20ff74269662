"""Run dbt in this process, as the tests do (it shares the session's embedded engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.paths import REPO


def invoke_dbt(*args: str) -> Any:
    """Run a dbt command in this process (it shares the session's embedded engine); dbt's result."""
    from dbt.cli.main import dbtRunner

    return dbtRunner().invoke(
        [*args, "--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO), "--quiet"]
    )


def failures(result: Any) -> list[Any]:
    """The node results of a dbt result that failed or errored."""
    return [r for r in (result.result or []) if r.status in ("error", "fail")]


def run_dbt(*args: str) -> None:
    """Run a dbt command in this process; fail the test on error."""
    result = invoke_dbt(*args)
    if not result.success:
        detail = result.exception or [f"{r.node.name}: {r.message}" for r in failures(result)]
        pytest.fail(f"dbt {' '.join(args)} failed: {detail}")


def parse_manifest(target: str, target_path: Path) -> dict[str, Any]:
    """`dbt parse --target <target>` (needs no connection) and its manifest."""
    result = invoke_dbt("parse", "--no-partial-parse", "--target", target, "--target-path", str(target_path))
    assert result.success, result.exception
    return json.loads((target_path / "manifest.json").read_text())
