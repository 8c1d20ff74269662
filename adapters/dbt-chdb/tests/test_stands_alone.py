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


HOLD = (
    "import sys, time, clickhouse_connect;"
    " client = clickhouse_connect.get_client(interface='chdb', path=sys.argv[1]); client.command('SELECT 1');"
    " print('ready', flush=True); time.sleep(60)"
)
OPEN = """
import sys
from dbt.adapters.chdb.connections import ChdbClient, ChdbCredentials
from dbt.adapters.exceptions import FailedToConnectError

try:
    ChdbClient(ChdbCredentials(path=sys.argv[1], schema="probe", database=""))
except FailedToConnectError as exc:
    print(exc.msg)
"""


def test_a_store_held_by_another_process_is_one_sentence(tmp_path: Path) -> None:
    """chDB admits one process per directory: the plugin says so in one sentence, before the engine would
    print errors of its own."""
    store = tmp_path / "held"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        opening = [sys.executable, "-c", OPEN, str(store)]
        probe = subprocess.run(opening, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == (
        f"the store at {store.resolve()} is in use by another process — stop it (a gateway, a load or "
        "another dbt run) first: the embedded engine allows one process at a time"
    )
    assert probe.stderr.strip() == ""
