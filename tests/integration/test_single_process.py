"""chDB locks its directory: every entry point must say so in one sentence, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from genostream.engine import open_chdb, store_locked_by_other_process
from genostream.errors import StoreLockedError
from tests.helpers.paths import REPO

BIN = Path(sys.executable).parent
HOLD = (
    "import sys, time; from genostream.engine import open_chdb; c = open_chdb(sys.argv[1]);"
    " c.command('SELECT 1'); print('ready', flush=True); time.sleep(120)"
)


@pytest.fixture(scope="module")
def held_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store directory held open by another process for the duration of the module."""
    path = tmp_path_factory.mktemp("held") / "chdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    yield path
    holder.kill()
    holder.wait()


def run_entry_point(args: list[str], store: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_lock_is_detected_without_touching_the_engine(held_store: Path) -> None:
    assert store_locked_by_other_process(held_store)
    with pytest.raises(StoreLockedError, match="in use by another process"):
        open_chdb(held_store)


@pytest.mark.parametrize(
    "args",
    [
        [sys.executable, "-m", "loader", "list"],
        [sys.executable, "-m", "gateway", "--host", "127.0.0.1", "--port", "0"],
    ],
    ids=["loader", "gateway"],
)
def test_python_entry_points_print_one_sentence(held_store: Path, args: list[str]) -> None:
    result = run_entry_point(args, held_store)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "in use by another process" in lines[0]
    assert str(held_store.resolve()) in lines[0]


def test_dbt_reports_the_locked_store(held_store: Path) -> None:
    result = run_entry_point(
        [str(BIN / "dbt"), "build", "--project-dir", "dbt_project", "--profiles-dir", "."], held_store
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "in use by another process" in output
    assert "Traceback" not in output
