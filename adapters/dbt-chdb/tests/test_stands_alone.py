"""The plugin is a distribution of its own: loading it and opening a connection imports nothing of the
application it was written for, only what its pyproject.toml declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROBE = """
import sys
from dbt.adapters.chdb import Plugin
from dbt.adapters.chdb.connections import ChdbClient, ChdbCredentials

credentials = ChdbCredentials(path=sys.argv[1], schema="probe", database="")
ChdbClient(credentials).command("SELECT 1")
ours = sorted(m for m in sys.modules if m.split(".")[0] in {"genostream", "loader", "gateway", "bench"})
print(",".join(ours))
"""


def test_connecting_imports_nothing_of_the_application(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == ""
