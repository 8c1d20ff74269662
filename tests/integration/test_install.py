"""`pip install <checkout>` into a fresh virtual environment, then `genostream launch study.h5ad` from a
directory outside the repository: exact answers, a second launch serving within seconds, `genostream list`
showing the study, Ctrl-C exiting 0.

The package itself is installed for real (a wheel built from a copy of the working tree, non-editable), but
with --no-deps and a .pth onto the project's .venv site-packages for its dependencies: a full install from
the warm pip cache took 3 min 46 s on the 2-core CI machine, most of the default suite's budget. The
dependencies are the same pinned versions either way; what this tests is what the wheel carries (code, the
dbt project and profile, the dbt-chdb plugin, static files) and the installed command.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import anndata
import numpy as np
import pytest
import requests
from scipy import stats

from tests.helpers.hdf5_inputs import pbmc_h5ad
from tests.helpers.launch import launch
from tests.helpers.paths import REPO

pytestmark = pytest.mark.install

# Serving a study already loaded from the same bytes: hashing it and opening the store, no load, no build.
SECOND_LAUNCH_S = 10.0


def _working_tree(target: Path) -> Path:
    """The project's files as `git` sees them (tracked and new, nothing ignored): what a checkout holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory outside the repository: the user's working directory, data and cache."""
    return tmp_path_factory.mktemp("user")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the package installed from a copy of the working tree."""
    checkout = _working_tree(tmp_path_factory.mktemp("checkout"))
    root = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    subprocess.run(
        [root / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", str(checkout)],
        check=True,
        capture_output=True,
        text=True,
    )
    (site,) = root.glob("lib/python*/site-packages")
    (site / "genostream_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


@pytest.fixture(scope="module")
def user_env(home: Path, venv: Path) -> dict[str, str]:
    """The environment of a user who only installed the package: no project variables, XDG dirs of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENOSTREAM_", "CLICKHOUSE_", "PYTHON"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
    )
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


@pytest.fixture(scope="module")
def study(home: Path) -> Path:
    return pbmc_h5ad(home / "pbmc.h5ad", "csr")


def genostream(user_env: dict[str, str], home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["genostream", *args], cwd=home, env=user_env, capture_output=True, text=True, timeout=300
    )


def test_the_installed_package_is_used(venv: Path, user_env: dict[str, str], home: Path) -> None:
    code = "import genostream, genostream_cli, gateway, loader; print(genostream.__file__, gateway.__file__)"
    shown = subprocess.run(
        [venv / "bin" / "python", "-c", code], cwd=home, env=user_env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert all(path.startswith(str(venv)) for path in shown.stdout.split()), shown.stdout
    assert (venv / "bin" / "genostream").is_file()
    # The plugin rides in the wheel (with a full install it is the only copy; here dbt-core's own
    # dbt.adapters package, from the .pth, lists the project's copy first).
    (site,) = venv.glob("lib/python*/site-packages")
    assert (site / "dbt" / "adapters" / "chdb" / "connections.py").is_file()
    assert (site / "dbt" / "include" / "chdb" / "dbt_project.yml").is_file()
    assert (site / "genostream" / "profiles.yml").is_file()
    assert (site / "genostream" / "dbt_project" / "dbt_project.yml").is_file()
    assert (site / "gateway" / "sqlguard" / "sql_functions.txt").is_file()


def test_launch_serves_exact_answers_then_serves_again_at_once(
    study: Path, user_env: dict[str, str], home: Path
) -> None:
    command = ["genostream", "launch", study.name, "--no-browser", "--port", "0"]
    first = launch(command, cwd=home, env=user_env)
    try:
        assert any(line.startswith("loaded pbmc (h5ad") for line in first.lines), first.lines
        assert any(line.startswith("built the marts:") for line in first.lines), first.lines
        assert first.url == f"{first.base}/?dataset=pbmc"
        page = requests.get(first.url, timeout=30)
        assert page.status_code == 200 and "<html" in page.text.lower()

        adata = anndata.read_h5ad(study)
        matrix = np.asarray(adata.X.todense())  # cells × genes; log-normalised values (value_kind real)
        top = np.argsort(-(matrix != 0).sum(axis=0))[:2]
        gene_a, gene_b = (str(adata.var_names[i]) for i in top)
        body = {"dataset": "pbmc", "gene_a": gene_a, "gene_b": gene_b}
        got = requests.post(f"{first.base}/gene-correlation", json=body, timeout=60).json()
        expected = stats.pearsonr(matrix[:, top[0]], matrix[:, top[1]])
        assert got["observation_count"] == adata.n_obs
        assert np.isclose(got["pearson_correlation"], expected.statistic, rtol=1e-6, atol=1e-12)
        assert np.isclose(got["p_value"], expected.pvalue, rtol=1e-6, atol=1e-12)
    finally:
        status = first.stop()
    assert status == 0, first.lines
    assert first.lines[-1] == "stopped; the store is released"

    listed = genostream(user_env, home, "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("pbmc\treal\t") and "700 cells" in listed.stdout
    assert (home / "data" / "genostream" / "chdb").is_dir()  # the default store: the user's data directory

    started = time.perf_counter()
    second = launch(command, cwd=home, env=user_env)
    try:
        assert time.perf_counter() - started < SECOND_LAUNCH_S, second.lines
        assert "skipping load and build" in second.lines[0], second.lines
        datasets = requests.get(f"{second.base}/datasets", timeout=30).json()["datasets"]
        assert [d["dataset"] for d in datasets] == ["pbmc"]
    finally:
        assert second.stop() == 0, second.lines


def test_bad_input_is_one_line_and_non_zero(user_env: dict[str, str], home: Path) -> None:
    missing = genostream(user_env, home, "launch", "absent.h5ad", "--no-browser")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1, missing.stderr
    refused = genostream(user_env, home, "sql", "DROP TABLE marts.cells")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
