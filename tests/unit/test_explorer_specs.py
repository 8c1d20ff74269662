"""The explorer's chart specs (gateway/static/explorer/specs.js) under node's own test runner: pure functions,
so no browser is needed (the drawn charts are checked in tests/integration/browser/)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers.paths import REPO

JS_TESTS = REPO / "tests" / "unit" / "js"


def test_chart_specs_pass_their_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        reason = "node (>= 20) is not installed; the explorer's spec tests need it"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {reason}", pytrace=False)
        pytest.skip(reason)
    run = subprocess.run(
        [node, "--test", str(JS_TESTS)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
