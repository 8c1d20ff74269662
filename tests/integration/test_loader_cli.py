"""`python -m loader` in subprocesses on stores of their own: one-line errors, kill -9 and Ctrl-C mid-load."""

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

from tests.helpers.hdf5_inputs import pbmc_h5ad
from tests.helpers.loader_inputs import ScpStudy, big_matrix, write_lines
from tests.helpers.paths import REPO, TENX_H5

INSPECT = (
    "import json, sys; from genostream.engine import open_chdb; from loader import manifest;"
    " c = open_chdb(sys.argv[1]);"
    " print(json.dumps({'partitions': sorted(map(list, manifest.stored_partitions(c))),"
    " 'statuses': {r.load_id: r.status for r in manifest.all_loads(c)}}))"
)


def loader(store: Path, *args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}

    def limit() -> None:  # Python ignores SIGXFSZ, so an over-limit write fails with EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "loader", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit if file_size_limit else None,
    )


def inspect(store: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", INSPECT, str(store)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def listed(store: Path) -> dict[str, dict]:
    result = loader(store, "list", "--json")
    assert result.returncode == 0, result.stderr
    return {d["name"]: d for d in json.loads(result.stdout)}


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_load_list_drop_roundtrip(tmp_path: Path) -> None:
    store = tmp_path / "chdb"
    study = ScpStudy().write(tmp_path / "tiny_study")
    result = loader(store, "load", str(study))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded tiny_study (scp, counts): 5 genes × 4 cells, 7 non-zeros")
    entry = listed(store)["tiny_study"]
    assert (entry["n_genes"], entry["n_cells"], entry["nnz"], entry["value_kind"]) == (5, 4, 7, "counts")
    assert loader(store, "drop", "tiny_study").returncode == 0
    assert listed(store) == {}
    assert "no dataset named 'tiny_study'" in one_line_error(loader(store, "drop", "tiny_study"))


def test_errors_are_one_line(tmp_path: Path) -> None:
    store = tmp_path / "chdb"
    study = ScpStudy()
    study.matrix[5] = "9 2 4"
    bad = study.write(tmp_path / "bad")
    message = one_line_error(loader(store, "load", str(bad)))
    assert message == f"error: {bad}/gene_sorted-tiny.matrix.mtx:6: row index 9 out of range 1..5 (genes)"
    assert "directory not found" in one_line_error(loader(store, "load", str(tmp_path / "nowhere")))
    assert "must start with a letter" in one_line_error(loader(store, "load", str(bad), "--dataset", "a b"))
    assert "synth needs --cells" in one_line_error(loader(store, "synth", str(tmp_path / "s")))


def test_damaged_gzip_is_one_line_naming_the_file(tmp_path: Path) -> None:
    study = ScpStudy()
    study.barcodes = [f"C{j}-1" for j in range(20_000)]
    directory = study.write(tmp_path / "gz", gz=True)
    path = directory / "tiny.barcodes.tsv.gz"
    path.write_bytes(path.read_bytes()[:-200])
    message = one_line_error(loader(tmp_path / "chdb", "load", str(directory)))
    assert message == f"error: {path}: compressed data ends early or is corrupt (truncated or damaged .gz?)"


def test_detect_exit_codes(tmp_path: Path) -> None:
    good = ScpStudy().write(tmp_path / "good")
    result = loader(tmp_path / "chdb", "detect", str(good))
    assert result.returncode == 0 and "scp study" in result.stdout
    assert loader(tmp_path / "chdb", "detect", str(tmp_path / "missing")).returncode != 0
    write_lines(tmp_path / "half" / "matrix.mtx", ScpStudy().matrix)
    assert "no genes/features file" in one_line_error(
        loader(tmp_path / "chdb", "detect", str(tmp_path / "half"))
    )


@pytest.fixture(scope="module")
def big_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Big enough (3M entries, several batches) that a load can be interrupted midway."""
    directory = tmp_path_factory.mktemp("big")
    study = ScpStudy()
    study.genes = [f"G{i}" for i in range(2000)]
    study.barcodes = [f"C{j}-1" for j in range(4000)]
    study.metadata = None
    study.matrix = []
    study.write(directory)
    big_matrix(directory / study.names["matrix"], 2000, 4000, 1500)
    return directory


def _start_and_wait_for_matrix(store: Path, directory: Path, dataset: str) -> subprocess.Popen[bytes]:
    """Start a load and return once its progress shows matrix batches going in."""
    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    process = subprocess.Popen(
        [sys.executable, "-m", "loader", "load", str(directory), "--dataset", dataset, "--progress"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + 60
    while b"rows/s" not in seen and time.monotonic() < deadline:
        chunk = os.read(process.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    assert b"rows/s" in seen, seen.decode(errors="replace")
    return process


@pytest.mark.parametrize("how", ["kill", "ctrl_c"])
def test_interrupted_load_keeps_previous_version(tmp_path: Path, big_study: Path, how: str) -> None:
    store = tmp_path / "chdb"
    assert loader(store, "load", str(ScpStudy().write(tmp_path / "small")), "--dataset", "k").returncode == 0
    before = listed(store)["k"]
    process = _start_and_wait_for_matrix(store, big_study, "k")
    process.send_signal(signal.SIGKILL if how == "kill" else signal.SIGINT)
    _, err = process.communicate(timeout=60)
    after = listed(store)["k"]
    assert (after["load_id"], after["nnz"]) == (before["load_id"], before["nnz"])
    state = inspect(store)
    interrupted = next(lid for lid in state["statuses"] if lid != before["load_id"])
    if how == "kill":
        assert process.returncode == -signal.SIGKILL
        assert ["k", interrupted] in state["partitions"]  # leftovers until the next run
        assert state["statuses"][interrupted] == "loading"
        assert (
            loader(store, "load", str(ScpStudy().write(tmp_path / "o")), "--dataset", "other").returncode == 0
        )
        state = inspect(store)
    else:
        assert process.returncode == 130
        lines = [line for line in err.decode().replace("\r", "\n").splitlines() if line.startswith("error")]
        assert lines == [
            "error: load of k interrupted; its partial data was removed and the previous version kept"
        ]
    assert ["k", interrupted] not in state["partitions"]
    assert ["k", before["load_id"]] in state["partitions"]
    assert state["statuses"][interrupted] == "failed"


MARTS_DATASETS = (
    "import json, sys; from genostream.engine import open_chdb; from loader.lease import as_utc;"
    " c = open_chdb(sys.argv[1]); rows = c.query('SELECT dataset, load_id, loaded_at FROM marts.datasets');"
    " print(json.dumps({d: [lid, as_utc(at).isoformat()] for d, lid, at in rows.result_rows}))"
)


def test_killed_load_is_current_neither_for_the_loader_nor_for_marts(tmp_path: Path, big_study: Path) -> None:
    """Right after a SIGKILL (its row still `loading`, its partitions on disk), `loader list` and a dbt build
    both name the load before it — they read one definition of "current" (`raw.current_loads`)."""
    store = tmp_path / "chdb"
    assert loader(store, "load", str(ScpStudy().write(tmp_path / "small")), "--dataset", "k").returncode == 0
    before = listed(store)["k"]
    process = _start_and_wait_for_matrix(store, big_study, "k")
    process.kill()
    process.communicate(timeout=60)
    killed = [lid for lid, status in inspect(store)["statuses"].items() if status == "loading"]
    assert len(killed) == 1 and ["k", killed[0]] in inspect(store)["partitions"]

    env = {**os.environ, "GENOSTREAM_TARGET": "embedded", "GENOSTREAM_CHDB_PATH": str(store)}
    dbt = [str(Path(sys.executable).parent / "dbt"), "run", "--select", "+datasets"]
    built = subprocess.run(
        [*dbt, "--project-dir", "dbt_project", "--profiles-dir", "."],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    query = [sys.executable, "-c", MARTS_DATASETS, str(store)]
    marts = subprocess.run(query, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert marts.returncode == 0, marts.stderr
    by_loader = {name: [d["load_id"], d["loaded_at"]] for name, d in listed(store).items()}
    assert by_loader == json.loads(marts.stdout) == {"k": [before["load_id"], before["loaded_at"]]}


def test_load_whose_writes_fail_is_refused_naming_the_file(tmp_path: Path, big_study: Path) -> None:
    """Under a file-size limit (the nearest to a full disk a test can make) the spool file clickhouse-connect
    writes for an insert fails with a bare "[Errno 27] File too large": the load is refused in one line naming
    the input file, and the previous version stays."""
    store = tmp_path / "chdb"
    assert loader(store, "load", str(ScpStudy().write(tmp_path / "small")), "--dataset", "k").returncode == 0
    before = listed(store)["k"]
    result = loader(store, "load", str(big_study), "--dataset", "k", file_size_limit=2 << 20)
    message = one_line_error(result)
    assert message.startswith(f"error: {big_study}/"), message
    assert "disk full or a file-size limit?); nothing was published and the previous version stays" in message
    after = listed(store)["k"]
    assert (after["load_id"], after["nnz"]) == (before["load_id"], before["nnz"])


def test_hdf5_studies_on_the_command_line(tmp_path: Path) -> None:
    """`detect` names the layout found by content; a bad .h5ad is one line on stderr, nothing published."""
    store = tmp_path / "chdb"
    study = pbmc_h5ad(tmp_path / "pbmc.data")
    detected = loader(store, "detect", str(study))
    assert detected.returncode == 0 and detected.stdout.startswith(f"h5ad study in {study}")
    assert loader(store, "detect", str(TENX_H5)).stdout.startswith("10x-h5 study in")
    result = loader(store, "load", str(study), "--dataset", "pbmc")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("loaded pbmc (h5ad X, real): 765 genes × 700 cells, 174,400 non-zeros")
    message = one_line_error(loader(store, "load", str(study), "--dataset", "pbmc", "--layer", "counts"))
    assert message == f"error: {study}: no matrix 'counts' to load; the file has: X (--layer)"
    message = one_line_error(loader(store, "load", str(TENX_H5), "--layer", "X"))
    assert message.endswith("--layer applies to AnnData (.h5ad) files only")
    assert listed(store)["pbmc"]["layout"] == "h5ad"
