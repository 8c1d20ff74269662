"""What a wheel carries: pyproject.toml lists packages by hand (the dbt project is a mapped folder), so these
tests hold the list equal to the code's packages and the package data globs to the dbt project's files."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from tests.helpers.paths import REPO

SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
CODE_PACKAGES = ("genostream", "genostream_cli", "loader", "gateway", "bench")
# Files of dbt_project/ a build never reads: sqlfluff's stand-ins for dbt's Jinja context.
LINT_ONLY = ".sqlfluff_context/"


def test_every_code_package_is_listed() -> None:
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in CODE_PACKAGES
        for init in (REPO / top).rglob("__init__.py")
    }
    listed = set(SETUPTOOLS["packages"])
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    mapped = {"genostream.dbt_project", "dbt.adapters.chdb", "dbt.include.chdb"}
    assert listed - on_disk == mapped
    assert mapped <= set(SETUPTOOLS["package-dir"])


def test_every_file_of_the_dbt_project_ships() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "dbt_project"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "dbt_project/dbt_project.yml" in tracked
    globs = SETUPTOOLS["package-data"]["genostream.dbt_project"]
    root = REPO / "dbt_project"
    shipped = {os.path.relpath(p, REPO) for g in globs for p in root.glob(g) if p.is_file()}
    missing = [f for f in tracked if f not in shipped and not f.startswith(f"dbt_project/{LINT_ONLY}")]
    assert missing == [], "extend the genostream.dbt_project package-data globs in pyproject.toml"
    assert "profiles.yml" in shipped  # "../profiles.yml": beside the project in the package too
    assert not any(p.startswith(("dbt_project/target/", "dbt_project/logs/")) for p in shipped)


def test_the_command_is_installed() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"genostream": "genostream_cli.main:main"}
    assert Path(REPO / "genostream_cli" / "main.py").is_file()
