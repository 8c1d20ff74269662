"""`dbt build` in subprocesses on stores of their own, when things go wrong: killed mid-model, or its writes
cut short (a file-size limit, the nearest to a full disk a test can make). The next build must clean up, and a
build whose data did not reach the disk intact must fail, never report success."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.paths import PBMC_DIR, REPO


def _env(store: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GENOSTREAM_TARGET": "embedded",
        "GENOSTREAM_CHDB_PATH": str(store),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONUNBUFFERED": "1",  # each debug line reaches the test as dbt writes it
    }


def _dbt_command(work: Path, *args: str) -> list[str]:
    """dbt in a subprocess; its own files go to `work` (not the repository), no log file."""
    return [
        str(Path(sys.executable).with_name("dbt")),
        *args,
        "--project-dir",
        str(REPO / "dbt_project"),
        "--profiles-dir",
        str(REPO),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
        "--log-level-file",
        "none",
    ]


def dbt(
    store: Path, work: Path, *args: str, file_size_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # Python ignores SIGXFSZ, so an over-limit write fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        _dbt_command(work, *args),
        cwd=REPO,
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=limit if file_size_limit else None,
    )


def load(store: Path, directory: Path, dataset: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "loader", "load", str(directory), "--dataset", dataset, "--no-progress"],
        cwd=REPO,
        env=_env(store),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def query(store: Path, sql: str) -> list[list]:
    """Rows of `sql` from a fresh process (what the next gateway or build would see after a restart)."""
    code = (
        "import json, sys; from genostream.engine import open_chdb; c = open_chdb(sys.argv[1]);"
        " print(json.dumps([list(r) for r in c.query(sys.argv[2]).result_rows], default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(store), sql], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def big_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic study whose expression partition takes seconds to build and tens of MB on disk."""
    from loader.synth import SynthSpec, write_study

    directory = tmp_path_factory.mktemp("big_synth")
    write_study(directory, SynthSpec(cells=4000, genes=2000, nnz=1_600_000, seed=5))
    return directory


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, big_study: Path) -> tuple[Path, Path]:
    """(store, dbt work dir): pbmc and the big study loaded and built once; the tests below share it, each
    leaving it built and consistent."""
    store, work = tmp_path_factory.mktemp("store") / "chdb", tmp_path_factory.mktemp("dbt")
    load(store, PBMC_DIR, "pbmc")
    load(store, big_study, "big")
    result = dbt(store, work, "build")
    assert result.returncode == 0, result.stdout[-3000:]
    return store, work


LEFTOVERS_SQL = (
    "SELECT name FROM system.tables WHERE database IN ('marts', 'intermediate', 'staging')"
    " AND position(name, '__dbt_') > 0"
)


def test_build_killed_mid_model_leaves_nothing_after_the_next_build(built, big_study: Path) -> None:
    store, work = built
    load(store, big_study, "big")  # a new load: the next build recomputes big's expression partition
    process = subprocess.Popen(
        _dbt_command(work, "--debug", "build"),
        cwd=REPO,
        env=_env(store),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    for line in process.stdout:  # the debug log shows each statement before it runs
        if "insert into" in line.lower() and "expression__dbt_new_data_" in line:
            break
        assert time.monotonic() < deadline
    # Kill at once: the scratch table exists (created before this insert) and the insert has just begun. On a
    # quiet machine the insert of this study takes well under a second, so waiting here would find it done.
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    leftovers = [name for (name,) in query(store, LEFTOVERS_SQL)]
    assert any(name.startswith("expression__dbt_new_data_") for name in leftovers), leftovers

    result = dbt(store, work, "build")
    assert result.returncode == 0, result.stdout[-3000:]
    assert query(store, LEFTOVERS_SQL) == []
    counts = dict(query(store, "SELECT dataset, count() FROM marts.expression GROUP BY dataset"))
    expected = dict(query(store, "SELECT dataset, nnz FROM marts.datasets"))
    assert counts == expected


def test_build_whose_writes_are_cut_short_fails(built, big_study: Path) -> None:
    """A file-size limit below the size of the biggest column file the build writes. Creating a table, the
    engine commits the cut parts without an error and dbt says "OK created" (an incremental REPLACE PARTITION
    happens to check file sizes; a full refresh does not), so only our read-back can tell. The build must
    fail; once the limit is gone, the next build repairs the marts."""
    store, work = built
    [[biggest]] = query(
        store,
        "SELECT max(column_bytes_on_disk) FROM system.parts_columns"
        " WHERE active AND database = 'marts' AND table = 'expression'",
    )
    limit = int(biggest) // 2
    assert limit > 2_000_000  # above dbt's own files (manifest, run results): only the engine's are cut
    result = dbt(store, work, "build", "--full-refresh", file_size_limit=limit)
    assert result.returncode != 0, result.stdout[-3000:]
    assert "CANNOT_READ_ALL_DATA" in result.stdout, result.stdout[-3000:]

    result = dbt(store, work, "build")  # the engine has detached the damaged parts; the build puts them back
    assert result.returncode == 0, result.stdout[-3000:]
    counts = dict(query(store, "SELECT dataset, count() FROM marts.expression GROUP BY dataset"))
    assert counts == dict(query(store, "SELECT dataset, nnz FROM marts.datasets"))
